"""Rules: the parse cache trusts nothing outside its directory, and what rules say about sizes and limits is true.

A cache entry is bound to its source (a seal over the source and code digest and the entry's JSON) and its AST is
checked against the source text on every hit; an entry that fails either, or that the checker rejects, is parsed
again from the source before anything is reported. Tampering here is deliberate: the tests re-seal what they
edit, as someone who knows the format would.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from mcm.cli.main import main
from mcm.exceptions import RulesError
from mcm.rules import cache, load_rules, load_text
from mcm.rules.errors import Reporter
from mcm.rules.source import MAX_BYTES

RULES = Path(__file__).resolve().parents[2] / "rules"
IOT = RULES / "iot.rules"
Tree = Any


@pytest.fixture
def private(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("MCM_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("MCM_RULES_CACHE", raising=False)
    return tmp_path / "cache" / "rules"


def _entry(private: Path, rules: Path) -> Path:
    """The cache entry of one rules file (its JSON names the file)."""
    name = json.dumps(str(rules))
    return next(p for p in private.iterdir() if not p.name.startswith(".tmp-") and name in p.read_text())


def _reseal(entry: Path, change: Callable[[Tree], None]) -> None:
    """Edit an entry's JSON and seal it again, as a deliberate tamperer would."""
    _, payload = entry.read_bytes().split(b"\n", 1)
    tree = json.loads(payload)
    change(tree)
    payload = json.dumps(tree, separators=(",", ":")).encode()
    entry.write_bytes(cache._seal(entry.name, payload) + b"\n" + payload)


def _nodes(tree: Tree, cls: str) -> list[list[Any]]:
    """The field lists of every node of class ``cls``, in file order."""
    found: list[list[Any]] = []
    stack = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, list):
            stack.extend(reversed(node))
        elif isinstance(node, dict):
            if node["@"] == cls:
                found.append(node["v"])
            stack.extend(reversed(node["v"]))
    return found


def _set(cls: str, index: int, field: int, value: Any) -> Callable[[Tree], None]:
    def change(tree: Tree) -> None:
        _nodes(tree, cls)[index][field] = value

    return change


def _swap_rules(tree: Tree) -> None:
    rules = _nodes(tree, "Decide")[0][3]
    rules[1], rules[2] = rules[2], rules[1]


def _drop_int8_static(tree: Tree) -> None:
    techniques = tree["v"][4]
    techniques[:] = [t for t in techniques if t["v"][0] != "int8_static"]


def _given_true(tree: Tree) -> None:
    given = _nodes(tree, "Given")[0]
    given[1] = {"@": "Boolean", "v": [True, given[1]["v"][-1]]}  # 14 MB → true, at the same place


def _shift_positions(tree: Tree) -> None:
    for pos in _nodes(tree, "Pos"):
        pos[1] += 1  # every node one line down: carets under the wrong text


def _decision(ruleset: Any) -> Any:
    """What iot decides for a mobile-sized model (constraints, recommendations, plans), as plain data."""
    from mcm.advisor import Advisor

    decision = Advisor(ruleset).advise(
        "iot", measured={"model_size_mb": 14.0, "memory_mb": 300.0, "power_w": 2.0}
    )
    data = decision.to_dict()
    return {k: data[k] for k in ("constraints", "recommendations", "plans", "trace")}


#: (what the edit changes, which file's entry, the edit)
TAMPERING = [
    ("a number", "iot", _set("Quantity", 0, 0, 1000.0)),  # require power_w < 1 W
    ("a unit", "iot", _set("Quantity", 0, 1, "mW")),
    ("a recommended technique", "iot", _set("Ident", 8, 0, "fp16")),  # a known one: no checker error
    ("an unknown technique", "iot", _set("Ident", 8, 0, "no_such_technique")),
    ("a comparison", "iot", _set("Compare", 0, 0, "<")),
    ("an arithmetic operator", "iot", _set("Arith", 0, 0, "/")),
    ("a policy", "iot", _set("Decide", 0, 2, "collect")),
    ("the rule order", "iot", _swap_rules),
    ("a fact", "iot", _set("Ref", 0, 1, "memory_mb")),
    ("a test's given value", "iot", _given_true),
    ("an effect's factor", "techniques", _set("Effect", 0, 2, 0.01)),
    ("a caveat's string", "techniques", _set("String", 0, 0, "gpu")),
    ("every position", "iot", _shift_positions),
    ("a technique dropped (the checker rejects the set)", "techniques", _drop_int8_static),
]


