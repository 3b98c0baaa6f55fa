"""Plan search: sequences of compatible techniques with interval predictions, ranked.

**Predictions.** Every tracked metric (the measured ones that are constrained, core or secondary, accuracy and
accuracy_drop) starts at its measured value as the interval ``[v, v]``; accuracy, when it is not measured, is
tracked from a nominal 100 % for the accuracy risk alone. A step's ``scale`` effect multiplies the interval by the
factor range (interval product: the min and max of the four end products), a ``shift`` adds the range; the result
is clamped to the metric's valid range (accuracy in [0, 1]). Intervals are in value space; the pessimistic end is
the high one for a lower-is-better metric and the low one otherwise. A constraint is met pessimistically when
every value of the interval meets it. ``accuracy_drop`` is recomputed as ``baseline.accuracy - accuracy`` after
each step when both are known. Requirements and caveats are evaluated on the given facts, not on predictions: the
optimize loop measures after each step and asks again.

**Search.** Candidates are the applicable techniques that may move a target metric the right way: a metric whose
constraint is violated now, a core metric of the scenario, or a constrained metric that some applicable technique
may worsen (accuracy, typically). Subsets of at most ``max_steps`` candidates are enumerated depth first without
excluded pairs. A plan is extended only by techniques that may improve a constraint it still misses
pessimistically; a plan that meets every constraint (hard and soft) is not extended, nor one with a regression
(every extension keeps it, see **Ranking**: so a plan with a step that makes a watched metric worse is listed
alone, and longer ones only start from plans without). (So a technique that
only repairs what a later step breaks is found when it comes later in the step order, as a technique of no known
stage does: it is placed last.) A plan's steps run in the order
they can be built in: by stage (architecture/distillation → pruning → quantization → compile/runtime → other), then
by name. A recommended technique does not jump that order (TensorRT compiles the model that INT8 quantized and
pruning thinned); its recommendation counts in the ranking instead.

**Ranking.** A plan that meets every hard constraint is dropped when a smaller plan inside it meets them too and
at least as many soft ones ("do no more than needed", the reference's step 4). The empty plan ("no change") is
listed only when it is feasible or nothing else is. The rest rank by: no regression (a plan with a step whose
pessimistic prediction is worse than before it, the measured value for the first step, on a metric whose
constraint is violated now or on a core metric ranks below every plan without one, feasible or not: an expert does
not sign a plan that makes what matters worse; accuracy and accuracy_drop are left to the accuracy risk and the
limits, and a relative change within 1e-9 is noise, not a regression); hard constraints met pessimistically (then fewest violated, smallest total shortfall
relative to the limits); soft constraints met; recommended techniques included; core-metric gain (pessimistic, as
a combined factor in steps of √2); accuracy risk (worst-case accuracy loss, from a nominal 100 % when accuracy is
not measured); total difficulty; length; names.

**Caching.** What does not depend on the measured numbers — which metrics are tracked, the limits and their
tests, each technique's effect vector and the directions it can move them, the candidate order — is cached per
shape of input (:class:`SearchCache`: which metrics are measured, the limits, the resolved techniques, which limits
the model misses now), so repeated calls with new numbers only enumerate, score and rank.
"""

from __future__ import annotations

import functools
import math
import operator
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

from mcm import metrics
from mcm.engine.decision import CheckStatus, Plan, PlanCheck, PlanStep, PredictedRange
from mcm.engine.evaluate import COMPARISONS
from mcm.engine.facts import Facts, Limit
from mcm.engine.messages import Message
from mcm.engine.techniques import STAGES, Change, Resolved

#: Core-metric gains are compared in steps of a combined factor of √2: a smaller predicted edge is noise next to
#: the intervals' width, and should not outweigh accuracy risk and difficulty.
_GAIN_STEP = math.log(2.0) / 2
#: One effect on tracked metric ``index``: (index, is a factor, low, high).
_Vector = tuple[tuple[int, bool, float, float], ...]
#: Relative change of a watched metric within which a plan does not make it worse (floating-point noise).
_REGRESSION_TOLERANCE = 1e-9
#: A vector split for speed: plain factors (index, low, high) on metrics valid on [0, inf), and the rest.
_Step = tuple[tuple[tuple[int, float, float], ...], _Vector]
_KEY = operator.attrgetter("key")
#: The metrics no step of a plan may make worse: (index, lower is better).
_Watched = tuple[tuple[int, bool], ...]
_Apply = Callable[[list[float], list[float], _Step], tuple[list[float], list[float]]]
_CACHE_SIZE = 512


