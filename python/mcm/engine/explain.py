"""Why-not for every technique left out of the top plan, and what to relax when no plan is feasible.

**Relaxation.** Every explored plan that violates some hard constraints pessimistically would be feasible if each
of those limits moved to the plan's pessimistic value. Limits are moved to a round number in the metric's display
unit (three significant digits, away from the old limit). Per set of relaxed constraints the cheapest plan is kept
(the smallest sum of relative shortfalls, before rounding); options are ordered by that sum, then by how many
constraints they relax, and an option is left out when an earlier one asks no more of any constraint. At most
three are given.

**Impossible triangle** (the reference: accuracy, latency, resources — pick two). Hard constraints are sorted
into corners by metric category (accuracy; performance → latency; resources, energy and cost → resources), and the
line names the trade-off that binds: with all three corners held, the one the cheapest relaxation gives up.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

from mcm import metrics, units
from mcm.engine.decision import Infeasibility, Plan, Relaxation, RelaxOption, WhyNot
from mcm.engine.evaluate import COMPARISONS
from mcm.engine.facts import Limit
from mcm.engine.plan import Node, SearchResult
from mcm.engine.techniques import Resolved

CORNER_OF = {
    "accuracy": "accuracy",
    "performance": "latency",
    "resources": "resources",
    "energy": "resources",
    "cost": "resources",
}
CORNERS = ("accuracy", "latency", "resources")
_PAIR: dict[tuple[str, ...], str] = {
    ("accuracy", "latency"): "high accuracy + low latency needs more resources (a bigger GPU)",
    ("accuracy", "resources"): "high accuracy + low resources makes latency grow",
    ("latency", "resources"): "low latency + low resources makes accuracy drop",
}
_OPTIONS = 3


def why_not(resolved: Sequence[Resolved], result: SearchResult, top: Plan | None) -> tuple[WhyNot, ...]:
    """A reason for every technique of the ruleset that is not in the top plan, in ruleset order."""
    chosen = set(top.techniques) if top else set()
    by_name = {r.name: r for r in resolved}
    no_gain = set(result.prepared.no_gain)
    out = []
    for r in resolved:
        name = r.name
        if name in chosen:
            continue
        if r.refusal is not None:
            out.append(r.refusal)
            continue
        blocker = next((t for t in (top.techniques if top else ()) if t in r.compiled.excludes), None)
        if blocker is not None:
            pos = _exclusion_pos(r, by_name[blocker])
            out.append(WhyNot(name, "excluded", f"excluded by {blocker}, which is in the top plan", pos))
            continue
        if name in no_gain:
            out.append(WhyNot(name, "no_gain", _no_gain(result), r.compiled.pos))
            continue
        out.append(_left_out(name, result, top, r.compiled.pos))
    return tuple(out)


def _exclusion_pos(r: Resolved, other: Resolved) -> str:
    for a, b in ((r, other), (other, r)):
        ident = next((i for i in a.compiled.technique.excludes if i.name == b.name), None)
        if ident is not None:
            return str(ident.pos)
    return r.compiled.pos


def _no_gain(result: SearchResult) -> str:
    targets = result.prepared.targets
    if not targets:
        return "nothing to improve: every constraint with a value is met and no core metric is measured"
    return f"does not improve any violated or core metric ({', '.join(targets)})"


def _left_out(name: str, result: SearchResult, top: Plan | None, pos: str) -> WhyNot:
    if top is not None and top.feasible:
        plan = " + ".join(top.techniques) if top.techniques else "no change"
        return WhyNot(
            name,
            "not_needed",
            f"not needed: the top plan ({plan}) meets every hard constraint without it",
            pos,
        )
    for rank, node in enumerate(result.ranked, 1):
        names = node.names
        if name in names:
            return WhyNot(name, "ranked_lower", f"its best plan ({' + '.join(names)}) ranks #{rank}", pos)
    bounds = "the search was cut short" if result.truncated else "no plan within the step limit keeps it"
    return WhyNot(name, "ranked_lower", f"not in any ranked plan: {bounds}", pos)


# ---- infeasibility


def infeasibility(result: SearchResult) -> Infeasibility:
    """What to measure, what to relax (smallest first) and the triangle line, for a search with no feasible plan."""
    layout = result.layout
    unknown = tuple(lim.metric for lim in layout.unknown_hard)
    options = _options(result)
    parts = ["no plan meets every hard constraint in the pessimistic case"]
    if unknown:
        parts.append("measure " + ", ".join(unknown) + " (hard constraints without a measured value)")
    if options:
        first = options[0]
        parts.append(
            "smallest relaxation: "
            + "; ".join(r.text for r in first.relax)
            + f" (with {' + '.join(first.plan) or 'no change'})"
        )
    held = [*(layout.limits[k].limit for k in layout.hard), *layout.unknown_hard]
    given_up = [r.metric for r in options[0].relax] if options else []
    return Infeasibility("; ".join(parts), unknown, options, triangle(held, given_up))


def _options(result: SearchResult) -> tuple[RelaxOption, ...]:
    """The cheapest plans to relax for, none needing a superset of another's relaxations (the best few)."""
    best: dict[int, tuple[tuple[float, int, int, tuple[str, ...]], Node]] = {}
    hard_bits = sum(1 << k for k in result.layout.hard)
    for node in result.nodes:
        if node.violations:
            key = node.violated & hard_bits
            cost = (node.shortfall, node.violations, len(node.steps), node.names)
            kept = best.get(key)
            if kept is None or cost < kept[0]:
                best[key] = (cost, node)
    chosen: list[tuple[Node, tuple[float, ...]]] = []
    for _, node in sorted(best.values(), key=lambda entry: entry[0]):
        need = _needs(result, node)
        if not any(all(a <= b for a, b in zip(other, need, strict=True)) for _, other in chosen):
            chosen.append((node, need))
            if len(chosen) == _OPTIONS:
                break
    return tuple(RelaxOption(node.names, _relaxations(result, node)) for node, _ in chosen)


