"""Shared helpers for the rules-language tests (imported by name: pytest puts this folder on sys.path)."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import mcm.rules
from mcm.exceptions import RulesError
from mcm.rules import Diagnostic, load_text

#: The rules package's source folder.
PACKAGE = Path(mcm.rules.__file__).parent
HERE = Path(__file__).parent
GOOD = HERE / "good"
BAD = HERE / "bad"
HEADER = "mcm rules 1\n"


def errors_of(text: str, filename: str = "t.rules") -> list[Diagnostic]:
    """The error diagnostics ``load_text`` raises for ``text`` (fails the test when it loads)."""
    with pytest.raises(RulesError) as caught:
        load_text(text, filename)
    return list(caught.value.errors)


def codes_of(text: str) -> list[str]:
    return [d.code for d in errors_of(text)]


def warnings_of(text: str) -> list[str]:
    return [d.code for d in load_text(text, "t.rules").warnings]


def walk(node: object) -> Iterator[Any]:
    """Every AST node under ``node`` (dataclass instances), depth first, ``node`` included."""
    stack = [node]
    while stack:
        current = stack.pop()
        if dataclasses.is_dataclass(current) and not isinstance(current, type):
            yield current
            stack.extend(getattr(current, f.name) for f in dataclasses.fields(current))
        elif isinstance(current, (tuple, list)):
            stack.extend(current)
