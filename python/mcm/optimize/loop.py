"""The optimization loop: measure the baselines, ask the advisor, apply a step, measure again, re-evaluate the
rules on the new facts, keep the step only if the measurements say it helped; stop when every hard constraint
holds, the candidates run out, or the budget is spent.

A hard constraint that cannot be checked here (``power_w`` without an energy counter) is "unknown", not
held: the loop keeps trying techniques for it, and the exit status counts only violated constraints.

``out`` is claimed for the whole run (a second run on it fails at once), every file is written into a temporary
directory beside it, and that is renamed into place at the end (``mcm.files.staged_directory``); Ctrl-C or an error
removes it. The input model is only ever read.
"""

from __future__ import annotations

import math
import os
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from mcm import metrics
from mcm.exceptions import McmError, OptimizeError
from mcm.measure.inputs import ShapeArg, parse_shape
from mcm.measure.param_difference import Difference, explain_export
from mcm.measure.unavailable import Unavailable
from mcm.metrics import format_value
from mcm.optimize import techniques
from mcm.optimize.base import Applied, Artifact, Context, OutOfTime
from mcm.rules.ast import STAGES, stage_order
from mcm.units import did_you_mean, format_quantity

if TYPE_CHECKING:
    from mcm.optimize.agreement import Agreement, Reference
    from mcm.optimize.compare import Paired
    from mcm.rules.ast import Scenario

#: The smallest change a step must make to a judged metric to be kept (size, memory: the measured values; speed:
#: the paired ratio, whose interval must also lie outside the noise band).
MIN_GAIN = 1.05
#: The batch timed for throughput in scenarios judged on throughput or serving cost (a server's batch); the
#: others are single-stream (a phone, a camera, an edge box answer one request at a time): batch 1. On a CPU the
#: throughput per sample stops growing by batch 4 to 8 (measured here, BERT-base at sequence 128, 1 thread: 4.95,
#: 5.42, 5.33 and 4.99 sequences/s at batch 1, 4, 8 and 32), while every call at 32 takes 4× as long as at 8.
SERVER_BATCH = 8
#: Warm-up calls before each timing of a candidate, and calls checked for stable outputs: fewer than `mcm
#: measure`'s defaults (10, 3), which cost a minute per candidate on a transformer at a server's batch.
WARMUP, REPEATS = 2, 2
#: Seconds a candidate's own timing may take per batch size (at least --min-time): keep/reject decisions rest on
#: the paired rounds, these figures are the report's; `mcm measure` takes up to 10 (BERT-base at batch 8, 1
#: thread: 2 s a call, so 10 s per candidate went to 5 calls the decision does not read).
MEASURE_MAX_TIME = 4.0
_OUT_OF_TIME = "not tried: the budget ran out"
#: Metrics that follow the call time, judged by the paired comparison rather than by separate measurements.
_SPEED = frozenset(
    m.name
    for m in metrics.METRICS.values()
    if m.category == "performance" and m.name not in ("flops_g", "macs_g")
) | {"cost_usd_per_day", "cost_usd_per_million"}

Say = Callable[[str], None]
#: What ``mcm optimize`` takes as its model.
SUPPORTED = (
    "an .onnx file, a PyTorch entry point (package.module:factory), torchvision:NAME, timm:NAME or demo"
)


