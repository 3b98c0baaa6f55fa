"""A rule's source: the lines around ``file:line`` with that line marked — where a trace entry or the palette's
"jump to a rule" leads."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from rich.console import Group
from rich.table import Table
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


def excerpt(pos: str, lang: Lang, context: int = CONTEXT) -> Group:
    """The file's lines around the position, numbered, the line itself highlighted; a long line wraps beside its
    number, not under it."""
    file, line = split_pos(pos)
    header = Text(f"{pos}\n", style="bold")
    try:
        lines = Path(file).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return Group(header, Text(t("source.missing", lang, file=file), style="red"))
    first, last = max(1, line - context), min(len(lines), line + context)
    grid = Table.grid(padding=(0, 1))
    grid.add_column(justify="right", no_wrap=True, style="dim")
    grid.add_column(overflow="fold")
    for n in range(first, last + 1):
        style = "bold reverse" if n == line else ""
        grid.add_row(Text(str(n), style=style), Text(lines[n - 1], style=style))
    return Group(header, grid)


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