@dataclass(frozen=True, slots=True)
class Bounds:
    """Search bounds: steps per plan, plans returned, nodes explored (beyond it the search stops, warned)."""

    max_steps: int = 3
    max_plans: int = 3
    max_nodes: int = 4096


DEFAULT_BOUNDS = Bounds()


@dataclass(frozen=True, slots=True)
class LimitSpec:
    """A constraint on a tracked metric: its index, which end of the interval it bounds, and the test
    ``holds(value, threshold)`` (the threshold carries the comparison tolerance, see ``Limit.threshold``)."""

    limit: Limit
    index: int
    upper: bool
    holds: Callable[[float, float], bool]
    threshold: float

    def met(self, value: float) -> bool:
        return self.holds(value, self.threshold)


class Layout:
    """What a search tracks, whatever the numbers: metrics, directions, valid ranges, limits, core metrics."""

    def __init__(
        self, shown: tuple[str, ...], limits: tuple[Limit, ...], core: tuple[str, ...], linked: bool
    ) -> None:
        # accuracy not measured: a hidden track from a nominal 100 %, for the accuracy risk
        tracked = shown if "accuracy" in shown else (*shown, "accuracy")
        self.metrics = tracked
        self.shown = len(shown)
        self.index = {m: i for i, m in enumerate(tracked)}
        infos = [metrics.METRICS[m] for m in tracked]
        self.lower_better = tuple(info.better == "lower" for info in infos)
        self.floor = tuple(-math.inf if i.minimum is None else i.minimum for i in infos)
        self.ceiling = tuple(math.inf if i.maximum is None else i.maximum for i in infos)
        self.accuracy = self.index["accuracy"]
        #: The accuracy_drop index when it is recomputed from accuracy after each step.
        self.drop = self.index.get("accuracy_drop") if linked else None
        self.order = {lim.metric: i for i, lim in enumerate(limits)}
        self.limits = tuple(
            LimitSpec(lim, self.index[lim.metric], not lim.lower_bound, COMPARISONS[lim.op], lim.threshold())
            for lim in limits
            if lim.metric in shown
        )
        self.unknown = tuple(lim for lim in limits if lim.metric not in shown)
        self.hard = tuple(k for k, s in enumerate(self.limits) if s.limit.hard)
        self.soft = tuple(k for k, s in enumerate(self.limits) if not s.limit.hard)
        #: The limits as the scorer tests them: ``(bit, index, upper, holds, threshold)``, and for a hard one the
        #: limit and the scale of its shortfall (relative to the limit; absolute for a zero limit).
        self.hard_tests = tuple(
            (1 << k, s.index, s.upper, s.holds, s.threshold, s.limit.value, abs(s.limit.value) or 1.0)
            for k, s in enumerate(self.limits)
            if s.limit.hard
        )
        self.soft_tests = tuple(
            (1 << k, s.index, s.upper, s.holds, s.threshold)
            for k, s in enumerate(self.limits)
            if not s.limit.hard
        )
        self.unknown_hard = tuple(lim for lim in self.unknown if lim.hard)
        self.core = tuple((self.index[m], self.lower_better[self.index[m]]) for m in core if m in shown)

    def stepper(self, base: float) -> _Apply:
        """The interval update of one step (new lists); ``base`` is the baseline accuracy for accuracy_drop."""
        floor, ceiling, drop, acc = self.floor, self.ceiling, self.drop, self.accuracy

        def apply(lo: list[float], hi: list[float], step: _Step) -> tuple[list[float], list[float]]:
            lo, hi = lo[:], hi[:]
            factors, general = step
            for i, a, b in factors:
                lo[i] *= a
                hi[i] *= b
            for i, scale, a, b in general:
                x, y = lo[i], hi[i]
                if not scale:
                    x, y = x + a, y + b
                elif x >= 0.0 and a >= 0.0:
                    x, y = x * a, y * b
                else:
                    ends = (x * a, x * b, y * a, y * b)
                    x, y = min(ends), max(ends)
                low, high = floor[i], ceiling[i]
                lo[i] = low if x < low else high if x > high else x
                hi[i] = low if y < low else high if y > high else y
            if drop is not None:
                lo[drop], hi[drop] = base - hi[acc], base - lo[acc]
            return lo, hi

        return apply

    def split(self, vector: _Vector) -> _Step:
        """The vector as :func:`stepper` takes it: factors >= 0 on metrics valid on [0, inf) need no clamping."""
        plain = tuple((i, a, b) for i, scale, a, b in vector if scale and a >= 0.0 and self._unbounded(i))
        rest = tuple(e for e in vector if not (e[1] and e[2] >= 0.0 and self._unbounded(e[0])))
        return plain, rest

    def _unbounded(self, i: int) -> bool:
        return self.floor[i] == 0.0 and self.ceiling[i] == math.inf

    def vector(self, effects: Mapping[str, Change]) -> _Vector:
        """A technique's effects on the tracked metrics (``accuracy_drop`` left out when it is recomputed)."""
        out = []
        for i, name in enumerate(self.metrics):
            change = effects.get(name)
            if change is not None and i != self.drop:
                out.append((i, change[0] == "scale", change[1], change[2]))
        return tuple(out)

    def directions(self, vector: _Vector) -> tuple[int, int, bool]:
        """The limits (bits) a step may improve and may worsen, and whether it may improve a core metric
        (values are non-negative, so a factor below 1 or a negative shift can lower a metric)."""
        down = up = 0
        for i, scale, a, b in vector:
            if a < (1.0 if scale else 0.0):
                down |= 1 << i
            if b > (1.0 if scale else 0.0):
                up |= 1 << i
        if self.drop is not None:  # accuracy_drop moves against accuracy
            acc, drop = 1 << self.accuracy, 1 << self.drop
            down, up = down | (drop if up & acc else 0), up | (drop if down & acc else 0)
        better = worse = 0
        for k, spec in enumerate(self.limits):
            gets_lower, gets_higher = down >> spec.index & 1, up >> spec.index & 1
            if gets_lower if spec.upper else gets_higher:
                better |= 1 << k
            if gets_higher if spec.upper else gets_lower:
                worse |= 1 << k
        core = any((down if lower else up) >> i & 1 for i, lower in self.core)
        return better, worse, core


