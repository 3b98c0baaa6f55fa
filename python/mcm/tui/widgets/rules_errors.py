"""Rules that failed to load, shown like the compiler does: ``file:line:col: error[CODE]``, the source line with a
caret, then the hint — never a traceback."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from mcm.exceptions import McmError, RulesError
from mcm.present.language import Lang
from mcm.tui.i18n import t


def describe(error: McmError, lang: Lang) -> Text:
    """The diagnostics of ``error`` (a RulesError), or its message and hint."""
    out = Text(t("rules.error", lang) + "\n\n", style="bold red")
    if isinstance(error, RulesError) and error.diagnostics:
        for d in error.diagnostics:
            out.append(d.render() + "\n\n", style="red" if d.severity == "error" else "yellow")
    else:
        out.append(str(error) + "\n", style="red")
        if error.hint:
            out.append(f"hint: {error.hint}\n\n")
    out.append(t("rules.fix", lang), style="bold")
    return out


class RulesErrors(Static):
    """A banner with every diagnostic of a rules error; hidden while there is none."""

    DEFAULT_CSS = """
    RulesErrors { height: auto; border: heavy $error; padding: 0 1; }
    """

    def __init__(self, lang: Lang, *, id: str | None = None) -> None:
        super().__init__("", id=id, markup=False)
        self.lang = lang

    def show_error(self, error: McmError | None) -> None:
        self.display = error is not None
        self.update(describe(error, self.lang) if error is not None else "")


__all__ = ["RulesErrors", "describe"]
