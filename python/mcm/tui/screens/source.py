"""A rule's source: the lines around ``file:line`` with that line marked — where a trace entry or the palette's
"jump to a rule" leads."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Footer, Static

from mcm.cli.values import Lang
from mcm.tui.i18n import localize_bindings, t

CONTEXT = 6


def split_pos(pos: str) -> tuple[str, int]:
    """``"rules/mobile.rules:20:8"`` → ``("rules/mobile.rules", 20)`` (line 0 when there is none)."""
    parts = pos.rsplit(":", 2)
    if len(parts) == 3 and parts[1].isdigit():
        return parts[0], int(parts[1])
    if len(parts) >= 2 and parts[-1].isdigit():
        return pos.rsplit(":", 1)[0], int(parts[-1])
    return pos, 0


def excerpt(pos: str, lang: Lang, context: int = CONTEXT) -> Text:
    """The file's lines around the position, numbered, the line itself highlighted."""
    file, line = split_pos(pos)
    out = Text()
    out.append(f"{pos}\n\n", style="bold")  # not Text(..., style=): that would make every line bold
    try:
        lines = Path(file).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        out.append(t("source.missing", lang, file=file), style="red")
        return out
    first, last = max(1, line - context), min(len(lines), line + context)
    width = len(str(last))
    for n in range(first, last + 1):
        style = "bold reverse" if n == line else ""
        out.append(f"{n:>{width}} │ {lines[n - 1]}\n", style=style)
    return out


class SourceScreen(ModalScreen[None]):
    """The source around a rule; escape closes."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape,q", "close", "Close")]

    def __init__(self, pos: str, lang: Lang) -> None:
        super().__init__()
        self.pos = pos
        self.lang = lang
        localize_bindings(self, lang)

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="source-box"):
            yield Static(excerpt(self.pos, self.lang), id="source-text", markup=False)
        yield Footer()

    def action_close(self) -> None:
        self.dismiss(None)


__all__ = ["SourceScreen", "excerpt", "split_pos"]