@dataclass(frozen=True, slots=True)
class SearchCandidate:
    """An applicable technique that can help, with its effect vector and the limits it may improve or worsen."""

    resolved: Resolved
    name: str
    vector: _Vector
    step: _Step
    recommended: bool
    better: int
    worse: int
    moves_core: bool


class _Helpers(dict[int, int]):
    """Violated limits (bits) -> the candidates (bits) that may improve one of them, filled on first use (a memo of
    pure results, shared by the searches of one shape)."""

    def __init__(self, improvers: tuple[int, ...]) -> None:
        super().__init__()
        self.improvers = improvers  # by limit: the candidates that may improve it

    def __missing__(self, violated: int) -> int:
        union = 0
        for k, improver in enumerate(self.improvers):
            if violated >> k & 1:
                union |= improver
        self[violated] = union
        return union


@dataclass(frozen=True, slots=True)
class Prepared:
    """The per-shape part of a search: candidates in step order, their exclusions, what was left out."""

    candidates: tuple[SearchCandidate, ...]
    excluded: tuple[int, ...]
    no_gain: tuple[str, ...]
    targets: tuple[tuple[str, bool], ...]
    #: Each candidate as the search adds it: ``(step, name, difficulty, recommended (0/1), excluded, combined)``;
    #: ``combined``: ``(bit of a candidate, step)`` pairs, the step to take when the plan has that one already.
    moves: tuple[tuple[_Step, str, int, int, int, tuple[tuple[int, _Step], ...]], ...]
    #: Violated limits (bits) -> the candidates (bits) that may improve one of them.
    helpers: _Helpers = field(compare=False, repr=False)


class SearchCache:
    """Layouts and prepared candidates by shape of input (memos of pure results, least recently used dropped)."""

    def __init__(self) -> None:
        self.layout = functools.lru_cache(maxsize=_CACHE_SIZE)(Layout)
        self.prepare = functools.lru_cache(maxsize=_CACHE_SIZE)(_prepare)


