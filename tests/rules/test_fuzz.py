"""Mutated rule text (byte flips, deletions, duplications, insertions) raises only RulesError, never a bug."""

from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rules_helpers import GOOD

from mcm.exceptions import RulesError
from mcm.rules import load_text

BASE = (GOOD / "complete.rules").read_bytes().replace(b'include "techniques.rules"\n', b"") + (
    GOOD / "techniques.rules"
).read_bytes().replace(b"mcm rules 1\n", b"")
PIECES = [b"(", b")", b"{", b"}", b"not ", b"..", b"%", b'"', b"-", b"=", b"<", b" and ", b"1e999", b"/= 0",
          b"\r", b"\xef\xbb\xbf", b"\xb5", b"\x00", b"none", b"true", b"\\", b"rule r: when"]  # fmt: skip
FUZZ = settings(
    max_examples=100, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
)


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    data = bytearray(BASE)
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, len(data) - 1))
        kind = draw(st.sampled_from(["flip", "delete", "duplicate", "insert"]))
        if kind == "flip":
            data[at] = draw(st.integers(0, 255))
        elif kind == "delete":
            del data[at : at + draw(st.integers(1, 40))]
        elif kind == "duplicate":
            start = draw(st.integers(0, len(data) - 1))
            data[at:at] = data[start : start + draw(st.integers(1, 80))]
        else:
            data[at:at] = draw(st.sampled_from(PIECES))
        if len(data) < 2:
            break
    return bytes(data)


def _only_rules_errors(text: str | bytes) -> None:
    try:
        load_text(text, "fuzz.rules")
    except RulesError as error:
        assert error.errors, "a RulesError carries at least one error"
        for diagnostic in error.diagnostics:
            assert diagnostic.code != "E099", diagnostic.render()
            assert diagnostic.render().startswith("fuzz.rules")
            json.dumps(diagnostic.to_dict())


@FUZZ
@given(mutated())
def test_mutated_bytes(data: bytes) -> None:
    _only_rules_errors(data)


@FUZZ
@given(mutated())
def test_mutated_text(data: bytes) -> None:
    _only_rules_errors(data.decode("utf-8", "replace"))


@settings(max_examples=100, deadline=None, derandomize=True)
@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=300))
def test_arbitrary_text_after_the_header(text: str) -> None:
    _only_rules_errors("mcm rules 1\n" + text)