@dataclass(frozen=True)
class Options:
    """What ``mcm optimize`` was asked to do."""

    model: str
    rules: tuple[Path, ...]
    out: Path
    scenario: str | None = None
    #: Extra or overriding constraints, as `mcm advise --constraint` takes them (``"latency_ms<5 ms"``).
    constraints: tuple[str, ...] = ()
    calib: Path | None = None
    eval_set: Path | None = None
    train: Path | None = None
    budget_s: float = 600.0
    threads: int = 1
    #: The batch timed for throughput and compared in pairs; None: the scenario's (:func:`scenario_batch`).
    batch: int | None = None
    min_time: float = 1.0
    min_count: int = 50
    max_accuracy_drop_pp: float = 1.0
    #: count a hard constraint that could not be measured (``unknown``) as missed, not as holding
    strict: bool = False
    #: Target facts, as `mcm advise --env` takes them (``nvidia_gpu=true``); they override what is detected.
    env: tuple[tuple[str, str], ...] = ()
    #: Shapes for inputs with symbolic dimensions when no data gives them, as `mcm measure --shape` takes them
    #: (``input_ids=1x128``; dimension 0 follows the batch).
    shapes: tuple[str, ...] = ()
    #: Only these techniques are tried (empty: every one the rules allow); ``skip``: never these.
    only: tuple[str, ...] = ()
    skip: tuple[str, ...] = ()


@dataclass
class Candidate:
    """One model of the loop (a baseline, or a technique chain tried or skipped): its chain, metrics, verdict and
    the rules that drove it.

    ``torch_stage`` is the PyTorch form of the chain's first ``torch_len`` techniques (the weight-level steps);
    the rest of the chain are ONNX-level steps applied on top of its export."""

    name: str
    chain: tuple[str, ...]
    model: Artifact | None
    status: str  # baseline | kept | rejected | failed | skipped (and "measured" until it is judged)
    reason: str = ""
    metrics: dict[str, float] = field(default_factory=dict)
    applied: list[Applied] = field(default_factory=list)
    source: str = ""
    constraints: list[dict[str, Any]] = field(default_factory=list)
    trace: list[dict[str, Any]] = field(default_factory=list)
    #: Paired speed against the best model it was judged against (``vs_best``) and ONNX Runtime FP32.
    paired: dict[str, Paired] = field(default_factory=dict)
    torch_stage: Artifact | None = None
    torch_len: int = 0
    #: Why a metric was not measured, by name (``accuracy``: ``no --eval data``).
    unavailable: dict[str, str] = field(default_factory=dict)
    #: The batch size whose rate is ``metrics["throughput_qps"]`` (the best of those timed), when measured.
    throughput_batch: int | None = None
    #: Outputs against the FP32 baseline's, when accuracy could not be measured against labels (or why not).
    agreement: Agreement | Unavailable | None = None


@dataclass
class Result:
    """What the loop found; ``best`` is the chosen model (possibly the ONNX baseline)."""

    options: Options
    #: The batch timed for throughput and compared in pairs (``options.batch`` or the scenario's).
    batch: int
    candidates: list[Candidate]
    best: Candidate
    eager: Candidate | None
    onnx_baseline: Candidate
    stop_reason: str
    env: dict[str, bool | float | str]
    provenance: dict[str, Any]
    meets_constraints: bool
    #: Why the ONNX baseline counts other parameters than the PyTorch model (None without a PyTorch model).
    param_difference: Difference | Unavailable | None = None
    #: What the export of a PyTorch model had to say (a sequence length it had to fix).
    export_notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class OptimizeInput:
    """The model to optimize: its ONNX file, and the PyTorch form when there is one; for a model exported here,
    its inputs' example shapes (what fills a free sequence length that --shape leaves open) and what the export
    has to say."""

    onnx: Path
    torch_module: Any = None
    torch_entry: str | None = None
    example: Any = None
    shapes: tuple[ShapeArg, ...] = ()
    notes: tuple[str, ...] = ()


def run(opts: Options, say: Say) -> Result:
    """Run the loop and write ``opts.out`` atomically; see the module docstring."""
    from mcm.files import OutputError, staged_directory
    from mcm.optimize import report

    for flag, path in (("--calib", opts.calib), ("--eval", opts.eval_set), ("--train", opts.train)):
        if path is not None and not path.is_file():
            raise OptimizeError(f"{flag} {path}: no such file")
    try:
        Path(os.path.abspath(opts.out)).parent.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise OptimizeError(f"{opts.out}: cannot write there ({e.strerror or e})") from e
    try:
        with staged_directory(opts.out) as work:
            result = _Loop(opts, work, say).run()
            report.write(result, work)
            _publish(result, work)
    except OutputError as e:
        raise OptimizeError(str(e), hint=e.hint) from e
    return result