def _prepare(
    layout: Layout, resolved: tuple[Resolved, ...], recommended: tuple[str, ...], violated: int
) -> Prepared:
    """The candidates in step order and what the search needs of them (see the module docstring, **Search**);
    ``violated``: the limits the model misses now (bits)."""
    chosen = frozenset(recommended)
    moved = []
    fragile = 0
    for r in resolved:
        if r.applies.status == "yes":
            vector = layout.vector(r.effects)
            better, worse, core = layout.directions(vector)
            for effects in r.combined.values():  # what it may do in combination counts too
                more, less, moves_core = layout.directions(layout.vector(effects))
                better, worse, core = better | more, worse | less, core or moves_core
            fragile |= worse
            moved.append(
                SearchCandidate(
                    r, r.name, vector, layout.split(vector), r.name in chosen, better, worse, core
                )
            )
    wanted = violated | fragile
    usable = [c for c in moved if c.better & wanted or c.moves_core]
    usable.sort(key=lambda c: (c.resolved.compiled.stage, c.name))
    index = {c.name: i for i, c in enumerate(usable)}
    excluded = tuple(sum(1 << index[x] for x in c.resolved.compiled.excludes if x in index) for c in usable)
    aims = [(s.limit.metric, s.upper) for k, s in enumerate(layout.limits) if wanted >> k & 1]
    aims += [(layout.metrics[i], lower) for i, lower in layout.core]
    targets = tuple(dict.fromkeys(aims))
    no_gain = tuple(c.name for c in moved if c.name not in index)
    moves = tuple(
        (
            c.step,
            c.name,
            c.resolved.compiled.difficulty,
            int(c.recommended),
            exclusions,
            _combined(layout, c, index),
        )
        for c, exclusions in zip(usable, excluded, strict=True)
    )
    improvers = tuple(
        sum(1 << j for j, c in enumerate(usable) if c.better >> k & 1) for k in range(len(layout.limits))
    )
    return Prepared(tuple(usable), excluded, no_gain, targets, moves, _Helpers(improvers))


def _combined(layout: Layout, c: SearchCandidate, index: Mapping[str, int]) -> tuple[tuple[int, _Step], ...]:
    """A candidate's steps in combination (``with T``), for each T among the candidates (which precede it)."""
    return tuple(
        (1 << index[partner], layout.split(layout.vector(effects)))
        for partner, effects in c.resolved.combined.items()
        if partner in index
    )


class Node(NamedTuple):
    """One explored plan (a subset of the candidates, in step order) with its final intervals, its scores, and
    the candidates its steps exclude."""

    mask: int
    steps: tuple[int, ...]
    names: tuple[str, ...]
    lo: list[float]
    hi: list[float]
    difficulty: int
    recommended: int
    #: Limits missed pessimistically (bit k for ``Layout.limits[k]``); hard ones counted, their total shortfall.
    violated: int
    violations: int
    shortfall: float
    soft: int
    gain: float
    risk: float
    #: The ranking key (see the module docstring).
    key: tuple[object, ...]
    #: The candidates excluded by one of its steps (bits): the search does not add them.
    forbidden: int

    @property
    def feasible(self) -> bool:
        """Every hard constraint with a known value met pessimistically."""
        return self.violations == 0

    def worst(self, spec: LimitSpec) -> float:
        """The pessimistic value of a constrained metric (the end of the interval the limit bounds)."""
        return self.hi[spec.index] if spec.upper else self.lo[spec.index]


@dataclass(frozen=True)
class SearchResult:
    """Ranked plans plus what the explanations need: the layout, candidates, every node explored."""

    plans: tuple[Plan, ...]
    layout: Layout
    prepared: Prepared
    nodes: tuple[Node, ...]
    ranked: tuple[Node, ...]
    truncated: bool
    #: The metrics no step of a plan may make worse (see the module docstring, **Ranking**).
    watched: _Watched = ()

    @functools.cached_property
    def by_mask(self) -> dict[int, Node]:
        """The explored plans by mask (every prefix of an explored plan was explored before it)."""
        return {n.mask: n for n in self.nodes}

    def regressions(self, node: Node) -> tuple[str, ...]:
        """The watched metrics that some step of this plan makes worse pessimistically (see **Ranking**)."""
        by_mask, names = self.by_mask, self.layout.metrics
        found: dict[str, None] = {}
        before, mask = by_mask.get(0), 0
        for j in node.steps:
            mask |= 1 << j
            at = by_mask.get(mask)
            if before is None or at is None:
                break
            found.update((names[i], None) for i, lower in self.watched if _worse(before, at, i, lower))
            before = at
        return tuple(found)


