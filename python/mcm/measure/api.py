"""``measure_model``: load a model, check its inputs and outputs, time it per batch size, and report.

Order matters. Inputs are checked against the signature before anything runs; a few check calls per batch size
catch a model that cannot run at all (a clear error) apart from one that fails now and then (an error rate).
The memory window spans loading and the check calls at every batch size (where the model reaches its peak), and
closes before the timing loop, whose per-call samples are the harness's memory, not the model's. A model named by a
path or an entry point is then loaded and checked again in a fresh process, whose peak is the one reported, so that
it does not depend on what this process ran before (:mod:`mcm.measure.memory`); the reference
model and the static counts (size, parameters, FLOPs) come later still. Ctrl-C at any point after loading
returns a partial report of what was measured.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from mcm.exceptions import CallableError, InputError, McmError, MeasurementError
from mcm.measure import accuracy, environment, health, loader, memory, power
from mcm.measure import inputs as inputs_mod
from mcm.measure.inputs import Dataset, InputPlan, ShapeArg
from mcm.measure.report import MeasureReport
from mcm.measure.results import Results, build_report
from mcm.measure.runner import Runner
from mcm.measure.unavailable import Unavailable
from mcm.timing import LatencyReport, time_callable

#: ``progress(step, steps, label, expected_seconds)``: called as each phase starts.
Progress = Callable[[int, int, str, float], None]
#: Called with each batch size's latency report as soon as it is timed (a live histogram while the run goes on).
OnLatency = Callable[[int, LatencyReport], None]
#: Most threads asked for per usable CPU: more only adds OS threads (each runtime starts one per thread asked for).
THREADS_PER_CPU = 4


@dataclass(frozen=True)
class Settings:
    """How to measure; the defaults finish the demo in a few seconds."""

    threads: int
    batches: tuple[int, ...] | None = None
    warmup: int = 10
    warmup_time: float = 0.2
    min_count: int = 50
    min_time: float = 1.0
    max_time: float = 10.0
    repeats: int = 3
    price_per_hour: float | None = None
    qps: float | None = None
    seed: int = 0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def measure_model(
    model: Any,
    *,
    batches: Sequence[int] | None = None,
    shapes: Sequence[str | ShapeArg] | Mapping[str, Sequence[int]] = (),
    data: str | os.PathLike[str] | None = None,
    inputs: Mapping[str, npt.NDArray[Any]] | None = None,
    threads: int | None = None,
    min_time: float = 1.0,
    min_count: int = 50,
    max_time: float | None = None,
    warmup: int = 10,
    repeats: int = 3,
    price_per_hour: float | None = None,
    qps: float | None = None,
    reference: Any = None,
    progress: Progress | None = None,
    on_latency: OnLatency | None = None,
    seed: int = 0,
    counts_only: bool = False,
) -> MeasureReport:
    """Measure ``model`` — a path (.onnx, TorchScript, .pt2), ``package.module:factory``, ``"demo"``, a torch
    module or a Python callable — and return a :class:`MeasureReport`.

    ``batches`` are the batch sizes to time (default 1 and 8 when the batch dimension is free); ``shapes`` fill
    symbolic dimensions (``["x=1x3x224x224"]`` or ``{"x": (1, 3, 224, 224)}``); ``data`` is an ``.npz`` with one
    array per input and optional labels ``y`` (the demo uses its eval set); ``inputs`` are example arrays for a
    callable, a torch module or an entry point (whose factory's example they replace). Each batch size is timed
    until ``min_count`` calls and ``min_time`` seconds are done (at most ``max_time``, default
    ``max(10, 2 × min_time)``). ``price_per_hour`` and ``qps`` give the cost; ``reference``
    is another model to compare outputs (and accuracy) with. ``progress(step, steps, phase, seconds)`` hears of
    each phase; ``on_latency(batch, report)`` gets each batch size's timing as soon as it is done. With
    ``counts_only`` nothing is run but what counting needs: size, parameters, FLOPs/MACs and the model kind (the
    rest says "not measured: counts only"). Bad input raises :class:`McmError` subclasses.
    """
    settings = _settings(
        threads, batches, min_time, min_count, max_time, warmup, repeats, price_per_hour, qps, seed
    )
    shape_args = _shape_args(shapes)
    say = progress or _silent
    say(0, 0, "loading the model", 0.0)
    name = model if isinstance(model, str) else type(model).__name__
    try:
        source = loader.resolve(model, example=inputs)
        name = source.name
        data_path = data if data is not None else _demo_data(model, shape_args)
        dataset = inputs_mod.load_npz(data_path) if data_path is not None else None
        spec = (
            os.fspath(model) if isinstance(model, (str, os.PathLike)) else None
        )  # a fresh process can open it
        if counts_only:
            results = _count(source, settings, shape_args, inputs, say, seed)
        else:
            results = _measure(
                source, dataset, settings, shape_args, inputs, reference, say, on_latency, seed, spec
            )
    except McmError:
        raise
    except Exception as e:  # a library failure we did not foresee: a clear message with the model's name
        raise MeasurementError(f"{name}: {_describe(e)}") from e
    results.provenance = environment.provenance()
    return build_report(results)


def _measure(
    source: loader.ModelSource,
    dataset: Dataset | None,
    settings: Settings,
    shape_args: Sequence[ShapeArg],
    example: Mapping[str, npt.NDArray[Any]] | None,
    reference: Any,
    say: Progress,
    on_latency: OnLatency | None,
    seed: int,
    spec: str | None = None,
) -> Results:
    """Open the model inside the memory window, plan its inputs and run every phase (see the module docstring);
    Ctrl-C during the reference comparison or the static counts keeps what was measured."""
    window = memory.PeakWindow()
    window.start()
    runner = source.open(settings.threads)
    plan = inputs_mod.plan(
        runner.inputs, shapes=shape_args, data=dataset, batches=settings.batches, example=example, seed=seed
    )
    run = _Run(source.name, runner, plan, settings, say, dataset, reference is not None, on_latency, spec)
    run.measure(window)
    results = run.results(source.to_dict())
    try:
        if reference is not None and results.stop_reason is None:
            results.reference = _reference(reference, run)
        run.step("counting size, parameters and FLOPs", 0.0)
        results.add_statics(runner, plan)
    except KeyboardInterrupt:
        results.stop_reason, results.interrupted_during = "interrupted", run.phase
    return results


#: Why a counts-only report has no timings, memory, power or health figures.
COUNTS_ONLY = "not measured: counts only (--counts)"


def _count(
    source: loader.ModelSource,
    settings: Settings,
    shape_args: Sequence[ShapeArg],
    example: Mapping[str, npt.NDArray[Any]] | None,
    say: Progress,
    seed: int,
) -> Results:
    """Open the model and count its size, parameters and FLOPs; nothing is timed."""
    runner = source.open(settings.threads)
    plan = inputs_mod.plan(
        runner.inputs, shapes=shape_args, batches=(settings.batches or (1,))[:1], example=example, seed=seed
    )
    run = _Run(source.name, runner, plan, settings, say, None, False)
    run.energy = run.cpu_peak = run.gpu_peak = Unavailable(COUNTS_ONLY)
    results = run.results(source.to_dict())
    results.skipped, results.stability = COUNTS_ONLY, Unavailable(COUNTS_ONLY)
    run.step("counting size, parameters and FLOPs", 0.0)
    results.add_statics(runner, plan)
    return results


class _Run:
    """The measuring phases of one model, keeping what each found so that Ctrl-C loses nothing."""

    def __init__(
        self,
        name: str,
        runner: Runner,
        plan: InputPlan,
        settings: Settings,
        say: Progress,
        dataset: Dataset | None,
        with_reference: bool,
        on_latency: OnLatency | None = None,
        spec: str | None = None,
    ) -> None:
        self.name, self.runner, self.plan, self.settings, self.say = name, runner, plan, settings, say
        self.on_latency = on_latency
        self.dataset = dataset
        self.tally = health.Tally()
        self.latency: dict[int, LatencyReport] = {}
        self.energy: power.Energy | Unavailable = Unavailable("the run stopped before the timed window")
        self.cpu_peak: memory.CpuPeak | Unavailable = Unavailable(
            "the run stopped before the memory window closed"
        )
        self.gpu_peak: float | Unavailable = Unavailable("the run stopped before the memory window closed")
        self.repeated: list[list[npt.NDArray[Any]]] = []
        self.predictions: accuracy.Predictions | None = None
        self.rows = self._rows(with_reference)
        self.stop_reason: str | None = None
        self.interrupted_during: str | None = None
        #: What a fresh process opens the model from to measure its CPU peak (a path or an entry point), for a
        #: model on the CPU; None for a Python object or a model on a GPU (whose peak is the framework's counter).
        self.spec = spec if runner.device == "cpu" else None
        self._steps = (
            1 + len(plan.batches) + (self.rows is not None) + with_reference + (self.spec is not None) + 1
        )
        self._step = 0
        self._phase = "loading"

    @property
    def phase(self) -> str:
        return self._phase

    def step(self, label: str, seconds: float) -> None:
        self._step += 1
        self._phase = label
        self.say(self._step, self._steps, label, seconds)

    def measure(self, window: memory.PeakWindow) -> None:
        """Check (inside the memory window, opened before loading), then time and evaluate."""
        self.runner.reset_gpu_peak()
        with self.runner.session():
            try:
                try:
                    self._check()
                finally:
                    self.cpu_peak, self.gpu_peak = window.stop(), self.runner.gpu_peak_mb()
                self._fresh_peak()
                self._time()
                if self.rows is not None and self.stop_reason is None:
                    self._evaluate(self.rows)
            except KeyboardInterrupt:
                self.stop_reason, self.interrupted_during = "interrupted", self._phase

    def results(self, model: dict[str, Any]) -> Results:
        labels = self.dataset.labels if self.dataset is not None else None
        top1: accuracy.Top1 | Unavailable
        if self.dataset is None:
            top1 = Unavailable(
                "no labelled data: give --data FILE.npz with the inputs and a 'y' array of labels"
            )
        elif labels is None:
            top1 = Unavailable(f"{self.dataset.path.name} has no labels (a 'y' array)")
        elif self.predictions is None:
            top1 = Unavailable(f"the run stopped before evaluation ({self.interrupted_during})")
        else:
            top1 = accuracy.top1(self.predictions, labels)
        return Results(
            model=model,
            settings=self.settings.to_dict(),
            runtime=self.runner.describe(),
            plan=self.plan,
            data=None if self.dataset is None else str(self.dataset.path),
            latency=self.latency,
            energy=self.energy,
            tally=self.tally,
            stability=health.stability(self.repeated),
            top1=top1,
            cpu_peak=self.cpu_peak,
            gpu_peak=self.gpu_peak,
            stop_reason=self.stop_reason,
            interrupted_during=self.interrupted_during,
        )

    def call(self, feeds: inputs_mod.Feeds) -> list[npt.NDArray[Any]]:
        fn, args = self.runner.bind(feeds)
        return self.runner.outputs(fn(*args))

    def _check(self) -> None:
        """A few calls per batch size: outputs for health and stability, and a clear error if none succeed."""
        self.step("checking inputs and outputs", 0.0)
        first = self.plan.batches[0]
        for batch in self.plan.batches:
            fn, args = self.runner.bind(self.plan.feeds(batch))
            failures: list[Exception] = []
            calls = self.settings.repeats if batch == first else 1
            checked = False
            for _ in range(calls):
                try:
                    outs = self.runner.outputs(fn(*args))
                except Exception as e:  # the model's own failure; it may fail only now and then
                    failures.append(e)
                    self.tally.record_calls(1, 1, _describe(e))
                    continue
                self.tally.record_calls(1, 0, None)
                if not checked:
                    self.tally.check(outs, f"batch {batch}")
                    checked = True
                if batch == first:
                    self.repeated.append(outs)
            if len(failures) == calls:
                shapes = ", ".join(f"{k}{v}" for k, v in self.plan.shapes(batch).items())
                raise InputError(
                    f"{self.name}: the model raised on every check call at batch {batch} (inputs {shapes}): "
                    f"{_describe(failures[0])}"
                ) from failures[0]

    def _fresh_peak(self) -> None:
        """The CPU peak again, from a fresh process (see the module docstring): for a model that runs on the CPU
        and that a fresh process can open."""
        if self.spec is None:
            return
        self.step("measuring peak memory in a fresh process", 1.0)
        first = self.plan.batches[0]
        checks = [
            (b, self.plan.feeds(b), self.settings.repeats if b == first else 1) for b in self.plan.batches
        ]
        self.cpu_peak = memory.fresh_peak(self.spec, self.settings.threads, checks)

    def _time(self) -> None:
        s = self.settings
        meter = power.meter_for(self.runner.device)
        self.energy = meter if isinstance(meter, Unavailable) else self.energy
        for batch in self.plan.batches:
            self.step(f"timing batch {batch}", s.warmup_time + s.min_time)
            fn, args = self.runner.bind(self.plan.feeds(batch))

            def timed(batch: int = batch, fn: Callable[..., Any] = fn, args: tuple[Any, ...] = args) -> int:
                try:
                    rep = time_callable(
                        fn,
                        args=args,
                        warmup=s.warmup,
                        warmup_time=s.warmup_time,
                        min_count=s.min_count,
                        min_time=s.min_time,
                        max_time=s.max_time,
                        on_error="count",
                    )
                except CallableError as e:
                    raise MeasurementError(f"{self.name}: timing batch {batch} failed: {e}") from e
                self.latency[batch] = rep
                raised = next((w for w in rep.warnings if "calls raised (first: " in w), None)
                first = raised.split("(first: ", 1)[1].removesuffix(")") if raised else None
                self.tally.record_calls(rep.calls + rep.warmup_calls, rep.errors, first)
                return (rep.calls + rep.warmup_calls - rep.errors) * batch

            if batch == self.plan.batches[0] and not isinstance(meter, Unavailable):
                self.energy = power.measure(meter, timed)
            else:
                timed()
            if self.on_latency is not None:
                self.on_latency(batch, self.latency[batch])
            if self.latency[batch].stop_reason == "interrupted":
                self.stop_reason, self.interrupted_during = "interrupted", self._phase
                return

    def _evaluate(self, rows: Mapping[str, npt.NDArray[Any]]) -> None:
        n = next(iter(rows.values())).shape[0]
        self.step(f"evaluating {n:,} rows", 0.0)
        fixed = not all(s.batch_free for s in self.runner.inputs)
        self.predictions = accuracy.predict(self.call, rows, max(self.plan.batches), fixed, self.tally)

    def _rows(self, with_reference: bool) -> dict[str, npt.NDArray[Any]] | None:
        """Rows to evaluate: the data's, or (for a reference comparison only) the largest synthetic batch."""
        if self.dataset is not None and self.plan.rows is not None and self.plan.source == "data":
            return self.plan.rows
        if with_reference:
            return self.plan.feeds(max(self.plan.batches))
        return None


def _reference(reference: Any, run: _Run) -> dict[str, Any]:
    """Run the reference model on the same rows; agreement, and its accuracy when there are labels."""
    run.step("running the reference model", 0.0)
    source = loader.resolve(reference)
    runner = source.open(run.settings.threads)
    rows = run.rows
    assert rows is not None and run.predictions is not None
    names = [s.name for s in runner.inputs]
    if len(names) == len(rows) == 1:
        rows = {names[0]: next(iter(rows.values()))}
    inputs_mod.check_feeds(runner.inputs, {k: v[:1] for k, v in rows.items()}, f"reference {source.name}")
    tally = health.Tally()

    def call(feeds: inputs_mod.Feeds) -> list[npt.NDArray[Any]]:
        fn, args = runner.bind(feeds)
        return runner.outputs(fn(*args))

    fixed = not all(s.batch_free for s in runner.inputs)
    with runner.session():
        ref = accuracy.predict(call, rows, max(run.plan.batches), fixed, tally)
    out: dict[str, Any] = {"model": source.to_dict(), "runtime": runner.describe(), "errors": tally.errors}
    agreement = accuracy.agreement(run.predictions, ref)
    out["agreement"] = agreement if not isinstance(agreement, Unavailable) else str(agreement)
    labels = run.dataset.labels if run.dataset is not None else None
    if labels is not None:
        top1 = accuracy.top1(ref, labels)
        out["accuracy"] = top1.to_dict() if not isinstance(top1, Unavailable) else str(top1)
    return out


def _settings(
    threads: int | None,
    batches: Sequence[int] | None,
    min_time: float,
    min_count: int,
    max_time: float | None,
    warmup: int,
    repeats: int,
    price_per_hour: float | None,
    qps: float | None,
    seed: int,
) -> Settings:
    check_threads(threads)
    checks = [
        (
            min_time >= 0 and np.isfinite(min_time),
            f"min time must be a non-negative number of seconds, got {min_time}",
        ),
        (min_count >= 1, f"min count must be at least 1, got {min_count}"),
        (max_time is None or max_time > 0, f"max time must be positive, got {max_time}"),
        (warmup >= 0 and repeats >= 2, f"warmup must be >= 0 and repeats >= 2, got {warmup} and {repeats}"),
        (
            price_per_hour is None or price_per_hour > 0,
            f"price per hour must be positive, got {price_per_hour}",
        ),
        (qps is None or qps > 0, f"qps must be positive, got {qps}"),
        (
            batches is None or (len(batches) > 0 and all(b >= 1 for b in batches)),
            f"bad batch sizes {batches}",
        ),
    ]
    for ok, message in checks:
        if not ok:
            raise InputError(message)
    return Settings(
        threads=threads or environment.usable_cpus(),
        batches=None if batches is None else tuple(dict.fromkeys(batches)),
        warmup=warmup,
        min_count=min_count,
        min_time=min_time,
        max_time=max_time if max_time is not None else max(10.0, 2 * min_time),
        repeats=repeats,
        price_per_hour=price_per_hour,
        qps=qps,
        seed=seed,
    )


def check_threads(threads: int | None, flag: str = "threads") -> None:
    """Raise :class:`InputError` unless ``threads`` is None or between 1 and :func:`max_threads`."""
    if threads is not None and threads < 1:
        raise InputError(f"{flag} must be at least 1, got {threads}")
    if threads is not None and threads > max_threads():
        cpus = environment.usable_cpus()
        raise InputError(
            f"{flag} {threads}: over the limit of {max_threads()} ({THREADS_PER_CPU} × the {cpus} usable CPUs)"
        )


def max_threads() -> int:
    """The most threads a measurement may ask for: :data:`THREADS_PER_CPU` × the CPUs this process may use."""
    return THREADS_PER_CPU * environment.usable_cpus()


def _shape_args(shapes: Sequence[str | ShapeArg] | Mapping[str, Sequence[int]]) -> tuple[ShapeArg, ...]:
    if isinstance(shapes, Mapping):
        return tuple(ShapeArg(k, tuple(int(d) for d in v)) for k, v in shapes.items())
    return tuple(s if isinstance(s, ShapeArg) else inputs_mod.parse_shape(s) for s in shapes)


def _demo_data(model: Any, shapes: Sequence[ShapeArg]) -> Path | None:
    if isinstance(model, str) and model == "demo" and not shapes:
        from mcm import demo

        return demo.EVAL_PATH
    return None


def _describe(e: BaseException) -> str:
    """``Type: first line of the message``."""
    text = str(e).strip().splitlines()[0] if str(e).strip() else ""
    return f"{type(e).__name__}: {text}" if text else type(e).__name__


def _silent(step: int, steps: int, label: str, seconds: float) -> None:
    return None


__all__ = [
    "THREADS_PER_CPU",
    "OnLatency",
    "Progress",
    "Settings",
    "check_threads",
    "max_threads",
    "measure_model",
]