def _publish(result: Result, work: Path) -> None:
    """Copy the chosen model to ``work/model.onnx``."""
    assert result.best.model is not None
    shutil.copyfile(result.best.model.onnx, work / "model.onnx")


class _Loop:
    def __init__(self, opts: Options, work: Path, say: Say) -> None:
        from mcm.advisor import Advisor

        self.opts, self.work, self.say = opts, work, say
        self.advisor = Advisor.from_files(opts.rules)
        scenario = self.advisor.engine.scenario(opts.scenario)  # unknown or ambiguous: fails before measuring
        self.scenario_name = scenario.name if scenario is not None else ""
        self.batch = opts.batch if opts.batch is not None else scenario_batch(scenario)
        self.shapes = tuple(parse_shape(s) for s in opts.shapes)  # bad input fails before measuring
        _check_techniques(opts, tuple(self.advisor.ruleset.techniques))
        self.source = resolve(opts.model, work)
        self.shapes = self.shapes or self.source.shapes  # the user's, else the export's example shapes
        for note in self.source.notes:
            say(note)
        self.steps = 0
        self.stopped_in_step = False  # the budget ran out while a technique was being applied
        self.started = time.monotonic()
        self.ctx = _context(opts, self.source, self._over_budget)
        self.candidates: list[Candidate] = []

    def run(self) -> Result:
        eager = self._eager()
        self.say("measuring the ONNX Runtime FP32 baseline")
        model = Artifact(self.source.onnx, self.source.torch_module)
        base = Candidate("onnxruntime fp32", (), model, "baseline", source="runtime baseline")
        base.torch_stage = model if self.source.torch_module is not None else None
        self.baseline = self._measured(base, str(self.source.onnx))
        self.env = self.measured_env
        self.reference = self._reference()
        self.tried: set[str] = set()
        queue = self._queue(self._advise(base))
        self.say(_constraint_line(base))
        best, stop = self._search(base, queue)
        return Result(
            self.opts,
            self.batch,
            [c for c in self.candidates if c is not base and c is not eager],
            best,
            eager,
            base,
            stop,
            self.env,
            self.provenance,
            _meets(best, strict=self.opts.strict),
            None
            if self.source.torch_module is None
            else explain_export(self.source.torch_module, self.source.onnx, self.source.example),
            self.source.notes,
        )

    def _eager(self) -> Candidate | None:
        """The PyTorch eager baseline, measured when the model has a PyTorch form."""
        if self.source.torch_module is None:
            return None
        self.say("measuring the PyTorch eager baseline")
        return self._measured(
            Candidate("torch eager", (), None, "baseline", source="framework baseline"),
            self.source.torch_entry or self.source.torch_module,
        )

    def _search(self, base: Candidate, queue: list[tuple[str, str]]) -> tuple[Candidate, str]:
        """Try the queued techniques, each on the newest kept model it combines with, until every hard
        constraint holds, the queue is empty or the budget is spent; returns the best model and why it stopped."""
        best, lineage = base, [base]
        while queue:
            if self._met(best):
                return best, "every hard constraint holds"
            if self._over_budget():
                return best, self._out_of_time(queue)
            technique, source = queue.pop(0)
            parent = self._parent(technique, lineage)
            cand = self._step(technique, source, parent, lineage)
            if self.stopped_in_step:
                self.say(f"  {cand.status}: {cand.reason}")
                return best, self._out_of_time(queue)
            if cand.status == "measured":
                decision = self._advise(cand)
                cand.status, cand.reason = self._judge(cand, best)
                if cand.status == "kept":
                    best = cand
                    lineage = [*lineage[: lineage.index(parent) + 1], cand]
                    queue += self._queue(decision)
            self.say(f"  {cand.status}: {cand.reason}")
        return best, "every candidate technique was tried"

    def _out_of_time(self, queue: list[tuple[str, str]]) -> str:
        """Name what the budget left untried; the reason the search stopped."""
        self.candidates += [Candidate(t, (t,), None, "skipped", _OUT_OF_TIME, source=w) for t, w in queue]
        return f"the budget ({format_quantity(self.opts.budget_s, 's', 3)}) ran out"

    def _step(self, technique: str, source: str, parent: Candidate, lineage: list[Candidate]) -> Candidate:
        """Apply ``technique`` on ``parent``: ONNX-level steps on its file (a fusion on the float model of its
        ``lineage``, then the parent's later steps again: fuse → quantize); weight-level steps on its PyTorch
        stage, then the parent's ONNX-level steps again on the new export (quantize → prune → quantize); which is
        which, the rules say (``acts_on torch``)."""
        declared = self.advisor.engine.ruleset.techniques[technique].acts_on
        on_torch = declared is not None and declared.name == "torch"
        base = parent if on_torch else self._float_base(technique, parent, lineage)
        split = parent.torch_len if on_torch else len(base.chain)
        head, tail = parent.chain[:split], parent.chain[split:]
        chain = (*head, technique, *tail)
        cand = Candidate(" + ".join(chain), chain, None, "failed", source=source)
        cand.torch_stage, cand.torch_len = parent.torch_stage, parent.torch_len
        self.steps += 1
        self.say(f"step {self.steps}: {cand.name} ({source})")
        step_dir = self.work / "candidates" / f"{self.steps:02d}-{technique}"
        assert parent.model is not None
        try:
            if on_torch:
                if parent.torch_stage is None:
                    raise OptimizeError(f"{technique} needs the PyTorch model; {self.opts.model} has none")
                first = techniques.apply(
                    technique, parent.torch_stage, _mkdir(step_dir / technique), self.ctx
                )
                cand.torch_stage, cand.torch_len = first.model, len(head) + 1
            else:
                assert base.model is not None
                out = _mkdir(step_dir / technique if tail else step_dir)
                first = techniques.apply(technique, base.model, out, self.ctx)
            cand.applied.append(first)
            for t in tail:
                self.ctx.checkpoint(t)
                model = cand.applied[-1].model
                cand.applied.append(techniques.apply(t, model, _mkdir(step_dir / t), self.ctx))
            self.ctx.checkpoint(technique)  # applied, but no time left to measure it
        except McmError as e:
            self.stopped_in_step = isinstance(e, OutOfTime)
            hint = getattr(e, "hint", None)
            cand.status, cand.reason = "skipped", f"{e} ({hint})" if hint else str(e)
            shutil.rmtree(step_dir, ignore_errors=True)
            self.candidates.append(cand)
            return cand
        cand.model = cand.applied[-1].model
        for applied in cand.applied:
            for change in applied.changes:
                self.say(f"  {applied.technique}: {change}")
        try:
            self._measured(cand, str(cand.model.onnx))
        except McmError as e:
            cand.status, cand.reason = "failed", f"could not be measured: {e}"
            self.candidates.append(cand)
            return cand
        cand.status = "measured"
        return cand

    def _measured(self, cand: Candidate, model: Any) -> Candidate:
        from mcm.measure import measure_model

        report = measure_model(
            model,
            batches=tuple(sorted({1, self.batch})),
            data=self.ctx.eval_set,
            shapes=() if self.ctx.eval_set else self.shapes,
            threads=self.opts.threads,
            min_time=self.opts.min_time,
            min_count=self.opts.min_count,
            max_time=max(MEASURE_MAX_TIME, self.opts.min_time),
            warmup=WARMUP,
            repeats=REPEATS,
        )
        if report.stop_reason == "interrupted":
            raise KeyboardInterrupt
        if report.partial:
            raise OptimizeError(f"{cand.name}: measurement stopped early ({report.stop_reason})")
        offline = report.sections.get("throughput", {}).get("offline")
        cand.metrics = dict(report.metrics)
        cand.throughput_batch = offline.get("batch") if isinstance(offline, dict) else None
        cand.unavailable = dict(report.unavailable)
        if self.ctx.eval_set is None:
            cand.unavailable["accuracy"] = "no --eval data"
        self.provenance: dict[str, Any] = report.sections.get("provenance", {})
        self.measured_env = report.env_facts()  # as the provenance: of the latest measurement
        self.candidates.append(cand)
        return cand

    def _advise(self, cand: Candidate) -> Any:
        decision = self.advisor.advise(
            self.opts.scenario,
            measured=cand.metrics,
            baseline=self.baseline.metrics,
            constraints=self.opts.constraints,
            env=dict(self.opts.env),
            detected=self.env,
            data={"calibration": self.ctx.calib is not None, "training": self.ctx.train is not None},
        )
        cand.constraints = [c.to_dict() for c in decision.constraints]
        cand.trace = [t.to_dict() for t in decision.trace if t.status in ("fired", "error")]
        return decision

    def _queue(self, decision: Any) -> list[tuple[str, str]]:
        """Techniques to try, in the advisor's order: its recommendations, its ranked plans, the scenario's
        stack, then every other technique whose requirements hold (measurement decides whether it helps).
        Each technique is tried once; one whose requirement is unmet is reported as skipped."""
        seen: dict[str, str] = {}
        for r in decision.recommendations:
            seen.setdefault(r.technique, f"recommended by rule {r.rule} ({r.pos})")
        for plan in decision.plans:
            for step in plan.steps:
                seen.setdefault(step.technique, f"in the advisor's plan #{plan.rank}")
        scenario = self.advisor.ruleset.scenarios.get(decision.scenario or "")
        for s in scenario.stack if scenario else ():
            if s.technique:
                seen.setdefault(s.technique, f"in scenario {decision.scenario}'s stack")
        for name in self.advisor.ruleset.techniques:
            seen.setdefault(name, "not ruled out by the rules: tried, kept only if measured to help")
        unmet = {w.technique: w.message for w in decision.why_not if w.reason == "requirement_unmet"}
        queue = []
        for t, why in seen.items():
            if t in self.tried:
                continue
            self.tried.add(t)
            left_out = _left_out(t, self.opts)
            if left_out or t in unmet:
                self.candidates.append(Candidate(t, (t,), None, "skipped", left_out or unmet[t], source=why))
            else:
                queue.append((t, why))
        return queue

    def _parent(self, technique: str, lineage: list[Candidate]) -> Candidate:
        """The newest kept model whose chain does not exclude ``technique`` (a rival branches off earlier)."""
        rules = self.advisor.ruleset.techniques
        blocked = {str(x) for x in rules[technique].excludes} if technique in rules else set()
        for cand in reversed(lineage):
            chain_blocks = any(
                technique in {str(x) for x in rules[t].excludes} for t in cand.chain if t in rules
            )
            if not (blocked & set(cand.chain)) and not chain_blocks:
                return cand
        return lineage[0]

    def _float_base(self, technique: str, parent: Candidate, lineage: list[Candidate]) -> Candidate:
        """The model of ``parent``'s lineage an ONNX-level ``technique`` applies to: ``parent``, or for a technique
        staged before quantization (a fusion finds its patterns in the float graph only) the newest one whose
        ONNX-level steps quantize nothing."""
        rules = self.advisor.ruleset.techniques

        def stage(name: str) -> int:
            return stage_order(rules[name]) if name in rules else len(STAGES)

        quantization = STAGES.index("quantization")
        if stage(technique) >= quantization:
            return parent
        for cand in reversed(lineage[: lineage.index(parent) + 1]):
            prefix = parent.chain[: len(cand.chain)] == cand.chain and cand.torch_len == parent.torch_len
            if prefix and all(stage(t) < quantization for t in cand.chain[cand.torch_len :]):
                return cand
        return parent

    def _judge(self, cand: Candidate, best: Candidate) -> tuple[str, str]:
        """Keep ``cand`` only when the measurements say it improves what the scenario is judged on (a metric of a
        violated constraint, or a core metric) over the current best without breaking a hard constraint: outputs
        as healthy as the FP32 baseline's, accuracy within the allowed drop, speed only when the paired interval
        says the difference is real (:mod:`mcm.optimize.compare`), size and memory by at least ``MIN_GAIN``.
        Every limit is written so that a NaN fails it."""
        assert cand.model is not None and best.model is not None
        broken = _unhealthy(cand.metrics, self.baseline.metrics)
        if broken is not None:
            return "rejected", broken
        cand.paired = self._paired(best.model.onnx, cand.model.onnx)
        speed = cand.paired["vs_best"]
        size = cand.metrics.get("model_size_mb", math.nan) / best.metrics.get("model_size_mb", math.nan)
        if self.reference is not None and "accuracy" not in cand.metrics:
            cand.agreement = _compare_outputs(self.reference, cand.model.onnx)
        drop, accuracy = self._accuracy(cand)
        numbers = f"speed {speed} vs {best.name}; size {size:.2f}× {best.name}; {accuracy}"
        if best is not self.baseline:
            numbers += f"; {cand.paired['vs_onnx_fp32'].ratio:.2f}× ONNX Runtime FP32 (paired)"
        if any(c["hard"] and c["status"] == "violated" for c in cand.constraints) and not any(
            c["hard"] and c["status"] == "violated" for c in best.constraints
        ):
            return "rejected", f"violates a hard constraint: {numbers}"
        if drop is None and "accuracy" in self.baseline.metrics:
            return "rejected", f"its accuracy could not be measured: {numbers}"
        limit = self.opts.max_accuracy_drop_pp / 100  # a fraction, as the catalogue's accuracy_drop
        if drop is not None and not drop <= limit:
            return "rejected", f"accuracy drop above {format_value('accuracy_drop', limit)}: {numbers}"
        judged = self._judged_metrics(best)
        gains = [m for m in judged if _change(m, cand, best, speed) == "better"]
        losses = [m for m in self._violated(best) if _change(m, cand, best, speed) == "worse"]
        if losses:
            return "rejected", f"makes violated {', '.join(losses)} worse: {numbers}"
        if not gains:
            what = ", ".join(judged) or "nothing measurable"
            return (
                "rejected",
                f"no measured gain in what {self.scenario_name} is judged on ({what}): {numbers}",
            )
        return "kept", f"better {', '.join(gains)}: {numbers}"

    def _judged_metrics(self, best: Candidate) -> list[str]:
        """What a step must improve: the metrics of the best model's violated constraints, then the scenario's
        core metrics."""
        scenario = self.advisor.ruleset.scenarios.get(self.scenario_name)
        core = [str(m) for m in scenario.core] if scenario is not None else []
        return list(dict.fromkeys([*self._violated(best), *core]))

    @staticmethod
    def _violated(cand: Candidate) -> list[str]:
        return [c["metric"] for c in cand.constraints if c["status"] == "violated"]

    def _accuracy(self, cand: Candidate) -> tuple[float | None, str]:
        """The accuracy drop from the FP32 baseline (the catalogue's ``accuracy_drop``, a fraction), and how to
        say it; None when either was not measured (then the words say why, never 0)."""
        base, new = self.baseline.metrics.get("accuracy"), cand.metrics.get("accuracy")
        if base is not None and new is not None:
            drop = base - new
            return drop, f"accuracy drop {format_value('accuracy_drop', drop)} vs FP32"
        missing = cand if new is None else self.baseline
        why = missing.unavailable.get("accuracy", "no reason given")
        said = f"accuracy not measured ({why if missing is cand else 'for the FP32 baseline: ' + why})"
        if cand.agreement is not None:
            said += f"; {cand.agreement}"
            if not isinstance(cand.agreement, Unavailable) and cand.agreement.top1 is not None:
                said += f" (an accuracy drop of at most {1 - cand.agreement.top1:.1%} on these rows)"
        return None, said

    def _reference(self) -> Reference | None:
        """The FP32 outputs candidates are compared with when there are no labels (None with labelled data)."""
        from mcm.optimize.agreement import Reference

        if "accuracy" in self.baseline.metrics:
            return None
        try:
            return Reference(
                self.source.onnx, calib=self.ctx.calib, threads=self.opts.threads, shapes=self.shapes
            )
        except McmError as e:
            self.say(f"outputs will not be compared with FP32: {e}")
            return None

    def _paired(self, best: Path, candidate: Path) -> dict[str, Paired]:
        """``candidate`` against the current best (``vs_best``) and the FP32 baseline (``vs_onnx_fp32``), in one
        set of rounds; the rounds stop early when the budget runs out."""
        from mcm.optimize import compare

        base = self.baseline.model
        assert base is not None
        others = {} if best == base.onnx else {"fp32": base.onnx}
        found = compare.paired(
            best,
            candidate,
            others=others,
            batch=self.batch,
            threads=self.opts.threads,
            data=self.ctx.eval_set or self.ctx.calib,
            shapes=self.shapes,
            round_time=max(0.01, self.opts.min_time / 20),
            should_stop=self._over_budget,
        )
        return {"vs_best": found["reference"], "vs_onnx_fp32": found.get("fp32", found["reference"])}

    def _over_budget(self) -> bool:
        return time.monotonic() - self.started > self.opts.budget_s

    def _met(self, cand: Candidate) -> bool:
        hard = [c for c in cand.constraints if c["hard"]]
        return bool(hard) and all(c["status"] == "met" for c in hard)