def search(
    facts: Facts,
    resolved: tuple[Resolved, ...],
    recommended: Sequence[str],
    core: Sequence[str],
    secondary: Sequence[str],
    bounds: Bounds,
    cache: SearchCache,
) -> SearchResult:
    """Enumerate, score and rank plans over the applicable techniques (see the module docstring)."""
    measured = facts.measured
    names = (*(lim.metric for lim in facts.limits), *core, *secondary, "accuracy", "accuracy_drop")
    shown = tuple(m for m in dict.fromkeys(names) if m in measured)
    base = facts.baseline.get("accuracy")
    linked = base is not None and "accuracy" in measured and "accuracy_drop" in measured
    layout = cache.layout(shown, facts.limits, tuple(core), linked)
    start = [measured[m] for m in shown]
    if layout.shown < len(layout.metrics):
        start.append(1.0)
    violated = 0
    for k, spec in enumerate(layout.limits):
        if not spec.met(start[spec.index]):
            violated |= 1 << k
    prepared = cache.prepare(layout, resolved, tuple(recommended), violated)
    apply = layout.stepper(base if linked and base is not None else 0.0)
    watched = _watched(layout, violated)
    nodes, truncated = _explore(layout, prepared, start, watched, apply, bounds)
    by_mask = {n.mask: n for n in nodes}
    ranked = _rank(layout, nodes, by_mask, truncated)
    plans = tuple(
        _plan(layout, prepared, by_mask, n, rank) for rank, n in enumerate(ranked[: bounds.max_plans], 1)
    )
    return SearchResult(plans, layout, prepared, tuple(nodes), tuple(ranked), truncated, watched)


def _explore(
    layout: Layout, prepared: Prepared, start: list[float], watched: _Watched, apply: _Apply, bounds: Bounds
) -> tuple[list[Node], bool]:
    """Depth-first enumeration from the empty plan (see the module docstring, **Search**), each plan scored as it
    is made (``watched``: from :func:`_watched`). Returns the nodes in the order explored and whether ``max_nodes``
    cut the search short."""
    node = _scorer(layout, start, watched)
    moves, helpers = prepared.moves, prepared.helpers
    max_steps, max_nodes = bounds.max_steps, bounds.max_nodes
    nodes: list[Node] = []
    stack = [node(0, (), (), start, start, 0, 0, 0, None)]
    while stack:
        if len(nodes) >= max_nodes:
            return nodes, True
        plan = stack.pop()
        nodes.append(plan)
        steps = plan.steps
        if not plan.violated or len(steps) >= max_steps or plan.key[0]:
            continue  # met, long enough, or a regression (which every extension keeps: see **Ranking**)
        # One step more: a candidate after its last step, not excluded by its steps, that may improve a limit
        # it misses (so each subset is made once, and only when it may help).
        after = (1 << (steps[-1] + 1)) - 1 if steps else 0
        allowed = helpers[plan.violated] & ~plan.forbidden & ~after
        while allowed:
            bit = allowed & -allowed
            allowed ^= bit
            j = bit.bit_length() - 1
            step, name, difficulty, recommended, excludes, combined = moves[j]
            for partner, alternative in combined:
                if plan.mask & partner:
                    step = alternative
                    break
            lo, hi = apply(plan.lo, plan.hi, step)
            stack.append(
                node(plan.mask | bit, (*steps, j), (*plan.names, name), lo, hi, plan.difficulty + difficulty,
                     plan.recommended + recommended, plan.forbidden | excludes, plan)
            )  # fmt: skip
    return nodes, False


#: Makes a scored :class:`Node` from its fields up to ``recommended``, ``forbidden`` and the plan it extends.
_MakeNode = Callable[
    [int, tuple[int, ...], tuple[str, ...], list[float], list[float], int, int, int, Node | None], Node
]


