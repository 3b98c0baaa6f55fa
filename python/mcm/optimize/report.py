"""The optimization report: one row per candidate against both baselines, the Pareto front, the rule trace that
drove each step, and (under the ONNX baseline, for a PyTorch model) why the export counts other parameters, as
JSON (``report.json``, schema ``mcm.optimize/3``) and Markdown (``report.md``)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from mcm.files import write_all
from mcm.files.write import StrPath
from mcm.measure.param_difference import Difference
from mcm.measure.unavailable import Unavailable
from mcm.metrics import format_value
from mcm.optimize import pareto, plot
from mcm.optimize.agreement import Agreement
from mcm.optimize.loop import Candidate, Result
from mcm.sanitize import inline
from mcm.sanitize import markdown as md

SCHEMA = "mcm.optimize/3"
#: The candidates' scatter (:mod:`mcm.optimize.plot`).
PLOT_FILE = "candidates.svg"


def to_dict(result: Result) -> dict[str, Any]:
    """The whole run as plain data."""
    base, eager = result.onnx_baseline, result.eager
    measured = [c for c in result.candidates if c.metrics]
    rows = [c for c in (eager, base) if c is not None] + result.candidates
    front = pareto.front([_objectives(c) for c in [base, *measured]])
    on_front = {([base, *measured])[i].name for i in front}
    return {
        "schema": SCHEMA,
        "model": result.options.model,
        "scenario": result.options.scenario,
        "threads": result.options.threads,
        "batch": result.batch,
        "stop_reason": result.stop_reason,
        "export_notes": list(result.export_notes),
        "meets_constraints": result.meets_constraints,
        "chosen": {"name": result.best.name, "chain": list(result.best.chain), "file": "model.onnx"},
        "candidates": [
            _row(c, base, eager, c.name in on_front and bool(c.metrics))
            | ({"param_difference": _param_difference(result.param_difference)} if c is base else {})
            for c in rows
        ],
        "pareto_front": sorted(on_front),
        "env": result.env,
        "provenance": result.provenance,
    }


def _agreement(found: Agreement | Unavailable) -> dict[str, Any] | str:
    return str(found) if isinstance(found, Unavailable) else found.to_dict()


def _param_difference(found: Difference | Unavailable | None) -> dict[str, Any] | str | None:
    """Why the ONNX baseline counts other parameters than the PyTorch model
    (:func:`mcm.measure.param_difference.explain_difference`); None without a PyTorch model or when the counts
    agree."""
    if isinstance(found, Unavailable):
        return str(found)
    return found.to_dict() if found is not None and found.difference else None


def _objectives(c: Candidate) -> dict[str, float]:
    """Speed (paired ratio to ONNX Runtime FP32; the baseline is 1), size and accuracy."""
    m = c.metrics
    return {
        "speed_x": c.paired["vs_onnx_fp32"].ratio if "vs_onnx_fp32" in c.paired else 0.0 if c.chain else 1.0,
        "model_size_mb": m.get("model_size_mb", float("inf")),
        "accuracy": m.get("accuracy", 0.0),
    }


def _row(c: Candidate, base: Candidate, eager: Candidate | None, on_front: bool) -> dict[str, Any]:
    m = c.metrics
    row: dict[str, Any] = {
        "name": c.name,
        "chain": list(c.chain),
        "status": c.status,
        "reason": c.reason,
        "source": c.source,
        "on_pareto_front": on_front,
        "metrics": {k: m[k] for k in _SHOWN if k in m},
        "unavailable": {k: c.unavailable[k] for k in _SHOWN if k in c.unavailable},
        "constraints": [{k: x[k] for k in ("metric", "hard", "status", "text")} for x in c.constraints],
        "rule_trace": [
            {k: t[k] for k in ("rule", "status", "explanation", "recommend", "pos")} for t in c.trace
        ],
        "applied": [a.to_dict() for a in c.applied],
        "paired_speedup": {k: p.to_dict() for k, p in c.paired.items()},
        "throughput_batch": c.throughput_batch,
        "output_agreement": None if c.agreement is None else _agreement(c.agreement),
    }
    if m:
        row["vs_onnx_fp32"] = _ratios(m, base.metrics)
        if eager is not None:
            row["vs_eager"] = _ratios(m, eager.metrics)
    return row


#: The metrics each candidate's row shows (with the reason for each one not measured), catalogue names and units;
#: ``throughput_qps`` is the best of the batch sizes timed, the row's ``throughput_batch`` says which.
_SHOWN = ("latency_ms", "throughput_qps", "model_size_mb", "memory_mb", "accuracy")


def _ratios(m: dict[str, float], ref: dict[str, float]) -> dict[str, float | None]:
    """Ratios to a reference, and the catalogue's ``accuracy_drop`` from it (a fraction: 0.03 for 3 pp); None
    (JSON null) where either side was not measured, never 0."""

    def ratio(a: float | None, b: float | None) -> float | None:
        return a / b if a is not None and b else None

    return {
        "throughput_x": ratio(m.get("throughput_qps"), ref.get("throughput_qps")),
        "latency_speedup_x": ratio(ref.get("latency_ms"), m.get("latency_ms")),
        "size_x": ratio(m.get("model_size_mb"), ref.get("model_size_mb")),
        "accuracy_drop": ref["accuracy"] - m["accuracy"] if "accuracy" in ref and "accuracy" in m else None,
    }


def markdown(data: dict[str, Any]) -> str:
    """The Markdown view of :func:`to_dict`'s data; names, reasons and messages (from the model, the rules and the
    arguments) through :func:`mcm.sanitize.markdown`, rule names in code spans through ``inline``."""
    b = data["batch"]
    throughput = (
        "throughput at batch 1 (single-stream)"
        if b == 1
        else f"throughput is the best of batch 1 and batch {b} (the batch in brackets)"
    )
    lines = [
        f"# mcm optimize: {md(data['model'])} ({md(data['scenario'] or 'default scenario')})",
        "",
        f"Chosen: **{md(data['chosen']['name'])}** → `model.onnx`. Stopped: {md(data['stop_reason'])}. "
        f"Hard constraints: {'hold' if data['meets_constraints'] else 'NOT met'}{md(_unknown(data))}. "
        f"{data['threads']} thread(s); {throughput}; "
        f"paired speed at batch {b}. Speed ratios from separate measurements drift on a shared machine; the paired "
        "column times the models in alternating rounds of one window, on fresh sessions each round, and gives the "
        "median ratio and its 95 % interval: a speed change counts only when that interval excludes 1.0 (what "
        "keep/reject decisions use).",
        *_accuracy_note(data),
        *(f"Export: {md(note)}" for note in data.get("export_notes", [])),
        "",
        "| candidate | status | latency b1 | throughput | × ORT FP32 | × ORT FP32 paired "
        "| × eager | size | size × | memory | accuracy | drop | constraints | Pareto |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in data["candidates"]:
        m, vo, ve = r["metrics"], r.get("vs_onnx_fp32", {}), r.get("vs_eager", {})
        cons = ", ".join(f"{c['metric']} {c['status']}" for c in r["constraints"] if c["hard"]) or "—"
        lines.append(
            f"| {md(r['name'])} | {md(r['status'])} | {_v(m, 'latency_ms')} | {_throughput(r)} "
            f"| {_x(vo.get('throughput_x'))} | {_paired(r['paired_speedup'].get('vs_onnx_fp32'))} "
            f"| {_x(ve.get('throughput_x'))} | {_v(m, 'model_size_mb')} "
            f"| {_x(vo.get('size_x'))} | {_v(m, 'memory_mb')} | {_v(m, 'accuracy')} "
            f"| {format_value('accuracy_drop', vo.get('accuracy_drop'))} | {md(cons)} "
            f"| {'yes' if r['on_pareto_front'] else ''} |"
        )
    lines += _params_note(data["candidates"])
    if data.get("plot"):
        lines += ["", f"![candidates]({data['plot']['file']})", "", data["plot"]["caption"]]
    lines += [
        "",
        "Pareto front (paired speed vs ONNX Runtime FP32, size, accuracy): "
        + ", ".join(map(md, data["pareto_front"])),
        "",
        "## Steps",
        "",
        *_steps(data["candidates"]),
    ]
    return "\n".join(lines) + "\n"


def _steps(rows: list[dict[str, Any]]) -> list[str]:
    """One section per tried step: why it was tried, the verdict, what each technique changed, the rule trace."""
    lines = []
    for r in rows:
        if not r["chain"]:
            continue
        lines.append(f"### {md(r['name'])}: {md(r['status'])}")
        lines.append(f"- why tried: {md(r['source'])}")
        if r["reason"]:
            lines.append(f"- verdict: {md(r['reason'])}")
        for applied in r["applied"]:
            technique = md(applied["technique"])
            lines += [f"- {technique}: {md(change)}" for change in applied["changes"]]
            lines += [f"- note ({technique}): {md(note)}" for note in applied["notes"]]
        for t in r["rule_trace"]:
            lines.append(
                f"- rule `{inline(t['rule'])}` {md(t['status'])} ({md(t['pos'])}): {md(t['explanation'])}"
            )
        lines.append("")
    return lines


def _params_note(rows: list[dict[str, Any]]) -> list[str]:
    """Under the table: why the ONNX baseline's parameter count differs from the PyTorch model's, one line per
    reason (nothing when they agree or there is no PyTorch model)."""
    found = next((r["param_difference"] for r in rows if r.get("param_difference")), None)
    if found is None:
        return []
    if isinstance(found, str):
        return ["", f"Parameters of the ONNX baseline against the PyTorch model: {md(found)}"]
    return [
        "",
        f"Parameters: {md(found['summary'])}:",
        "",
        *(f"- {md(line)}" for line in found["lines"]),
    ]


def _accuracy_note(data: dict[str, Any]) -> list[str]:
    """A paragraph saying why the accuracy columns are empty, when the FP32 baseline's accuracy was not measured."""
    baselines = [r for r in data["candidates"] if r["status"] == "baseline"]
    why = next((r["unavailable"]["accuracy"] for r in baselines if "accuracy" in r["unavailable"]), None)
    if not why:
        return []
    compared = any(isinstance(r.get("output_agreement"), dict) for r in data["candidates"])
    then = (
        " Each step's outputs were compared with the FP32 baseline's instead (see its verdict): that bounds the "
        "accuracy drop by the top-1 disagreement on those rows, it does not measure it."
        if compared
        else ""
    )
    return ["", f"Accuracy not measured ({md(why)}): no candidate's accuracy drop is known.{then}"]


