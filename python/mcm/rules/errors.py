"""Diagnostics: every problem in a rules file has a stable code, a position and a hint, and renders like a compiler.

``file:line:col: error[E031]: message``, then the source line, a caret line, then ``hint: ...``. Codes never change
meaning; ``CODES`` is the catalogue (``mcm rules lint`` can print it).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Literal

from mcm import sanitize
from mcm.exceptions import RulesError
from mcm.rules.ast import Pos

Severity = Literal["error", "warning"]

_CATALOGUE: dict[str, tuple[Severity, str]] = {
    # reading a file
    "E001": ("error", "file cannot be read"),
    "E002": ("error", "file too large"),
    "E003": ("error", "file is not valid UTF-8"),
    "E004": ("error", "control character in the text"),
    "E005": ("error", "missing 'mcm rules 1' header"),
    "E006": ("error", "unsupported language version"),
    # syntax
    "E010": ("error", "unexpected character"),
    "E011": ("error", "syntax error"),
    "E012": ("error", "unexpected end of file"),
    "E013": ("error", "unknown keyword"),
    "E014": ("error", "not an operator"),
    "E015": ("error", "nesting too deep"),
    "E016": ("error", "unterminated string"),
    # includes
    "E020": ("error", "included file not found"),
    "E021": ("error", "include leaves the including file's directory"),
    "E022": ("error", "include cycle"),
    "E023": ("error", "too many includes"),
    "E024": ("error", "include without a directory"),
    # values, units and types
    "E030": ("error", "unknown unit"),
    "E031": ("error", "unit does not fit the metric"),
    "E032": ("error", "missing unit"),
    "E033": ("error", "unknown metric"),
    "E034": ("error", "unknown fact"),
    "E035": ("error", "number is not finite"),
    "E036": ("error", "value out of range"),
    "E037": ("error", "type error"),
    "E038": ("error", "units do not match"),
    "E039": ("error", "division by zero"),
    # definitions and references
    "E040": ("error", "duplicate definition"),
    "E041": ("error", "unknown technique"),
    "E042": ("error", "unknown scenario or decision table"),
    "E043": ("error", "unknown rule"),
    "E044": ("error", "inverted range"),
    "E045": ("error", "technique excludes itself"),
    "E046": ("error", "test does not name its decision table"),
    "E047": ("error", "reserved word used as a name"),
    "E048": ("error", "unknown stage or model form"),
    "E049": ("error", "assumed or derived fact outside env and data"),
    # decision logic
    "E050": ("error", "unreachable rule"),
    "E051": ("error", "contradictory condition"),
    "E052": ("error", "combination that never applies"),
    # lints
    "W001": ("warning", "technique never recommended"),
    "W002": ("warning", "'otherwise' is never reached"),
    "W003": ("warning", "requirement bounds the wrong side"),
    "W004": ("warning", "constraint without a requirement"),
    "W005": ("warning", "unknown value for a text fact"),
    "W006": ("warning", "technique without effects"),
    "W007": ("warning", "requirement on an ignored metric"),
    "W008": ("warning", "limit that can never be met"),
    "W009": ("warning", "technique without a stage"),
    # the safety net
    "E099": ("error", "internal error"),
}
#: Every diagnostic code with its severity and a short title.
CODES: Mapping[str, tuple[Severity, str]] = MappingProxyType(_CATALOGUE)

_WINDOW = 100


@dataclass(frozen=True, slots=True)
class Diagnostic:
    """One problem: stable ``code``, message, position (1-based line and column), source line, hint."""

    code: str
    message: str
    file: str
    line: int
    col: int
    source_line: str = ""
    hint: str | None = None
    span: int = 1

    @property
    def severity(self) -> Severity:
        return CODES[self.code][0]

    def render(self) -> str:
        """The compiler-style text: header, source line with a caret under the problem, hint; text from the file
        and its name shown through :func:`mcm.sanitize.inline`."""
        file = sanitize.inline(self.file)
        where = f"{file}:{self.line}:{self.col}" if self.line > 0 else file
        out = [f"{where}: {self.severity}[{self.code}]: {sanitize.inline(self.message)}"]
        if self.line > 0:
            shown, caret_at, span = _printable(self.source_line, self.col - 1, self.span)
            text, caret_at = _window(shown, caret_at)
            gutter = str(self.line)
            width = max(1, min(span, len(text) - caret_at))
            out.append(f" {gutter} | {text}")
            out.append(f" {' ' * len(gutter)} | {' ' * caret_at}^{'~' * (width - 1)}")
        if self.hint:
            out.append(f"hint: {sanitize.terminal(self.hint)}")
        return "\n".join(out)

    def to_dict(self) -> dict[str, object]:
        """The JSON form (stable keys)."""
        return {
            "code": self.code,
            "severity": self.severity,
            "message": self.message,
            "file": self.file,
            "line": self.line,
            "col": self.col,
            "source_line": self.source_line,
            "hint": self.hint,
            "span": self.span,
        }


def _printable(line: str, caret: int, span: int) -> tuple[str, int, int]:
    """The line as shown (tabs as one space, unsafe characters as their escapes), and where the caret and its span
    fall in it: a character shown as an escape moves what follows it."""
    head, marked, tail = line[:caret], line[caret : caret + span], line[caret + span :]
    head, marked, tail = (sanitize.inline(part.replace("\t", " ")) for part in (head, marked, tail))
    return head + marked + tail, len(head), len(marked)


def _window(text: str, caret: int) -> tuple[str, int]:
    """At most about ``_WINDOW`` characters of a long line around the caret, marked with '...'."""
    caret = max(0, min(caret, len(text)))
    if len(text) <= _WINDOW:
        return text, caret
    start = max(0, caret - _WINDOW // 2)
    end = min(len(text), start + _WINDOW)
    prefix = "..." if start else ""
    return prefix + text[start:end] + ("..." if end < len(text) else ""), caret - start + len(prefix)


@dataclass
class Source:
    """A rules text by its display name; lines are split on first use."""

    name: str
    text: str
    _lines: list[str] | None = field(default=None, repr=False)

    def line(self, number: int) -> str:
        if self._lines is None:
            self._lines = self.text.split("\n")
        return self._lines[number - 1] if 0 < number <= len(self._lines) else ""


def _twice(what: str, pos: Pos, first: Pos, why: str | None = None) -> tuple[str, str]:
    """The message and hint of a duplicate (E040): ``what`` at ``pos`` was first given at ``first``; ``why``: the
    rule it breaks, when that helps."""
    where = f"line {first.line}" if first.file == pos.file else str(first)
    return f"{what} appears twice", f"first at {where}" + (f"; {why}" if why else "")


class Reporter:
    """Collects diagnostics against known sources; ``raise_if_errors`` turns them into a :class:`RulesError`."""

    def __init__(self) -> None:
        self.sources: dict[str, Source] = {}
        self.diagnostics: list[Diagnostic] = []

    def add_source(self, source: Source) -> None:
        self.sources[source.name] = source

    def report(
        self, code: str, message: str, pos: Pos, *, hint: str | None = None, span: int = 1
    ) -> Diagnostic:
        """Record a diagnostic at ``pos`` (line 0: about a whole file, e.g. one that cannot be read)."""
        source = self.sources.get(pos.file)
        text = source.line(pos.line) if source is not None else ""
        diagnostic = Diagnostic(code, message, pos.file, pos.line, pos.col, text, hint, max(1, span))
        self.diagnostics.append(diagnostic)
        return diagnostic

    def duplicate(
        self, what: str, pos: Pos, first: Pos, *, why: str | None = None, span: int = 1
    ) -> Diagnostic:
        """E040, in the one wording every duplicate gets: ``what`` at ``pos`` was already given at ``first``."""
        message, hint = _twice(what, pos, first, why)
        return self.report("E040", message, pos, hint=hint, span=span)

    @property
    def error_count(self) -> int:
        return sum(d.severity == "error" for d in self.diagnostics)

    def raise_if_errors(self) -> None:
        if self.error_count:
            raise RulesError(self.diagnostics)


__all__ = ["CODES", "Diagnostic", "Reporter", "Severity", "Source"]
