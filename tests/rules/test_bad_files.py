"""Malformed rule files: each gives exactly the expected diagnostic, rendered with a caret and a hint.

Each fixture's first line says ``# expect CODE at [FILE:]LINE:COL``; the rest is the bad input.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from rules_helpers import BAD, GOOD, HEADER

from mcm.exceptions import RulesError
from mcm.rules import load_rules, load_text
from mcm.rules.source import MAX_BYTES

_EXPECT = re.compile(rb"# expect (E\d{3}) at (?:([\w.]+):)?(\d+):(\d+)")
FIXTURES = sorted(p for p in BAD.rglob("*.rules") if p.read_bytes().startswith(b"# expect"))


def _only_error(call: Callable[[], object]) -> RulesError:
    with pytest.raises(RulesError) as caught:
        call()
    assert caught.value.exit_code == 2
    return caught.value


def _assert_rendered(error: RulesError, code: str, line: int, col: int, file: str) -> None:
    first = error.errors[0]
    assert (first.code, first.line, first.col) == (code, line, col), first.render()
    assert Path(first.file).name == file
    text = first.render()
    header, source, caret, *rest = text.split("\n")
    assert header.endswith(f":{line}:{col}: error[{code}]: {first.message}")
    assert header.startswith(first.file)
    assert source.startswith(f" {line} | ")
    assert (
        caret.index("^") - caret.index("|") == col + 1 or "..." in source
    )  # the caret sits under column col
    assert rest and rest[-1].startswith("hint: ") and len(rest[-1]) > len("hint: ")
    assert json.loads(json.dumps(first.to_dict()))["code"] == code


def test_there_are_enough_bad_fixtures() -> None:
    assert len(FIXTURES) >= 20


@pytest.mark.parametrize("path", FIXTURES, ids=lambda p: str(p.relative_to(BAD)))
def test_bad_fixture(path: Path) -> None:
    match = _EXPECT.match(path.read_bytes())
    assert match is not None
    code, file, line, col = match.group(1).decode(), match.group(2), int(match.group(3)), int(match.group(4))
    error = _only_error(lambda: load_rules(path))
    _assert_rendered(error, code, line, col, file.decode() if file else path.name)


def test_oversized_file(tmp_path: Path) -> None:
    path = tmp_path / "big.rules"
    path.write_bytes(HEADER.encode() + b"# padding\n" * (MAX_BYTES // 10 + 1))
    _assert_rendered(_only_error(lambda: load_rules(path)), "E002", 1, 1, "big.rules")


def test_oversized_text() -> None:
    error = _only_error(lambda: load_text("x" * (MAX_BYTES + 1)))
    assert error.errors[0].code == "E002"


def test_include_through_symlink_out_of_the_directory(tmp_path: Path) -> None:
    outside = tmp_path / "outside.rules"
    outside.write_text(HEADER)
    inner = tmp_path / "inner"
    inner.mkdir()
    (inner / "link.rules").symlink_to(outside)
    (inner / "main.rules").write_text(HEADER + 'include "link.rules"\n')
    _assert_rendered(_only_error(lambda: load_rules(inner / "main.rules")), "E021", 2, 9, "main.rules")


def test_absolute_include(tmp_path: Path) -> None:
    (tmp_path / "main.rules").write_text(HEADER + f'include "{tmp_path / "x.rules"}"\n')
    _assert_rendered(_only_error(lambda: load_rules(tmp_path / "main.rules")), "E021", 2, 9, "main.rules")


def test_unreadable_path(tmp_path: Path) -> None:
    error = _only_error(lambda: load_rules(tmp_path / "missing.rules"))
    assert error.errors[0].code == "E001"
    assert "missing.rules: error[E001]" in error.errors[0].render()


def test_include_from_text_has_no_directory() -> None:
    error = _only_error(lambda: load_text(HEADER + 'include "x.rules"\n'))
    assert error.errors[0].code == "E024"


def test_bom_is_accepted_silently() -> None:
    plain = (GOOD / "techniques.rules").read_bytes()
    assert load_text(b"\xef\xbb\xbf" + plain).techniques.keys() == load_text(plain).techniques.keys()
    assert load_text("\ufeff" + plain.decode()).techniques.keys() == load_text(plain).techniques.keys()


def test_crlf_and_cr_parse_like_lf() -> None:
    plain = (GOOD / "techniques.rules").read_text()
    expected = load_text(plain).techniques
    assert load_text(plain.replace("\n", "\r\n")).techniques == expected
    assert load_text(plain.replace("\n", "\r")).techniques == expected


def test_crlf_positions_match_lf() -> None:
    text = HEADER + "scenario s {\n  require power_w < 1 MB\n}\n"
    lf = _only_error(lambda: load_text(text)).errors[0]
    crlf = _only_error(lambda: load_text(text.replace("\n", "\r\n"))).errors[0]
    assert (crlf.code, crlf.line, crlf.col, crlf.source_line) == (lf.code, lf.line, lf.col, lf.source_line)
