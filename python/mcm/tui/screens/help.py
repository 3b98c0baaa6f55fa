"""The help screen: the keys, the impossible triangle and the reference's FAQ, in the app's language."""

from __future__ import annotations

from typing import ClassVar

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text
from textual.binding import Binding, BindingType

from mcm.tui.i18n import faq, t, triangle_text
from mcm.tui.screens.popup import Popup

_KEYS = (
    ("F2–F6", "step.scenario", "… step.export"),
    ("ctrl+n / ctrl+b", "key.next", "key.back"),
    ("tab / shift+tab", "", ""),
    ("↑ ↓ / j k", "help.lists", ""),
    ("space / enter / → ←", "help.trace", ""),
    ("ctrl+p", "key.palette", ""),
    ("ctrl+r", "key.reload", ""),
    ("ctrl+s", "key.write", ""),
    ("escape", "help.escape", "help.back"),
    ("F1 / ?", "help.question", ""),
    ("ctrl+q", "key.quit", ""),
)


class HelpScreen(Popup):
    """Keys, triangle and FAQ; escape, F1 or ? closes."""

    BOX = "help"
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape,f1,q,question_mark", "close", "Close")]

    def content(self) -> Group:
        lang = self.lang
        keys = Table.grid(padding=(0, 2))
        keys.add_column(no_wrap=True, style="bold")
        keys.add_column()
        focus = t("help.focus", lang)
        for key, a, b in _KEYS:
            second = ""
            if b.startswith("… "):
                second = " … " + t(b[2:], lang)
            elif b:
                second = " / " + t(b, lang)
            keys.add_row(key, (t(a, lang) if a else focus) + second)
        parts: list[RenderableType] = [
            Text(t("help.title", lang), style="bold underline"),
            Text(t("help.intro", lang)),
            Text(""),
            Text(t("help.keys", lang), style="bold cyan"),
            keys,
            Text(""),
            Text(t("help.triangle", lang), style="bold cyan"),
            Text(triangle_text(lang)),
            Text(""),
            Text(t("help.faq", lang), style="bold cyan"),
        ]
        for question, answer in faq(lang):  # one line per remedy: short lines, no break inside a CJK phrase
            remedies = [r.strip() for r in answer.replace("；", ";").split(";") if r.strip()]
            parts += [Text(question, style="bold"), *(Text(f"  • {r}") for r in remedies)]
        return Group(*parts)


__all__ = ["HelpScreen"]