@pytest.mark.parametrize(("what", "file", "change"), TAMPERING, ids=[t[0] for t in TAMPERING])
def test_a_tampered_entry_changes_no_decision_and_is_rebuilt(
    private: Path, what: str, file: str, change: Callable[[Tree], None]
) -> None:
    fresh = load_rules(IOT)
    expected = _decision(fresh)
    _reseal(_entry(private, RULES / f"{file}.rules"), change)
    loaded = load_rules(IOT)
    assert [cache._encode(f) for f in loaded.files] == [cache._encode(f) for f in fresh.files]
    assert _decision(loaded) == expected
    with cache.tracking() as hits:  # the entry was written again from the source, and now verifies
        assert _decision(load_rules(IOT)) == expected
    assert len(hits) == len(fresh.files)


def test_every_shipped_entry_verifies_against_its_source(private: Path) -> None:
    """A clean entry is a hit: the verification accepts every construct the shipped rules use."""
    load_rules(RULES)
    with cache.tracking() as hits:
        load_rules(RULES)
    assert len(hits) == len(list(RULES.glob("*.rules")))


def _regroup(tree: Tree) -> None:
    """``(a op1 b) op2 c`` → ``a op1 (b op2 c)`` for every such and/or and arithmetic: the same tokens, in the same
    order, with the same operators, grouped as the parentheses do not group them."""
    for cls in ("BoolOp", "Arith"):
        for node in _nodes(tree, cls):
            left = node[1][0] if cls == "BoolOp" else node[1]
            if not (isinstance(left, dict) and left["@"] == cls):
                continue
            if cls == "Arith":
                op1, a, b, _ = left["v"]
                node[0], node[1], node[2] = op1, a, {"@": cls, "v": [node[0], b, node[2], b["v"][-1]]}
            else:
                op1, (a, *rest), _ = left["v"]
                inner = {"@": cls, "v": [node[0], [*rest, *node[1][1:]], rest[0]["v"][-1]]}
                node[0], node[1] = op1, [a, inner]


EXPRESSIONS = [
    "when (measured.latency_ms > 2 ms or not -(1) * 3 ms > measured.latency_ms)\n"
    '  and (measured.latency_ms + 1 ms) * 2 > 4 ms then recommend none because "x"',
    'when env.device == "cpu" and data.calibration == true # ( a comment\n  then recommend t because "a (b)"',
]


@pytest.mark.parametrize("condition", EXPRESSIONS)
def test_expressions_verify_and_their_tampered_forms_do_not(
    private: Path, tmp_path: Path, condition: str
) -> None:
    path = tmp_path / "x.rules"
    path.write_text(
        "mcm rules 1\nscenario s { core latency_ms\n  require latency_ms < 5 ms }\n"
        "technique t { effect latency_ms /= 1 .. 2x }\n"
        f"decide for s policy first {{ rule r: {condition} }}\n"
        'test "t" for s { given measured.latency_ms = 1 ms expect recommend none }\n'
    )
    fresh = load_rules(path)
    with cache.tracking() as hits:
        load_rules(path)
    assert len(hits) == 1
    for change in (
        _regroup,
        _set("Compare", 0, 0, "<="),
        _set("BoolOp", 0, 0, "or"),
        _set("Test", 0, 1, None),
    ):
        _reseal(_entry(private, path), change)
        assert [cache._encode(f) for f in load_rules(path).files] == [cache._encode(f) for f in fresh.files]