def _needs(result: SearchResult, node: Node) -> tuple[float, ...]:
    """How far each hard constraint must move for this plan (0 where it is met), relative to its limit."""
    out = []
    for k in result.layout.hard:
        spec = result.layout.limits[k]
        value = node.worst(spec)
        limit = spec.limit.value
        out.append(0.0 if spec.met(value) else abs(value - limit) / (abs(limit) or 1.0))
    return tuple(out)


def _relaxations(result: SearchResult, node: Node) -> tuple[Relaxation, ...]:
    out = []
    layout = result.layout
    for k in layout.hard:
        spec = layout.limits[k]
        value = node.worst(spec)
        lim = spec.limit
        if spec.met(value):
            continue
        new = relaxed_limit(lim, value)
        percent = (new - lim.value) / abs(lim.value) * 100.0 if lim.value else 0.0
        old_text, new_text = (
            metrics.format_value(lim.metric, v, units.PRECISE_DIGITS) for v in (lim.value, new)
        )
        constraint = f"{lim.metric} {lim.op} {new_text}"
        text = f"relax {lim.metric} {lim.op} {old_text} to {lim.op} {new_text} ({percent:+.1f} %)"
        out.append(Relaxation(lim.metric, lim.op, lim.value, new, percent, constraint, text))
    return tuple(out)


def relaxed_limit(limit: Limit, value: float) -> float:
    """The round limit nearest ``value`` (three significant digits in the display unit) that ``value`` meets.

    The value is first rounded to 10 significant digits, so that arithmetic noise does not cost a digit."""
    unit = metrics.METRICS[limit.metric].display
    scale = units.UNITS[unit].to_base(1.0) if unit in units.UNITS else 1.0
    shown = float(f"{value / scale:.10g}")
    step = 10.0 ** (math.floor(math.log10(abs(shown))) - 2) if shown else 0.001
    up = not limit.lower_bound
    k = math.ceil(shown / step) if up else math.floor(shown / step)
    holds, threshold = COMPARISONS[limit.op], limit.threshold
    for _ in range(1000):
        candidate = float(f"{k * step:.12g}") * scale
        if holds(value, threshold(candidate)):
            return candidate
        k += 1 if up else -1
    return value  # unreachable for finite values: some step beyond ``value`` always meets the bound


def triangle(held: Sequence[Limit], given_up: Sequence[str]) -> str:
    """The reference's impossible-triangle line for the corners the hard constraints hold."""
    corners = _corners(lim.metric for lim in held)
    if len(corners) == 3:
        dropped = _corners(given_up)
        kept = tuple(c for c in CORNERS if c not in dropped)
        head = "impossible triangle (accuracy, latency, resources: pick two): all three are held"
        if len(kept) == 2:
            return f"{head}; the smallest relaxation gives up {dropped[0]}, since {_PAIR[kept]}"
        if dropped:
            return f"{head}; the smallest relaxation loosens {' and '.join(dropped)} and keeps {' and '.join(kept)}"
        return f"{head}; relax one"
    if len(corners) == 2:
        return f"impossible triangle (accuracy, latency, resources: pick two): {_PAIR[corners]}"
    named = ", ".join(lim.metric for lim in held) or "none"
    return (
        f"not a triangle trade-off (held: {named}): the known techniques do not reach the limit; "
        "a lighter architecture or other hardware may"
    )


def _corners(names: Iterable[str]) -> tuple[str, ...]:
    found = set()
    for name in names:
        corner = CORNER_OF.get(metrics.METRICS[name].category) if name in metrics.METRICS else None
        if corner is not None:
            found.add(corner)
    return tuple(c for c in CORNERS if c in found)


__all__ = ["infeasibility", "relaxed_limit", "triangle", "why_not"]
