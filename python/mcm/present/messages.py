"""The engine's texts in the display language: :func:`render` writes a
:class:`~mcm.engine.messages.Message` (a why-not, a warning, a trace explanation or note, the infeasibility) in
English or Chinese; any other text (a reason or caveat from a rules file, a name) is returned as written.

The result is plain text: faces still pass it through :mod:`mcm.sanitize` where they show it.
"""

from __future__ import annotations

from mcm.engine.messages import ENGLISH, Catalogue
from mcm.engine.messages import render as _render
from mcm.present.language import Lang


def catalogue(lang: Lang) -> Catalogue:
    """The engine's message templates in ``lang``."""
    if lang == "zh":
        from mcm.present.messages_zh import CHINESE

        return CHINESE
    return ENGLISH


def render(text: str | None, lang: Lang) -> str:
    """``text`` in ``lang`` when it is an engine message, else as written; None is the empty string."""
    return _render(text, catalogue(lang))


__all__ = ["catalogue", "render"]
