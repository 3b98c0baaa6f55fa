"""Why-not for every technique left out of the top plan, why a recommended one is (with the facts to give), and
what to relax when no plan is feasible.

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
from collections.abc import Iterable, Iterator, Sequence

from mcm import metrics, units
from mcm.engine.decision import Infeasibility, Plan, Relaxation, RelaxOption, WhyNot
from mcm.engine.evaluate import COMPARISONS, Condition, EvalError, FactMap
from mcm.engine.fact_inputs import fact_option, fact_text
from mcm.engine.facts import Limit
from mcm.engine.messages import Message
from mcm.engine.plan import Node, SearchResult
from mcm.engine.techniques import Resolved
from mcm.rules.facts import FACTS, Fact

CORNER_OF = {
    "accuracy": "accuracy",
    "performance": "latency",
    "resources": "resources",
    "energy": "resources",
    "cost": "resources",
}
CORNERS = ("accuracy", "latency", "resources")
#: The trade-off of two corners held (message ids).
_PAIR: dict[tuple[str, ...], str] = {
    ("accuracy", "latency"): "triangle.pair_accuracy_latency",
    ("accuracy", "resources"): "triangle.pair_accuracy_resources",
    ("latency", "resources"): "triangle.pair_latency_resources",
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
            out.append(WhyNot(name, "excluded", Message("why_not.excluded", blocker=blocker), pos))
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
        return Message("why_not.nothing_to_improve")
    aims = tuple(
        Message("why_not.target_down" if down else "why_not.target_up", metric=m) for m, down in targets
    )
    return Message("why_not.no_gain", targets=aims)


def _plan(techniques: tuple[str, ...]) -> str:
    """``a + b``, or "no change" for the empty plan."""
    return Message("plan.steps", techniques=techniques) if techniques else Message("plan.no_change")


def _left_out(name: str, result: SearchResult, top: Plan | None, pos: str) -> WhyNot:
    if top is not None and top.feasible:
        return WhyNot(name, "not_needed", Message("why_not.not_needed", plan=_plan(top.techniques)), pos)
    for rank, node in enumerate(result.ranked, 1):
        names = node.names
        if name in names:
            plan = Message("plan.steps", techniques=names)
            worse = result.regressions(node)
            message = (
                Message("why_not.ranked_worse", plan=plan, rank=rank, metrics=worse)
                if worse
                else Message("why_not.ranked", plan=plan, rank=rank)
            )
            return WhyNot(name, "ranked_lower", message, pos)
    cut = result.truncated or name in result.prepared.beyond
    bounds = "why_not.cut_short" if cut else "why_not.no_plan_keeps"
    return WhyNot(name, "ranked_lower", Message(bounds), pos)


def left_out(
    resolved: Sequence[Resolved],
    facts: FactMap,
    recommended: Sequence[str],
    why: Sequence[WhyNot],
    top: Plan | None,
) -> dict[str, str]:
    """For each recommended technique the top plan leaves out: ``not in plan 1: <its why-not>``, and the
    command-line options that give the facts an unknown requirement needs."""
    chosen = set(top.techniques) if top else set()
    rank = top.rank if top else 1
    reasons = {w.technique: w for w in why}
    by_name = {r.name: r for r in resolved}
    out: dict[str, str] = {}
    for name in recommended:
        w = reasons.get(name)
        if name in chosen or name in out or w is None:
            continue
        give = _facts_to_give(by_name[name], facts)
        out[name] = (
            Message("plan.left_out_give", rank=rank, why=w.message, options=give)
            if give
            else Message("plan.left_out", rank=rank, why=w.message)
        )
    return out


def _facts_to_give(r: Resolved, facts: FactMap) -> tuple[str, ...]:
    """``--data calibration=true``: for each ``env``/``data`` fact an unknown requirement misses, the option
    with a value that meets it (a placeholder where none of the known values does, or for a number)."""
    out = {fact_option(f.path, _meeting(f, condition, facts)): None for f, condition in _missing(r, facts)}
    return tuple(out)


def _missing(r: Resolved, facts: FactMap) -> Iterator[tuple[Fact, Condition]]:
    """Each ``env``/``data`` fact that an unknown requirement of ``r`` misses, with that requirement."""
    if r.applies.status != "unknown":
        return
    for _, condition in r.compiled.requires:
        try:
            if condition.test(facts) is not None:
                continue
        except EvalError:
            continue
        for path in condition.explain(facts).missing:
            fact = FACTS.get(path)
            if fact is not None:
                yield fact, condition


def _meeting(fact: Fact, condition: Condition, facts: FactMap) -> str:
    """The first value of ``fact`` (true before false; a text's known values) that does not make ``condition``
    false; ``NUMBER`` or ``TEXT`` when there is none to try."""
    value = _meeting_value(fact, condition, facts)
    if value is not None:
        return fact_text(value)
    return "NUMBER" if fact.type == "number" else "TEXT" if fact.type == "string" else "true"


def _meeting_value(fact: Fact, condition: Condition, facts: FactMap) -> bool | str | None:
    candidates: tuple[bool | str, ...] = (True, False) if fact.type == "bool" else fact.values
    for value in candidates:
        try:
            if condition.test({**facts, fact.path: value}) is not False:
                return value
        except EvalError:
            continue
    return None


def hypothesis(resolved: Sequence[Resolved], facts: FactMap) -> dict[str, bool | str]:
    """The missing facts that would let the techniques waiting for them apply, each with a value that meets
    their requirement (flags and known texts; numbers are not guessed): what "cannot decide without" tries."""
    out: dict[str, bool | str] = {}
    for r in resolved:
        for fact, condition in _missing(r, facts):
            value = None if fact.path in out else _meeting_value(fact, condition, facts)
            if value is not None:
                out[fact.path] = value
    return out


# ---- infeasibility


def infeasibility(
    result: SearchResult, resolved: Sequence[Resolved] = (), decides: Sequence[str] = ()
) -> Infeasibility:
    """What to measure, which facts to give (those of ``decides`` that techniques of ``resolved`` wait for: the
    facts under which a plan would meet the constraints, :attr:`Decision.undecided`), what to relax (smallest
    first) and the triangle line, for a search with no feasible plan: supplying comes before relaxing."""
    layout = result.layout
    unknown = tuple(lim.metric for lim in layout.unknown_hard)
    options = _options(result)
    # a plan may meet the hard constraints and still rank below: it makes a watched metric worse
    feasible = next((n for n in result.ranked if n.feasible and result.regressions(n)), None)
    parts: list[str] = [
        Message("infeasible.none")
        if feasible is None
        else Message(
            "infeasible.none_without_regression",
            plan=_plan(feasible.names),
            metrics=result.regressions(feasible),
        )
    ]
    if unknown:
        parts.append(Message("infeasible.measure", metrics=unknown))
    waiting: dict[str, list[str]] = {}  # a missing fact -> the techniques that wait for it
    for r in resolved:
        if r.applies.status == "unknown" and r.applies.outcome is not None:
            for fact in r.applies.outcome.missing:
                if fact in decides:  # a fact that would let a plan meet the constraints
                    waiting.setdefault(fact, []).append(r.name)
    parts += [Message("infeasible.supply", fact=f, techniques=tuple(ts)) for f, ts in waiting.items()]
    if options:
        first = options[0]
        relax = tuple(r.text for r in first.relax)
        parts.append(Message("infeasible.smallest", relax=relax, plan=_plan(first.plan)))
    held = [*(layout.limits[k].limit for k in layout.hard), *layout.unknown_hard]
    given_up = [r.metric for r in options[0].relax] if options else []
    message = Message("infeasible.parts", parts=tuple(parts))
    return Infeasibility(message, unknown, options, triangle(held, given_up))


def _options(result: SearchResult) -> tuple[RelaxOption, ...]:
    """The cheapest plans to relax for, none needing a superset of another's relaxations (the best few); plans
    that make a watched metric worse only when every plan does."""
    best: dict[int, tuple[tuple[float, int, int, tuple[str, ...]], Node]] = {}
    hard_bits = sum(1 << k for k in result.layout.hard)
    missing = [n for n in result.nodes if n.violations]
    sound = [n for n in missing if not n.regress]
    for node in sound or missing:
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
        text = Message(
            "infeasible.relax", metric=lim.metric, op=lim.op, old=old_text, new=new_text, percent=percent
        )
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
        if len(kept) == 2:
            return Message("triangle.gives_up", corner=_corner(dropped[0]), pair=Message(_PAIR[kept]))
        if dropped:
            return Message("triangle.loosens", dropped=_and(dropped), kept=_and(kept))
        return Message("triangle.relax_one")
    if len(corners) == 2:
        return Message("triangle.pair", pair=Message(_PAIR[corners]))
    named = tuple(lim.metric for lim in held)
    return Message("triangle.none", held=named or (Message("triangle.held_none"),))


def _corner(corner: str) -> str:
    return Message(f"corner.{corner}")


def _and(corners: tuple[str, ...]) -> str:
    return Message("corners.and", corners=tuple(_corner(c) for c in corners))


def _corners(names: Iterable[str]) -> tuple[str, ...]:
    found = set()
    for name in names:
        corner = CORNER_OF.get(metrics.METRICS[name].category) if name in metrics.METRICS else None
        if corner is not None:
            found.add(corner)
    return tuple(c for c in CORNERS if c in found)


__all__ = ["infeasibility", "left_out", "relaxed_limit", "triangle", "why_not"]
