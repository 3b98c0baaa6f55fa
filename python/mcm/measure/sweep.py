"""``mcm measure MODEL --sweep NAME=V1,V2,...``: one model measured once per value of one input dimension, and
the table that compares them: latency percentiles, the batch-1 rate, peak memory, MACs, and each median latency
over the first value's.

NAME is a symbolic dimension the model's inputs declare (an ONNX graph's ``sequence``, optimum's
``sequence_length``): every input that has it gets the value there, the batch follows ``--batch`` (1 by default),
and any other free dimension needs ``--shape`` as in every measurement (never on an input that has NAME). A model
built by an entry point (``package.module:factory``, ``torchvision:``, a Hugging Face model directory) declares no
names: ``sequence`` stands for axis 1 of its integer ``[batch, sequence]`` inputs (:func:`sequence_inputs`, the rule
the ONNX export follows too), fed synthetic arrays of that length in place of the factory's example.

The JSON form (:meth:`Sweep.to_json`) is one object: the dimension, the inputs that took it, a compact ``rows``
table (metric names of the catalogue, canonical units, null where unavailable) and the full report of each value.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from mcm import metrics
from mcm.exceptions import InputError, McmError
from mcm.measure import inputs as inputs_mod
from mcm.measure.api import Progress, measure_model
from mcm.measure.inputs import SEQUENCE, InputSpec, ShapeArg, sequence_inputs
from mcm.measure.report import MeasureReport
from mcm.sanitize import inline
from mcm.units import did_you_mean

SCHEMA = "mcm.measure.sweep/1"
#: Most values one sweep takes, and the largest value.
MAX_VALUES, MAX_VALUE = 16, 1 << 20
#: The table's metrics (catalogue names), in column order, with their headings.
COLUMNS = {
    "latency_p50_ms": "p50",
    "latency_p90_ms": "p90",
    "latency_p99_ms": "p99",
    "fps": "rate at batch 1",
    "memory_mb": "peak memory",
    "macs_g": "MACs",
}


@dataclass(frozen=True)
class SweepArg:
    """A ``--sweep NAME=V1,V2,...`` request: the dimension and its values in the order given, repeats dropped."""

    name: str
    values: tuple[int, ...]


@dataclass(frozen=True)
class Sweep:
    """What a sweep measured: the dimension, its values, the inputs that took it, and one report per value
    measured, at least one (fewer than the values when Ctrl-C or a value the model refused stopped it, ``stopped``
    saying which and why; the last one may be partial)."""

    name: str
    values: tuple[int, ...]
    inputs: tuple[str, ...]
    reports: tuple[MeasureReport, ...]
    stopped: str | None = None

    @property
    def partial(self) -> bool:
        """Whether the sweep stopped before it measured every value in full."""
        return len(self.reports) < len(self.values) or any(r.partial for r in self.reports)

    def rows(self) -> list[dict[str, float | None]]:
        """One row per value measured: ``value``, each column's metric (None when unavailable) and
        ``p50_ratio``, the median latency over the first value's."""
        first = self.reports[0].metrics.get("latency_p50_ms")
        rows: list[dict[str, float | None]] = []
        for value, report in zip(self.values, self.reports, strict=False):
            row: dict[str, float | None] = {"value": value}
            row.update({m: report.metrics.get(m) for m in COLUMNS})
            p50 = row["latency_p50_ms"]
            row["p50_ratio"] = p50 / first if p50 is not None and first else None
            rows.append(row)
        return rows

    def to_json(self, indent: int | None = 2) -> str:
        found = {
            "schema": SCHEMA,
            "partial": self.partial,
            "stopped": self.stopped,
            "name": self.name,
            "inputs": list(self.inputs),
            "values": list(self.values),
            "rows": self.rows(),
            "reports": [json.loads(r.to_json(indent=None)) for r in self.reports],
        }
        return json.dumps(found, indent=indent, allow_nan=False)


