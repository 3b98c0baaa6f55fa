"""What every step screen shares: the step bar on top, the footer with its bindings, the session and language."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, ClassVar, cast

from textual.app import ComposeResult
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Footer, Static

from mcm.exceptions import McmError
from mcm.present.language import Lang
from mcm.sanitize import inline
from mcm.tui.i18n import localize_bindings, t
from mcm.tui.widgets.steps import StepBar

if TYPE_CHECKING:
    from mcm.tui.app import McmApp
    from mcm.tui.session import Session


def show_error(widget: Static, text: str) -> None:
    """Show an error line, or hide it while there is none."""
    widget.update(text)
    widget.display = bool(text)


def problem(error: McmError) -> str:
    """An error's message and hint on one line, escaped (it may quote a file or what the user typed)."""
    return inline(f"{error} — {error.hint}" if error.hint else str(error))


class StepScreen(Screen[None]):
    """A step of the walk; subclasses give :attr:`STEP`, :meth:`body` and :meth:`refresh_view`."""

    STEP: ClassVar[str] = ""

    def __init__(self) -> None:
        super().__init__()
        localize_bindings(self, self.lang)

    @property
    def mcm(self) -> McmApp:
        return cast("McmApp", self.app)

    @property
    def session(self) -> Session:
        return self.mcm.session

    @property
    def lang(self) -> Lang:
        return self.mcm.lang

    def tr(self, key: str, **values: object) -> str:
        return t(key, self.lang, **values)

    def compose(self) -> ComposeResult:
        yield StepBar(self.STEP, self.lang)
        yield from self.body()
        yield Footer()

    def body(self) -> Iterable[Widget]:
        return ()

    def on_screen_resume(self) -> None:
        self.refresh_view()

    def refresh_view(self) -> None:
        """Show the session as it is now (called each time the screen comes back)."""


__all__ = ["StepScreen", "problem", "show_error"]