def _scorer(layout: Layout, start: list[float], watched: _Watched) -> _MakeNode:
    """A function that scores a plan's final intervals into a :class:`Node` (the ranking of the module
    docstring; ``watched``: the metrics it must not make worse, from :func:`_watched`). Scoring is most of an
    advise call: what does not depend on the plan is decided here, once."""
    hard, soft = layout.hard_tests, layout.soft_tests
    tolerance = _REGRESSION_TOLERANCE
    core = [(i, lower, start[i]) for i, lower in layout.core if start[i] > 0.0]
    accuracy = layout.accuracy
    start_accuracy = start[accuracy]
    log, floor, gain_step, new = math.log, math.floor, _GAIN_STEP, tuple.__new__

    def node(mask: int, steps: tuple[int, ...], names: tuple[str, ...], lo: list[float], hi: list[float],
             difficulty: int, recommended: int, forbidden: int, parent: Node | None) -> Node:  # fmt: skip
        violated = violations = met_soft = 0
        shortfall = 0.0
        for bit, i, upper, holds, threshold, limit, scale in hard:
            value = hi[i] if upper else lo[i]
            if not holds(value, threshold):
                violated |= bit
                violations += 1
                shortfall += abs(value - limit) / scale
        for bit, i, upper, holds, threshold in soft:
            if holds(hi[i] if upper else lo[i], threshold):
                met_soft += 1
            else:
                violated |= bit
        gain = 0.0
        for i, lower, start_value in core:
            if lower:
                if hi[i] > 0.0:
                    gain += log(start_value / hi[i])
            elif lo[i] > 0.0:
                gain += log(lo[i] / start_value)
        risk = start_accuracy - lo[accuracy]
        if risk < 0.0:
            risk = 0.0
        # a regression: this step makes a watched metric worse (see _worse; a plan with one is not extended)
        regress = False
        if parent is not None:
            before_lo, before_hi = parent.lo, parent.hi
            for i, lower in watched:
                if lower:
                    before = before_hi[i]
                    if hi[i] - before > (before if before >= 0.0 else -before) * tolerance:
                        regress = True
                        break
                else:
                    before = before_lo[i]
                    if before - lo[i] > (before if before >= 0.0 else -before) * tolerance:
                        regress = True
                        break
        gain_steps = floor(gain / gain_step + 1e-9)
        key = (regress, violations > 0, violations, shortfall, -met_soft, -recommended, -gain_steps, risk,
               difficulty, len(steps), names)  # fmt: skip
        # Node(...) without NamedTuple.__new__'s argument handling (a third of the cost of making one)
        return new(Node, (mask, steps, names, lo, hi, difficulty, recommended, violated, violations, shortfall,
                          met_soft, gain, risk, key, forbidden))  # fmt: skip

    return node


def _watched(layout: Layout, violated: int) -> _Watched:
    """The metrics no step may make worse, as ``(index, lower is better)``: those whose constraint is violated now
    (``violated``: bits) and the core ones, but accuracy and accuracy_drop (the accuracy risk and the limits weigh
    them)."""
    indices = [s.index for k, s in enumerate(layout.limits) if violated >> k & 1]
    indices += [i for i, _ in layout.core]
    return tuple(
        (i, layout.lower_better[i])
        for i in dict.fromkeys(indices)
        if i < layout.shown and layout.metrics[i] not in ("accuracy", "accuracy_drop")
    )


def _worse(before: Node, after: Node, i: int, lower: bool) -> bool:
    """Whether the step from ``before`` to ``after`` makes metric ``i`` worse pessimistically, beyond a relative
    :data:`_REGRESSION_TOLERANCE` (the scorer inlines this test)."""
    if lower:
        return after.hi[i] - before.hi[i] > abs(before.hi[i]) * _REGRESSION_TOLERANCE
    return before.lo[i] - after.lo[i] > abs(before.lo[i]) * _REGRESSION_TOLERANCE