def parse_sweep(text: str) -> SweepArg:
    """``sequence=32,64,128`` as a :class:`SweepArg`: 1 to :data:`MAX_VALUES` values, each from 1 to
    :data:`MAX_VALUE`; :class:`InputError` otherwise."""
    name, sep, rest = text.partition("=")
    try:
        values = tuple(dict.fromkeys(int(v) for v in rest.split(",")))
    except ValueError:
        values = ()
    if not sep or not name.strip() or not values:
        raise InputError(
            f"--sweep {text!r}: expected NAME=V1,V2,... with whole numbers, such as sequence=32,64,128"
        )
    wrong = [v for v in values if not 1 <= v <= MAX_VALUE]
    if wrong:
        raise InputError(f"--sweep {text!r}: {wrong[0]} is out of range (each value is 1 to {MAX_VALUE:,})")
    if len(values) > MAX_VALUES:
        raise InputError(f"--sweep {text!r}: {len(values)} values, over the limit of {MAX_VALUES}")
    return SweepArg(name.strip(), values)


def measure_sweep(
    model: str,
    sweep: SweepArg,
    *,
    shapes: Sequence[str] = (),
    data: str | None = None,
    batches: Sequence[int] | None = None,
    seed: int = 0,
    progress: Progress | None = None,
    **options: Any,
) -> Sweep:
    """Measure ``model`` (a name, as :func:`mcm.measure.measure_model` takes it) once per value of ``sweep``, at
    ``batches`` (default 1); ``shapes`` fill other free dimensions, and ``options`` are ``measure_model``'s other
    keyword arguments, the same for every value. Ctrl-C after the first value stops the sweep with what was
    measured."""
    from mcm.measure import loader

    if data is not None:
        raise InputError(
            "--sweep and --data: the data's arrays fix every dimension; a sweep feeds synthetic inputs "
            "(leave --data out)"
        )
    given = tuple(inputs_mod.parse_shape(s) for s in shapes)
    source = loader.resolve(model)
    specs = source.open(1).inputs
    takers, requests = (
        _by_sequence(model, specs, sweep, given, seed)
        if source.format == "entry point"
        else _by_name(model, specs, sweep, given)
    )
    reports: list[MeasureReport] = []
    stopped = None
    for value, request in zip(sweep.values, requests, strict=True):
        try:
            report = measure_model(
                model,
                batches=batches or (1,),
                seed=seed,
                progress=_labelled(progress, f"{sweep.name}={value}"),
                **request,
                **options,
            )
        except KeyboardInterrupt:
            if not reports:
                raise
            break
        except McmError as e:  # a value the model refuses (beyond its positions, say): keep what was measured
            if not reports:
                raise
            stopped = f"{sweep.name}={value}: {e}"
            break
        reports.append(report)
        if report.partial:
            break
    return Sweep(sweep.name, sweep.values, takers, tuple(reports), stopped)


def text(sweep: Sweep) -> str:
    """The sweep as a plain-text table (ends with a newline): a row per value, then why a column is empty."""
    first = sweep.reports[0]
    rt = first.sections.get("runtime", {})
    threads = f", {rt['intra_op_threads']} threads" if "intra_op_threads" in rt else ""
    lines = [
        f"mcm measure --sweep {sweep.name}: {first.model.get('name')} "
        f"({rt.get('runtime')} {rt.get('version', '')} on {rt.get('device', 'cpu')}{threads})",
        f"{sweep.name} of {', '.join(sweep.inputs)}; latency at batch "
        f"{first.sections.get('latency', {}).get('primary_batch')}",
        "",
    ]
    table = [[sweep.name, *COLUMNS.values(), "p50 vs first"]]
    for value, row in zip(sweep.values, sweep.rows(), strict=False):
        ratio = row["p50_ratio"]
        cells = [metrics.format_value(m, row[m]) for m in COLUMNS]
        table.append([str(value), *cells, "—" if ratio is None else f"{ratio:.2f}×"])
    widths = [max(len(r[i]) for r in table) for i in range(len(table[0]))]
    lines += ["  ".join(c.rjust(w) for c, w in zip(r, widths, strict=True)) for r in table]
    missing = {
        m: next((r.unavailable[m] for r in sweep.reports if m in r.unavailable), None) for m in COLUMNS
    }
    notes = [f"{COLUMNS[m]}: unavailable, {why}" for m, why in missing.items() if why is not None]
    if sweep.partial:
        notes.append(f"partial sweep: {len(sweep.reports)} of {len(sweep.values)} values measured")
    if sweep.stopped:
        notes.append(f"stopped at {inline(sweep.stopped)}")
    return "\n".join(map(inline, [*lines, *([""] if notes else []), *notes])) + "\n"


