"""A rule's source: the lines around ``file:line`` with that line marked — where a trace entry or the palette's
"jump to a rule" leads."""

from __future__ import annotations

from pathlib import Path

from rich.console import Group
from rich.table import Table
from rich.text import Text

from mcm.present.language import Lang
from mcm.sanitize import inline
from mcm.tui.i18n import t
from mcm.tui.screens.popup import Popup

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
    header = Text(f"{inline(pos)}\n", style="bold")
    try:
        lines = Path(file).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return Group(header, Text(t("source.missing", lang, file=inline(file)), style="red"))
    first, last = max(1, line - context), min(len(lines), line + context)
    grid = Table.grid(padding=(0, 1))
    grid.add_column(justify="right", no_wrap=True, style="dim")
    grid.add_column(overflow="fold")
    for n in range(first, last + 1):
        style = "bold reverse" if n == line else ""
        grid.add_row(Text(str(n), style=style), Text(inline(lines[n - 1]), style=style))
    return Group(header, grid)


class SourceScreen(Popup):
    """The source around a rule; escape closes."""

    BOX = "source"

    def __init__(self, pos: str, lang: Lang) -> None:
        self.pos = pos
        super().__init__(lang)

    def content(self) -> Group:
        return excerpt(self.pos, self.lang)


__all__ = ["SourceScreen", "excerpt", "split_pos"]
