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
they can be built in: by stage (architecture/distillation → pruning → fusion → quantization → compile/runtime → other), then
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
the model misses now) as a ``mcm._core.SearchSpace``; repeated calls with new numbers only enumerate, score and
rank, in that Rust kernel (``rust/src/search.rs``, without the GIL). The explored plans cross back to Python only
when an explanation reads them (:attr:`SearchResult.nodes`); the kernel takes at most :data:`MAX_CANDIDATES`
candidates (those beyond are named in a warning).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, NamedTuple

from mcm import metrics
from mcm._core import Explored, SearchSpace
from mcm.engine.decision import CheckStatus, Plan, PlanCheck, PlanStep, PredictedRange
from mcm.engine.evaluate import COMPARISONS
from mcm.engine.facts import Facts, Limit
from mcm.engine.messages import Message
from mcm.engine.techniques import STAGES, Change, Resolved

if TYPE_CHECKING:
    from mcm._core import _ExploredRow

#: One effect on tracked metric ``index``: (index, is a factor, low, high).
_Vector = tuple[tuple[int, bool, float, float], ...]
#: A vector split for speed: plain factors (index, low, high) on metrics valid on [0, inf), and the rest.
_Step = tuple[tuple[tuple[int, float, float], ...], _Vector]
#: The metrics no step of a plan may make worse: (index, lower is better).
_Watched = tuple[tuple[int, bool], ...]
_CACHE_SIZE = 512
#: The most candidates one search takes (the kernel's masks are 64 bits wide).
MAX_CANDIDATES = 64


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
        self.unknown_hard = tuple(lim for lim in self.unknown if lim.hard)
        self.core = tuple((self.index[m], self.lower_better[self.index[m]]) for m in core if m in shown)

    def split(self, vector: _Vector) -> _Step:
        """The vector as the kernel takes it: factors >= 0 on metrics valid on [0, inf) need no clamping."""
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
    """An applicable technique that can help, with its effects as the kernel takes them and the limits it may
    improve or worsen."""

    resolved: Resolved
    name: str
    step: _Step
    recommended: bool
    better: int
    worse: int
    moves_core: bool


@dataclass(frozen=True, slots=True)
class Prepared:
    """The per-shape part of a search: candidates in step order, what was left out, the kernel's search space."""

    candidates: tuple[SearchCandidate, ...]
    #: Applicable techniques that cannot move a target (see :attr:`targets`) the right way.
    no_gain: tuple[str, ...]
    targets: tuple[tuple[str, bool], ...]
    #: The metrics no step may make worse (see :func:`_watched`).
    watched: _Watched
    #: The kernel's view of all this (``mcm._core.SearchSpace``).
    space: SearchSpace = field(compare=False, repr=False)
    #: Techniques that may help but are beyond the kernel's width (:data:`MAX_CANDIDATES`, in step order).
    beyond: tuple[str, ...] = ()


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
                SearchCandidate(r, r.name, layout.split(vector), r.name in chosen, better, worse, core)
            )
    wanted = violated | fragile
    usable = [c for c in moved if c.better & wanted or c.moves_core]
    usable.sort(key=lambda c: (c.resolved.compiled.stage, c.name))
    usable, beyond = usable[:MAX_CANDIDATES], tuple(c.name for c in usable[MAX_CANDIDATES:])
    index = {c.name: i for i, c in enumerate(usable)}
    aims = [(s.limit.metric, s.upper) for k, s in enumerate(layout.limits) if wanted >> k & 1]
    aims += [(layout.metrics[i], lower) for i, lower in layout.core]
    targets = tuple(dict.fromkeys(aims))
    no_gain = tuple(c.name for c in moved if c.name not in index and c.name not in beyond)
    improvers = [
        sum(1 << j for j, c in enumerate(usable) if c.better >> k & 1) for k in range(len(layout.limits))
    ]
    watched = _watched(layout, violated)
    # each candidate as the search adds it: its step, difficulty, recommendation, the candidates it excludes, and
    # its steps in combination, ``(bit of a candidate, step)``, taken when the plan has that one already
    moves = [
        (
            c.name,
            c.step,
            c.resolved.compiled.difficulty,
            c.recommended,
            sum(1 << index[x] for x in c.resolved.compiled.excludes if x in index),
            _combined(layout, c, index),
        )
        for c in usable
    ]
    space = SearchSpace(
        moves,
        improvers,
        list(layout.floor),
        list(layout.ceiling),
        layout.drop,
        layout.accuracy,
        _kernel_limits(layout, hard=True),
        _kernel_limits(layout, hard=False),
        list(layout.core),
        list(watched),
    )
    return Prepared(tuple(usable), no_gain, targets, watched, space, beyond)


def _kernel_limits(layout: Layout, *, hard: bool) -> list[tuple[int, int, bool, str, float, float, float]]:
    """The hard or soft limits as the kernel tests them: ``(bit, index, upper, op, threshold, limit, scale of a
    shortfall)`` (relative to the limit; absolute for a zero limit)."""
    return [
        (1 << k, s.index, s.upper, s.limit.op, s.threshold, s.limit.value, abs(s.limit.value) or 1.0)
        for k, s in enumerate(layout.limits)
        if s.limit.hard == hard
    ]


