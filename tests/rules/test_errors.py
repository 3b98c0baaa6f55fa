"""Diagnostics: the code catalogue, compiler-style rendering, JSON, and the safety net."""

from __future__ import annotations

import json
import re

import pytest
from rules_helpers import HEADER, PACKAGE, errors_of

import mcm.rules.check as check_module
from mcm.exceptions import McmError, RulesError
from mcm.rules import CODES, Diagnostic, load_text


def test_code_catalogue_matches_the_sources() -> None:
    assert all(re.fullmatch(r"[EW]\d{3}", code) for code in CODES)
    assert all(
        severity == ("error" if code[0] == "E" else "warning") for code, (severity, _) in CODES.items()
    )
    used = {
        m
        for p in PACKAGE.glob("*.py")
        for m in re.findall(r'"([EW]\d{3})"', _without_catalogue(p.read_text()))
    }
    assert used == set(CODES)


def _without_catalogue(text: str) -> str:
    """A module's text less the code catalogue (errors.py's ``_CATALOGUE``; it also reports E040 itself)."""
    start = text.find("_CATALOGUE")
    return text if start < 0 else text[:start] + text[text.index("\n}\n", start) :]


def test_render_like_a_compiler() -> None:
    (error,) = errors_of(HEADER + "scenario s {\n\trequire power_w < 1 MB\n}\n", "iot.rules")
    assert error.render() == (
        "iot.rules:3:20: error[E031]: unit 'MB' (size) does not fit power_w (power)\n"
        " 3 |  require power_w < 1 MB\n"
        "   |                    ^\n"
        "hint: power_w accepts mW, W, kW"
    )
    assert json.loads(json.dumps(error.to_dict())) == {
        "code": "E031",
        "severity": "error",
        "message": "unit 'MB' (size) does not fit power_w (power)",
        "file": "iot.rules",
        "line": 3,
        "col": 20,
        "source_line": "\trequire power_w < 1 MB",
        "hint": "power_w accepts mW, W, kW",
        "span": 1,
    }


def test_rules_error_is_the_projects_error() -> None:
    with pytest.raises(RulesError) as caught:
        load_text("nonsense")
    assert isinstance(caught.value, McmError) and caught.value.exit_code == 2
    assert str(caught.value) == caught.value.errors[0].render()


def test_long_lines_are_shown_around_the_caret() -> None:
    diagnostic = Diagnostic("E011", "x", "f.rules", 1, 500, "a" * 1000, "h")
    source, caret = diagnostic.render().split("\n")[1:3]
    assert len(source) < 130 and source.count("...") == 2
    assert source[caret.index("^")] == "a"


def test_a_bug_becomes_an_internal_error(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*_: object) -> None:
        raise ZeroDivisionError("bug")

    monkeypatch.setattr(check_module._Checker, "run", broken)
    with pytest.raises(RulesError) as caught:
        load_text(HEADER)
    assert caught.value.errors[0].code == "E099"
    assert isinstance(caught.value.__cause__, ZeroDivisionError)