def scenario_batch(scenario: Scenario | None) -> int:
    """The batch a scenario is timed at: :data:`SERVER_BATCH` when throughput or serving cost is one of its core
    metrics, else 1 (single-stream)."""
    core = {str(m) for m in scenario.core} if scenario is not None else set()
    return SERVER_BATCH if core & {"throughput_qps", "cost_usd_per_day", "cost_usd_per_million"} else 1


def _check_techniques(opts: Options, known: tuple[str, ...]) -> None:
    """Refuse a technique in ``--only`` or ``--skip`` the rules do not define."""
    for flag, names in (("--only", opts.only), ("--skip", opts.skip)):
        for name in names:
            if name not in known:
                hint = did_you_mean(name, known) or "techniques: " + ", ".join(known)
                raise OptimizeError(f"{flag} {name}: no such technique in the rules", hint=hint)


def _left_out(technique: str, opts: Options) -> str:
    """Why ``--only``/``--skip`` leave ``technique`` out, or ""."""
    if opts.only and technique not in opts.only:
        return "not tried: not in --only"
    return "not tried: --skip" if technique in opts.skip else ""


def _change(
    metric: str, cand: Candidate, best: Candidate, speed: Paired
) -> Literal["better", "worse", "same", "unknown"]:
    """How ``cand`` changes ``metric`` from ``best``: speed metrics by the paired comparison (its interval
    outside the noise band and its ratio at least :data:`MIN_GAIN` from 1), the others by their measured values
    (at least :data:`MIN_GAIN` apart); "unknown" when either was not measured."""
    if metric in _SPEED:
        if speed.faster and speed.ratio >= MIN_GAIN:
            return "better"
        return "worse" if speed.slower and speed.ratio <= 1 / MIN_GAIN else "same"
    known = metrics.get(metric)
    new, old = cand.metrics.get(metric), best.metrics.get(metric)
    if known is None or new is None or old is None or not (math.isfinite(new) and math.isfinite(old)):
        return "unknown"
    # better when a * MIN_GAIN <= b, worse when b * MIN_GAIN <= a
    a, b = (new, old) if known.better == "lower" else (old, new)
    if a == b:
        return "same"
    return "better" if a * MIN_GAIN <= b else "worse" if b * MIN_GAIN <= a else "same"


