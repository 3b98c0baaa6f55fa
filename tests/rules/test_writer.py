"""Rules text written by mcm (mcm.rules.writer): blocks copied by their AST positions, strings quoted, a scenario
written with given limits; everything it writes parses back to what it was written from."""

from __future__ import annotations

from dataclasses import dataclass

from mcm.rules import parse_text, writer

TRICKY = (
    "\ufeffmcm rules 1\r\n"
    '# a comment with a brace } and a quote "\n'
    'scenario s "a \\"quoted\\" {label}" {\n'
    "  core latency_ms\n"
    "  require latency_ms < 100 ms  # } not the end\n"
    '  stack t, "then { ship }"\n'
    "}\n"
    'technique t "T {x}" { effect latency_ms /= 2x  requires env.nvidia_gpu because "needs } a \\\\ GPU" }\n'
    "technique u { effect model_size_mb /= 2 }  # } after the block\n"
    "decide for s policy first {\n"
    '  rule r: when measured.latency_ms > constraint.latency_ms then recommend t because "slow {"\n'
    '  otherwise recommend none because "fine }"\n'
    "}\n"
    'test "t" { given measured.latency_ms = 200 ms  expect recommend t }\n'
)


def test_every_block_is_found_by_its_nodes_position_and_copied_whole() -> None:
    texts = writer.block_texts(TRICKY.encode(), "tricky.rules")
    assert texts is not None
    parsed = parse_text(TRICKY, "tricky.rules")
    nodes: tuple[writer.Block, ...] = (
        *parsed.scenarios,
        *parsed.techniques,
        *parsed.decisions,
        *parsed.tests,
    )
    assert set(texts) == {n.pos for n in nodes}
    (technique_t, technique_u) = parsed.techniques
    assert texts[technique_t.pos] == (
        'technique t "T {x}" { effect latency_ms /= 2x  requires env.nvidia_gpu because "needs } a \\\\ GPU" }'
    )
    assert texts[technique_u.pos] == "technique u { effect model_size_mb /= 2 }"
    assert texts[parsed.scenarios[0].pos].endswith('"then { ship }"\n}')
    assert texts[parsed.decisions[0].pos].startswith("decide for s policy first {\n  rule r:")
    assert texts[parsed.tests[0].pos] == 'test "t" { given measured.latency_ms = 200 ms  expect recommend t }'
    for node in nodes:  # each copy parses alone to the same node
        again = parse_text("mcm rules 1\n" + texts[node.pos])
        assert (*again.scenarios, *again.techniques, *again.decisions, *again.tests) == (node,)


def test_a_file_that_does_not_parse_has_no_blocks() -> None:
    assert writer.block_texts("mcm rules 1\ntechnique t {\n", "broken.rules") is None


@dataclass(frozen=True)
class _Limit:
    metric: str
    op: str
    value: float
    hard: bool


def test_a_scenario_is_written_with_the_limits_given_and_reads_back() -> None:
    scenario = parse_text(TRICKY).scenarios[0]
    limits = [_Limit("latency_ms", "<", 50.0, True), _Limit("accuracy", ">=", 0.9, False)]
    text = writer.scenario_text(scenario, limits)
    assert text.splitlines()[0] == 'scenario s "a \\"quoted\\" {label}" {'
    assert "  require   latency_ms < 50 ms" in text and "  prefer    accuracy >= 90 %" in text
    again = parse_text("mcm rules 1\n" + text).scenarios[0]
    assert (again.name, again.label, again.core, again.stack) == (
        scenario.name,
        scenario.label,
        scenario.core,
        scenario.stack,
    )
    assert [(c.metric, c.op, c.value.value, c.hard) for c in again.constraints] == [
        ("latency_ms", "<", 50.0, True),
        ("accuracy", ">=", 0.9, False),
    ]


def test_quoted_strings_read_back_exactly() -> None:
    for text in ("plain", 'a "quote"', 'back\\slash \\" both', "{ } # not a comment"):
        parsed = parse_text(f"mcm rules 1\ninclude {writer.quote(text)}\n")
        assert parsed.includes[0].path == text