def _by_name(
    model: str, specs: Sequence[InputSpec], sweep: SweepArg, given: Sequence[ShapeArg]
) -> tuple[tuple[str, ...], list[dict[str, Any]]]:
    """The inputs that declare the dimension ``sweep.name``, and per value the ``shapes`` that set it there."""
    takers = [s for s in specs if s.shape is not None and sweep.name in s.shape]
    if not takers:
        declared = list(dict.fromkeys(d for s in specs for d in s.shape or () if isinstance(d, str)))
        error = InputError(
            f"--sweep {sweep.name}: no input of {model} has a dimension '{sweep.name}' (its inputs declare "
            f"{', '.join(declared) if declared else 'no named dimensions'})"
        )
        error.hint = did_you_mean(sweep.name, declared)
        raise error
    for spec in takers:
        shape = spec.shape or ()
        if shape[0] == sweep.name:
            raise InputError(
                f"--sweep {sweep.name}: the batch dimension of {spec.describe()}; give --batch "
                f"{','.join(map(str, sweep.values))} instead"
            )
        if any(d != sweep.name and not isinstance(d, int) for d in shape[1:]):
            raise InputError(
                f"--sweep {sweep.name}: input {spec.describe()} has another free dimension, which a sweep "
                "cannot fill (a --shape for it would fix the swept one too)"
            )
    _refuse_shapes(sweep, [s.name for s in takers], given)
    requests: list[dict[str, Any]] = [
        {"shapes": (*given, *(ShapeArg(s.name, _filled(s, sweep.name, v)) for s in takers))}
        for v in sweep.values
    ]
    return tuple(s.name for s in takers), requests


def _by_sequence(
    model: str, specs: Sequence[InputSpec], sweep: SweepArg, given: Sequence[ShapeArg], seed: int
) -> tuple[tuple[str, ...], list[dict[str, Any]]]:
    """An entry point's integer ``[batch, sequence]`` inputs, and per value the synthetic ``inputs`` of that
    length (every other input as ``given`` or the factory's example shapes it)."""
    if sweep.name != SEQUENCE:
        error = InputError(
            f"--sweep {sweep.name}: {model} is a PyTorch model, whose inputs declare no dimension names; "
            f"'{SEQUENCE}' (axis 1 of its integer [batch, sequence] inputs) is the one a sweep takes"
        )
        error.hint = f"give --sweep {SEQUENCE}={','.join(map(str, sweep.values))}"
        raise error
    takers = sequence_inputs(specs)
    if not takers:
        raise InputError(
            f"--sweep {SEQUENCE}: {model} has no integer [batch, sequence] inputs of one length "
            f"(inputs: {', '.join(s.describe() for s in specs) or 'unknown'})"
        )
    _refuse_shapes(sweep, takers, given)
    requests: list[dict[str, Any]] = []
    for value in sweep.values:
        at = [
            dataclasses.replace(s, shape=(s.shape[0], value)) if s.name in takers and s.shape else s
            for s in specs
        ]
        requests.append({"inputs": inputs_mod.plan(at, shapes=given, batches=(1,), seed=seed).feeds(1)})
    return takers, requests


def _filled(spec: InputSpec, name: str, value: int) -> tuple[int, ...]:
    """``spec``'s shape with ``value`` wherever it has the dimension ``name``, 1 for the batch (set per call)."""
    return tuple(value if d == name else d if isinstance(d, int) else 1 for d in spec.shape or ())


def _refuse_shapes(sweep: SweepArg, takers: Sequence[str], given: Sequence[ShapeArg]) -> None:
    """:class:`InputError` for a ``--shape`` of an input the sweep sets."""
    clash = next((a.name for a in given if a.name in takers), None)
    if clash is not None:
        raise InputError(
            f"--sweep {sweep.name} and --shape {clash}=...: the sweep sets the {sweep.name} of {clash} "
            f"(leave its --shape out)"
        )


def _labelled(progress: Progress | None, lead: str) -> Progress | None:
    """``progress`` with ``lead`` before each phase's label."""
    if progress is None:
        return None
    told = progress

    def say(step: int, steps: int, label: str, seconds: float) -> None:
        told(step, steps, f"{lead}: {label}", seconds)

    return say


__all__ = [
    "MAX_VALUE",
    "MAX_VALUES",
    "SCHEMA",
    "Sweep",
    "SweepArg",
    "measure_sweep",
    "parse_sweep",
    "text",
]