def resolve(model: str, work: Path) -> OptimizeInput:
    """``demo``, an ``.onnx`` file, or a PyTorch entry point (exported to ONNX into ``work``); the argument is
    read as ``mcm measure`` reads it (:func:`mcm.measure.loader.locate`)."""
    from mcm import demo
    from mcm.measure import loader

    named = loader.locate(model, SUPPORTED)
    if named.kind == "demo":
        module, example = build_entry(demo.ENTRY_POINT)
        return OptimizeInput(demo.ONNX_PATH, module, demo.ENTRY_POINT, example)
    if named.kind == "file" and named.path is not None and named.path.suffix.lower() == ".onnx":
        return OptimizeInput(named.path.resolve())
    if named.kind == "entry point":
        from mcm.optimize import export

        module, example = build_entry(model)
        if example is None:
            raise OptimizeError(
                f"{model}: the factory returned a module without example inputs, so it cannot be exported",
                hint="return (module, example) or (module, (input_1, input_2, ...)), as mcm measure takes it",
            )
        exported = export.export(module, example, work / "exported")
        return OptimizeInput(exported.path, module, model, example, exported.shapes, exported.notes)
    raise OptimizeError(f"{model}: give {SUPPORTED}")


def build_entry(entry: str) -> tuple[Any, tuple[Any, ...] | None]:
    """``(module, its example input tensors or None)`` from a ``package.module:factory`` entry point
    (:func:`mcm.measure.loader.build`): one tensor or a sequence of them, as ``mcm measure`` takes them."""
    from mcm.measure import loader

    module, example = loader.build(entry)
    tensors = loader.as_tensors(example)
    return module, tuple(tensors) if tensors else None