def _rank(layout: Layout, nodes: list[Node], by_mask: Mapping[int, Node], truncated: bool) -> list[Node]:
    """Drop dominated feasible plans and the empty plan, sort the rest (see the module docstring)."""
    if any(n.feasible for n in nodes):
        keep = _undominated(len(layout.soft), nodes, by_mask, truncated)
    else:
        keep = [n for n in nodes if n.steps] or nodes
    keep.sort(key=_KEY)
    return keep


def _undominated(
    soft_limits: int, nodes: list[Node], by_mask: Mapping[int, Node], truncated: bool
) -> list[Node]:
    """When some plan is feasible: the plans but the empty one (unless feasible) and the feasible ones that a
    feasible proper subset matches on soft constraints met."""
    best_below: dict[
        int, int
    ] = {}  # mask -> most soft constraints met by a feasible proper subset (-1: none)
    keep: list[Node] = []
    for node in sorted(nodes, key=lambda n: len(n.steps)):
        best = -1
        mask = rest = node.mask
        while rest:  # each subset one step smaller
            bit = rest & -rest
            rest ^= bit
            sub = by_mask.get(mask ^ bit)
            if sub is None:  # never explored: a smaller plan inside met every constraint (or the cap hit)
                best = max(best, -1 if truncated else soft_limits)
            else:
                best = max(best, sub.soft if sub.feasible else -1, best_below[sub.mask])
        best_below[mask] = best
        if not (node.feasible and best >= node.soft) and (node.steps or node.feasible):
            keep.append(node)
    return keep


def _predicted(
    at: Node, shown: Sequence[str], lower: Sequence[bool]
) -> Callable[[], dict[str, PredictedRange]]:
    """The metrics predicted after a step as ``{metric: PredictedRange}``, built only if someone reads them."""

    def build() -> dict[str, PredictedRange]:
        lo, hi = at.lo, at.hi
        return {
            m: PredictedRange(lo[k], hi[k]) if lower[k] else PredictedRange(hi[k], lo[k])
            for k, m in enumerate(shown)
        }

    return build


def _plan(layout: Layout, prepared: Prepared, by_mask: Mapping[int, Node], node: Node, rank: int) -> Plan:
    steps: list[PlanStep] = []
    mask = 0
    shown = layout.metrics[: layout.shown]
    lower = layout.lower_better
    for i in node.steps:
        mask |= 1 << i
        at = by_mask[mask]
        c = prepared.candidates[i]
        stage = STAGES[c.resolved.compiled.stage]
        notes = c.resolved.caveats + _combination_note(c, node.names[: len(steps)])
        steps.append(PlanStep(c.name, stage, c.recommended, notes, _predicted(at, shown, lower)))
    checks = []
    optimistic_ok = not layout.unknown_hard
    for spec in layout.limits:
        low, high = node.lo[spec.index], node.hi[spec.index]
        worst, best = (high, low) if spec.upper else (low, high)
        pess: CheckStatus = "met" if spec.met(worst) else "violated"
        opt: CheckStatus = "met" if spec.met(best) else "violated"
        if spec.limit.hard and opt == "violated":
            optimistic_ok = False
        checks.append(PlanCheck(spec.limit.metric, pess, opt))
    if layout.unknown:
        checks.extend(PlanCheck(lim.metric, "unknown", "unknown") for lim in layout.unknown)
        checks.sort(key=lambda c: layout.order[c.metric])
    feasible = node.feasible and not layout.unknown_hard
    return Plan(
        rank,
        node.names,
        tuple(steps),
        feasible,
        optimistic_ok,
        tuple(checks),
        math.exp(node.gain),
        node.risk,
        node.difficulty,
    )


def _combination_note(c: SearchCandidate, before: Sequence[str]) -> tuple[str, ...]:
    """The note of the combination a step takes (the first ``with T`` whose T the plan applied before it)."""
    if not c.resolved.combined:
        return ()
    for w in c.resolved.compiled.technique.combinations:
        if w.technique.name in before and w.technique.name in c.resolved.combined:
            note = Message("technique.combined", technique=w.technique.name)
            return (Message("technique.because", text=note, reason=w.reason) if w.reason else note,)
    return ()


__all__ = [
    "DEFAULT_BOUNDS",
    "Bounds",
    "Layout",
    "LimitSpec",
    "Node",
    "Prepared",
    "SearchCache",
    "SearchCandidate",
    "SearchResult",
    "search",
]
