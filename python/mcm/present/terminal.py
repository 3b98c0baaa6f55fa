"""Terminal output: colour only on a TTY (and never with NO_COLOR), and tables that line up Chinese text too."""

from __future__ import annotations

import os
import sys
import unicodedata
from collections.abc import Sequence
from typing import TextIO

_CODES = {"bold": "1", "dim": "2", "red": "31", "green": "32", "yellow": "33", "cyan": "36"}


class Style:
    """Wraps text in ANSI colours when enabled."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled

    @classmethod
    def for_stream(cls, stream: TextIO | None = None) -> Style:
        stream = stream or sys.stdout
        return cls(stream.isatty() and "NO_COLOR" not in os.environ and os.environ.get("TERM") != "dumb")

    def __call__(self, text: str, *styles: str) -> str:
        if not self.enabled or not styles:
            return text
        codes = ";".join(_CODES[s] for s in styles)
        return f"\x1b[{codes}m{text}\x1b[0m"


def width(text: str) -> int:
    """Columns ``text`` takes in a terminal: wide (CJK) characters take two; ANSI colour codes none."""
    n, escape = 0, False
    for ch in text:
        if ch == "\x1b":
            escape = True
        elif escape:
            escape = ch != "m"
        elif not unicodedata.combining(ch):
            n += 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1
    return n


def table(headers: Sequence[str], rows: Sequence[Sequence[str]], style: Style) -> str:
    """A plain aligned table: a bold header, then one line per row."""
    widths = [max([width(h)] + [width(r[i]) for r in rows]) for i, h in enumerate(headers)]

    def line(cells: Sequence[str]) -> str:
        padded = [c + " " * (w - width(c)) for c, w in zip(cells, widths, strict=True)]
        return "  ".join(padded).rstrip()

    return "\n".join([style(line(headers), "bold"), *(line(r) for r in rows)])
