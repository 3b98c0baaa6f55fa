"""The rules language: scenarios, techniques, decision tables and their tests in ``.rules`` files (DESIGN.md §4).

``load_rules(path)`` reads files with their includes and returns a checked :class:`RuleSet`; ``load_text`` does the
same for a string; ``parse_text`` only parses. Every problem raises :class:`RulesError` holding diagnostics with
stable codes (``CODES``); nothing else escapes, whatever the input. Lark is imported on the first parse.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import TypeVar

from mcm.exceptions import McmError, RulesError
from mcm.rules.ast import RuleSet, RulesFile
from mcm.rules.errors import CODES, Diagnostic, Reporter

_T = TypeVar("_T")


def parse_text(text: str | bytes, filename: str = "<string>") -> RulesFile:
    """Parse one text into its AST without checking names or following includes."""
    from mcm.rules.parser import parse_source

    return _guarded(filename, lambda reporter: parse_source(text, filename, reporter))


def load_text(text: str | bytes, filename: str = "<string>") -> RuleSet:
    """Parse and check one text (it may not include other files)."""
    from mcm.rules.loader import load_source

    return _guarded(filename, lambda reporter: load_source(text, filename, reporter))


def load_rules(*paths: str | os.PathLike[str]) -> RuleSet:
    """Load and check rules files with their includes; a directory stands for the ``*.rules`` files in it."""
    from mcm.rules import cache
    from mcm.rules.loader import load_paths

    shown = os.fspath(paths[0]) if paths else "<no files>"
    with cache.tracking() as hits:
        try:
            return _guarded(shown, lambda reporter: load_paths(paths, reporter))
        except RulesError as error:
            if not hits or not any(d.code == "E099" for d in error.errors):
                raise
            cache.forget(
                hits
            )  # an entry decoded into something the checker chokes on: parse those files again
    with cache.bypassed():
        return _guarded(shown, lambda reporter: load_paths(paths, reporter))


def _guarded(filename: str, work: Callable[[Reporter], _T | None]) -> _T:
    """Run ``work``; its diagnostics become a RulesError, and so does any bug (E099) rather than a traceback."""
    reporter = Reporter()
    try:
        result = work(reporter)
    except McmError:
        raise
    except Exception as error:  # the safety net: no input may escape as another error type
        reporter.diagnostics.append(
            Diagnostic(
                "E099",
                f"internal error: {type(error).__name__}: {error}",
                filename,
                0,
                0,
                hint="please report this, with the rules file",
            )
        )
        raise RulesError(reporter.diagnostics) from error
    reporter.raise_if_errors()
    assert result is not None
    return result


__all__ = [
    "CODES",
    "Diagnostic",
    "RuleSet",
    "RulesError",
    "RulesFile",
    "load_rules",
    "load_text",
    "parse_text",
]