GOOD = Path(__file__).resolve().parents[1] / "rules" / "good"
BASE = (GOOD / "complete.rules").read_text().replace('include "techniques.rules"\n', "") + (
    GOOD / "techniques.rules"
).read_text().replace("mcm rules 1\n", "")
#: Edits that often leave a file that still parses: same-class operators, digits, names, spacing, parentheses.
SWAPS = [(" < ", " <= "), (" > ", " >= "), (" and ", " or "), (" * ", " / "), (" + ", " - "), ("*=", "/="),
         ("first", "collect"), ("require ", "prefer "), ("(", "(("), (")", "))"), (" ", "  "), (" ", "\n"),
         (" ", " # x\n"), ("2", "3"), ("0", "5"), (" ms", " s"), ("true", "false")]  # fmt: skip


@st.composite
def _edited(draw: st.DrawFn) -> str:
    text = BASE
    for _ in range(draw(st.integers(1, 3))):
        kind = draw(st.sampled_from(["swap", "line", "name"]))
        if kind == "swap":
            old, new = draw(st.sampled_from(SWAPS))
            if draw(st.booleans()):
                old, new = new, old
            places = [i for i in range(len(text)) if text.startswith(old, i)]
            if places:
                at = draw(st.sampled_from(places))
                text = text[:at] + new + text[at + len(old) :]
        elif kind == "line":
            lines = text.split("\n")
            at = draw(st.integers(1, len(lines) - 2))
            how = draw(st.sampled_from(["drop", "repeat", "swap"]))
            if how == "drop":
                del lines[at]
            elif how == "repeat":
                lines.insert(at, lines[at])
            else:
                lines[at], lines[at + 1] = lines[at + 1], lines[at]
            text = "\n".join(lines)
        else:
            names = sorted(set(re.findall(r"(?<![.\w])[a-z][a-z0-9_]*_[a-z0-9_]+", text)))
            old, new = draw(st.sampled_from(names)), draw(st.sampled_from(names))
            text = re.sub(rf"\b{old}\b", new, text, count=draw(st.integers(1, 3)))
    return text


def _parsed(text: str) -> Any:
    from mcm.rules.parser import parse_source

    reporter = Reporter()
    parsed = parse_source(text, "x.rules", reporter)
    return parsed if parsed is not None and not reporter.diagnostics else None