def _combined(layout: Layout, c: SearchCandidate, index: Mapping[str, int]) -> tuple[tuple[int, _Step], ...]:
    """A candidate's steps in combination (``with T``), for each T among the candidates (which precede it)."""
    return tuple(
        (1 << index[partner], layout.split(layout.vector(effects)))
        for partner, effects in c.resolved.combined.items()
        if partner in index
    )


class Node(NamedTuple):
    """One explored plan (a subset of the candidates, in step order) with its final intervals, its scores, and
    the candidates its steps exclude (a row of the kernel's ``Explored``, with the names)."""

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
    #: The watched metrics (bits of tracked indices) its last step makes worse (see the module docstring,
    #: **Ranking**; a plan with a regression is not extended, so only the last step can have one).
    worse: int
    gain_steps: int
    #: The candidates excluded by one of its steps (bits): the search does not add them.
    forbidden: int

    @property
    def feasible(self) -> bool:
        """Every hard constraint with a known value met pessimistically."""
        return self.violations == 0

    @property
    def regress(self) -> bool:
        """Its last step makes a watched metric worse."""
        return self.worse != 0

    def worst(self, spec: LimitSpec) -> float:
        """The pessimistic value of a constrained metric (the end of the interval the limit bounds)."""
        return self.hi[spec.index] if spec.upper else self.lo[spec.index]


@dataclass(frozen=True)
class SearchResult:
    """Ranked plans plus what the explanations need: the layout, candidates, every plan explored (as
    :class:`Node` views of the kernel's rows, made when first read)."""

    plans: tuple[Plan, ...]
    layout: Layout
    prepared: Prepared
    explored: Explored
    #: The metrics no step of a plan may make worse (see the module docstring, **Ranking**).
    watched: _Watched = ()

    @property
    def truncated(self) -> bool:
        """The node cap cut the search short."""
        return self.explored.truncated

    @functools.cached_property
    def nodes(self) -> tuple[Node, ...]:
        """Every plan explored, in the order explored."""
        names = tuple(c.name for c in self.prepared.candidates)
        return tuple(_node(row, names) for row in self.explored.rows())

    @functools.cached_property
    def ranked(self) -> tuple[Node, ...]:
        """The plans to show, best first (see **Ranking**)."""
        nodes = self.nodes
        return tuple(nodes[k] for k in self.explored.ranked)

    @functools.cached_property
    def by_mask(self) -> dict[int, Node]:
        """The explored plans by mask (every prefix of an explored plan was explored before it)."""
        return {n.mask: n for n in self.nodes}

    def regressions(self, node: Node) -> tuple[str, ...]:
        """The watched metrics that some step of this plan makes worse pessimistically (see **Ranking**)."""
        worse, mask = 0, 0
        for j in node.steps:
            mask |= 1 << j
            worse |= self.by_mask[mask].worse
        return tuple(self.layout.metrics[i] for i, _ in self.watched if worse >> i & 1)


def _node(row: _ExploredRow, names: Sequence[str]) -> Node:
    """A kernel row as a :class:`Node` (the names inserted after the steps)."""
    return Node(row[0], row[1], tuple(names[j] for j in row[1]), *row[2:])


def search(
    facts: Facts,
    resolved: tuple[Resolved, ...],
    recommended: Sequence[str],
    core: Sequence[str],
    secondary: Sequence[str],
    bounds: Bounds,
    cache: SearchCache,
) -> SearchResult:
    """Enumerate, score and rank plans over the applicable techniques (see the module docstring; the kernel,
    ``mcm._core.SearchSpace``, does the enumeration and ranking)."""
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
    explored = prepared.space.search(
        start, base if linked and base is not None else 0.0, bounds.max_steps, bounds.max_nodes
    )
    names_ = tuple(c.name for c in prepared.candidates)
    rows: dict[int, Node] = {}

    def at(mask: int) -> Node:
        """The explored plan with these candidates, made once."""
        node = rows.get(mask)
        if node is None:
            found = explored.find(mask)
            assert found is not None  # every prefix of an explored plan was explored
            node = rows[mask] = _node(explored.row(found), names_)
        return node

    top = [_node(explored.row(k), names_) for k in explored.ranked[: bounds.max_plans]]
    rows.update((n.mask, n) for n in top)
    plans = tuple(_plan(layout, prepared, at, n, rank) for rank, n in enumerate(top, 1))
    return SearchResult(plans, layout, prepared, explored, prepared.watched)


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


def _plan(layout: Layout, prepared: Prepared, at: Callable[[int], Node], node: Node, rank: int) -> Plan:
    """A ranked plan as the decision shows it (``at``: the explored plan with these candidates, by mask)."""
    steps: list[PlanStep] = []
    mask = 0
    shown = layout.metrics[: layout.shown]
    lower = layout.lower_better
    for i in node.steps:
        mask |= 1 << i
        after = at(mask)
        c = prepared.candidates[i]
        stage = STAGES[c.resolved.compiled.stage]
        notes = c.resolved.caveats + _combination_note(c, node.names[: len(steps)])
        steps.append(PlanStep(c.name, stage, c.recommended, notes, _predicted(after, shown, lower)))
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
    "MAX_CANDIDATES",
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