def _unknown(data: dict[str, Any]) -> str:
    chosen = next((r for r in data["candidates"] if r["name"] == data["chosen"]["name"]), None)
    names = [
        c["metric"] for c in (chosen or {}).get("constraints", []) if c["hard"] and c["status"] == "unknown"
    ]
    return f" ({', '.join(names)} unknown: not measurable here)" if names else ""


def _v(m: dict[str, float], name: str) -> str:
    """A catalogue metric of a row, as the catalogue shows it (``—`` when not measured)."""
    return format_value(name, m.get(name))


def _x(ratio: float | None) -> str:
    """A ratio between two candidates (not a metric): ``1.23×``."""
    return "—" if ratio is None else f"{ratio:,.2f}×"


def _paired(p: dict[str, Any] | None) -> str:
    """A paired ratio with its interval: ``1.32× [1.28, 1.35]``."""
    return "—" if p is None else f"{p['ratio']:,.2f}× [{p['low']:.2f}, {p['high']:.2f}]"


def _throughput(row: dict[str, Any]) -> str:
    shown = _v(row["metrics"], "throughput_qps")
    return shown if row.get("throughput_batch") is None else f"{shown} (b{row['throughput_batch']})"


def _points(result: Result) -> list[plot.Point]:
    """The plotted candidates: the FP32 baseline and those with a paired speed-up; when the baseline's accuracy
    was measured, only those whose accuracy was too (the y axis is accuracy, else model size)."""
    with_accuracy = "accuracy" in result.onnx_baseline.metrics
    return [
        plot.Point(
            c.paired["vs_onnx_fp32"].ratio if c.chain else 1.0,
            c.metrics.get("model_size_mb", 0.0),
            "chosen" if c is result.best else c.status,
            c.name,
            c.metrics.get("accuracy"),
        )
        for c in [result.onnx_baseline, *result.candidates]
        if c.metrics
        and (not c.chain or c.paired.get("vs_onnx_fp32"))
        and (not with_accuracy or "accuracy" in c.metrics)
    ]


def write(result: Result, directory: Path) -> dict[str, Any]:
    """Write ``report.json``, ``report.md`` and ``candidates.svg`` (when a candidate was measured) into
    ``directory`` (the loop's temporary directory)."""
    data = to_dict(result)
    points = _points(result)
    files: dict[StrPath, str | bytes] = {}
    data["plot"] = None
    if points:
        files[directory / PLOT_FILE] = plot.render(points)
        data["plot"] = {"file": PLOT_FILE, "caption": plot.caption(points)}
    files[directory / "report.json"] = json.dumps(data, indent=2, default=str) + "\n"
    files[directory / "report.md"] = markdown(data)
    write_all(files)
    return data