@settings(max_examples=150, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
@given(_edited())
def test_an_ast_verifies_against_its_own_source_only(text: str) -> None:
    """No false miss on any clean parse; and wherever two sources parse to different ASTs (positions included),
    neither AST verifies against the other source."""
    edited, original = _parsed(text), _parsed(BASE)
    assume(edited is not None)
    assert cache._verified(edited, text, "x.rules")
    if cache._encode(edited) != cache._encode(original):
        assert not cache._verified(edited, BASE, "x.rules")
        assert not cache._verified(original, text, "x.rules")


def test_the_cli_is_not_stuck_on_a_bad_entry(private: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The issue's failure: an entry naming an unknown technique made every run fail until the cache was off."""
    load_rules(IOT)
    for _ in range(2):
        _reseal(_entry(private, IOT), _set("Ident", 8, 0, "no_such_technique"))
        assert main(["rules", "check", str(IOT)]) == 0
        assert main(["rules", "test", str(IOT)]) == 0
        _reseal(_entry(private, RULES / "techniques.rules"), _drop_int8_static)
        assert (
            main(["advise", str(IOT), "--set", "model_size_mb=14MB", "--format", "json"]) == 3
        )  # 14 MB > 1 MB
    assert "error" not in capsys.readouterr().err


def test_an_entry_the_checker_rejects_is_parsed_again_before_any_error(
    private: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The second line of defence: were a tampered entry to pass verification, the checker's rejection makes the
    loader forget it and parse the source again, instead of failing on every run."""
    fresh = load_rules(IOT)
    monkeypatch.setattr(cache, "_verified", lambda rules_file, text, shown: True)
    for _ in range(2):
        _reseal(_entry(private, IOT), _set("Ident", 8, 0, "no_such_technique"))
        assert main(["rules", "check", str(IOT)]) == 0
    assert "no_such_technique" not in capsys.readouterr().err
    _reseal(_entry(private, RULES / "techniques.rules"), _drop_int8_static)
    assert load_rules(IOT).files == fresh.files


def test_an_entry_under_another_key_is_a_miss(private: Path) -> None:
    fresh = load_rules(IOT)
    iot, techniques = _entry(private, IOT), _entry(private, RULES / "techniques.rules")
    first, second = iot.read_bytes(), techniques.read_bytes()
    iot.write_bytes(second)
    techniques.write_bytes(first)
    assert load_rules(IOT).files == fresh.files
    unsealed = iot.read_bytes().replace(b'"power_w","<"', b'"power_w",">"')
    iot.write_bytes(unsealed)  # an edit that keeps the old seal
    assert load_rules(IOT).scenarios["iot"].constraint("power_w").op == "<"  # type: ignore[union-attr]


def test_a_real_checker_error_is_still_reported_once(private: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.rules"
    bad.write_text("mcm rules 1\nscenario s {\n  core latency_ms\n}\ndecide for s policy first {\n"
                   '  otherwise recommend nothing_known because "x"\n}\n')  # fmt: skip
    for _ in range(2):
        with pytest.raises(RulesError) as caught:
            load_rules(bad)
        assert [d.code for d in caught.value.errors] == ["E041"]
        assert "nothing_known" in caught.value.errors[0].render()


# ---- sizes and impossible limits


def test_an_oversized_file_reports_its_real_size(tmp_path: Path) -> None:
    big = tmp_path / "big.rules"
    big.write_bytes(b"mcm rules 1\n" + b"# padding\n" * 1_000_000)  # 10,000,012 bytes
    with pytest.raises(RulesError) as caught:
        load_rules(big)
    error = caught.value.errors[0]
    assert error.code == "E002" and "10,000,012 bytes" in error.message, error.message
    assert "1,048,577" not in error.render()
    with pytest.raises(RulesError) as caught:
        load_text("x" * (MAX_BYTES + 5))
    assert f"{MAX_BYTES + 5:,} bytes" in caught.value.errors[0].message


@pytest.mark.parametrize(
    ("limit", "warned"),
    [
        ("require latency_ms < 0 ms", True),
        ("require latency_ms < -0 ms", True),
        ("prefer model_size_mb <= 0 MB", False),  # exactly zero is a (strange) possible value
        ("require accuracy > 100 %", True),
        ("prefer accuracy >= 100 %", False),
        ("require accuracy > 99 %", False),
        ("require latency_ms < 1 ms", False),
    ],
)
def test_an_impossible_limit_is_a_warning(limit: str, warned: bool) -> None:
    ruleset = load_text(f"mcm rules 1\nscenario s {{\n  core latency_ms\n  {limit}\n}}\n")
    codes = [w.code for w in ruleset.warnings]
    assert ("W008" in codes) == warned, codes
    if warned:
        w = next(w for w in ruleset.warnings if w.code == "W008")
        assert (w.line, w.col) == (4, 11) and "never" in w.message and w.hint


@pytest.mark.parametrize(
    ("constraint", "warned"),
    [
        ("latency_ms<0ms", True),
        ("latency_ms < -0 ms", True),
        ("accuracy>100%", True),
        ("latency_ms<5ms", False),
    ],
)
def test_an_impossible_constraint_on_the_command_line_is_a_warning(
    constraint: str, warned: bool, capsys: pytest.CaptureFixture[str]
) -> None:
    args = [
        "advise",
        str(IOT),
        "--set",
        "model_size_mb=0.5MB",
        "--constraint",
        constraint,
        "--format",
        "json",
    ]
    main(args)
    warnings = json.loads(capsys.readouterr().out)["warnings"]
    assert any("can never hold" in w for w in warnings) == warned, warnings