def _context(opts: Options, source: OptimizeInput, out_of_time: Callable[[], bool]) -> Context:
    from mcm import demo
    from mcm.measure.environment import cpu

    info = cpu()
    flags = info["flags"] if isinstance(info["flags"], dict) else {}
    is_demo = opts.model == "demo"
    return Context(
        threads=opts.threads,
        calib=opts.calib or (demo.CALIB_PATH if is_demo else None),
        train=opts.train or (demo.TRAIN_PATH if is_demo else None),
        eval_set=opts.eval_set or (demo.EVAL_PATH if is_demo else None),
        cpu_flags=flags,
        arch=str(info["arch"]),
        example=source.example,
        out_of_time=out_of_time,
    )


def _mkdir(path: Path) -> Path:
    path.mkdir(parents=True)
    return path


def _compare_outputs(reference: Reference, candidate: Path) -> Agreement | Unavailable:
    try:
        return reference.compare(candidate)
    except McmError as e:
        return Unavailable(f"outputs not compared with FP32: {e}")


def _unhealthy(metrics: dict[str, float], baseline: dict[str, float]) -> str | None:
    """Why a candidate's outputs cannot be trusted (more NaN/Inf values, or more failed calls, than the FP32
    baseline's on the same inputs), or None."""
    bad, base_bad = metrics.get("nan_inf_count", 0.0), baseline.get("nan_inf_count", 0.0)
    if not bad <= base_bad:
        return (
            f"numerically broken: its outputs hold {format_value('nan_inf_count', bad)} NaN/Inf values "
            f"(the FP32 baseline's: {format_value('nan_inf_count', base_bad)})"
        )
    rate, base_rate = metrics.get("error_rate", 0.0), baseline.get("error_rate", 0.0)
    if not rate <= base_rate:
        return f"{rate:.1%} of its calls raised (the FP32 baseline's: {base_rate:.1%})"
    return None


def _meets(best: Candidate, *, strict: bool) -> bool:
    """No hard constraint violated (with ``strict``, none unknown either)."""
    return not any(
        c["hard"] and (c["status"] == "violated" or (strict and c["status"] == "unknown"))
        for c in best.constraints
    )


def _constraint_line(cand: Candidate) -> str:
    return "constraints: " + "; ".join(c["text"] for c in cand.constraints)
