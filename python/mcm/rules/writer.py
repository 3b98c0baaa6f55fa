"""Rules text written by mcm: a scenario with given limits, and blocks copied verbatim from a rules file.

The copies come from the parser (``parser.parse_blocks``): a block is found by its AST node's position, and its
text runs from its keyword to its closing brace as the parser read them, so braces and quotes inside strings and
comments are never miscounted and there is no second reading of the language to keep in step with the grammar.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

from mcm import metrics
from mcm.rules import ast
from mcm.rules.errors import Reporter

#: A block that can be copied: a top-level block or statement of a rules file.
Block = ast.Scenario | ast.Technique | ast.Decide | ast.Test | ast.Assumption | ast.Derivation


class Limit(Protocol):
    """A ``require`` (``hard``) or ``prefer`` line to write: ``metric op value`` with ``value`` canonical."""

    @property
    def metric(self) -> str: ...
    @property
    def op(self) -> str: ...
    @property
    def value(self) -> float: ...
    @property
    def hard(self) -> bool: ...


def quote(text: str) -> str:
    """``text`` as a rules string literal (the language's only escapes: ``\\"`` and ``\\\\``)."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _literal(metric: str, value: float) -> str:
    return metrics.lookup(metric).literal(value)


def scenario_text(scenario: ast.Scenario, limits: Iterable[Limit]) -> str:
    """``scenario`` written out with ``limits`` in place of its own ``require``/``prefer`` lines, each value as
    :meth:`mcm.metrics.Metric.literal` writes it (``100 ms``), so that it reads back exactly."""
    label = f" {quote(scenario.label)}" if scenario.label is not None else ""
    lines = [f"scenario {scenario.name}{label} {{"]
    for keyword, idents in (
        ("core", scenario.core),
        ("secondary", scenario.secondary),
        ("ignore", scenario.ignore),
    ):
        if idents:
            lines.append(f"  {keyword:<9} {', '.join(i.name for i in idents)}")
    for limit in limits:
        keyword = "require" if limit.hard else "prefer"
        lines.append(f"  {keyword:<9} {limit.metric} {limit.op} {_literal(limit.metric, limit.value)}")
    for e in scenario.expected:
        lines.append(
            f"  {'expect':<9} {e.metric} in {_literal(e.metric, e.low)} .. {_literal(e.metric, e.high)}"
        )
    if scenario.stack:
        steps = (s.technique if s.technique is not None else quote(s.text or "") for s in scenario.stack)
        lines.append(f"  {'stack':<9} {', '.join(steps)}")
    lines.append("}")
    return "\n".join(lines)


def block_texts(data: str | bytes, shown: str) -> dict[ast.Pos, str] | None:
    """The text of every top-level block and statement of a rules file (``data``, shown as ``shown`` in positions, as
    when it was loaded), by the position of its AST node; None when the file does not parse."""
    from mcm.rules.parser import parse_blocks

    parsed = parse_blocks(data, shown, Reporter())
    if parsed is None:
        return None
    f = parsed.rules_file
    nodes: list[Block] = sorted(
        (*f.scenarios, *f.techniques, *f.decisions, *f.tests, *f.assumptions, *f.derivations),
        key=lambda n: (n.pos.line, n.pos.col),
    )
    if len(nodes) != len(parsed.blocks):
        return None  # cannot happen for a clean parse; never copy the wrong text
    starts = [0, *(i + 1 for i, ch in enumerate(parsed.text) if ch == "\n")]
    texts: dict[ast.Pos, str] = {}
    for node, (start, end) in zip(nodes, parsed.blocks, strict=True):
        offset = starts[node.pos.line - 1] + node.pos.col - 1
        if not start <= offset < end:
            return None
        texts[node.pos] = parsed.text[start:end]
    return texts


__all__ = ["Block", "Limit", "block_texts", "quote", "scenario_text"]
