"""The optimization report: one row per candidate against both baselines, the Pareto front, and the rule trace
that drove each step, as JSON (``report.json``, schema ``mcm.optimize/1``) and Markdown (``report.md``)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from mcm.files import write_all
from mcm.optimize import pareto, plot
from mcm.optimize.loop import Candidate, Result
from mcm.sanitize import inline
from mcm.sanitize import markdown as md

SCHEMA = "mcm.optimize/1"


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
        "batch": result.options.batch,
        "stop_reason": result.stop_reason,
        "meets_constraints": result.meets_constraints,
        "chosen": {"name": result.best.name, "chain": list(result.best.chain), "file": "model.onnx"},
        "candidates": [_row(c, base, eager, c.name in on_front and bool(c.metrics)) for c in rows],
        "pareto_front": sorted(on_front),
        "env": result.env,
        "provenance": result.provenance,
    }


def _objectives(c: Candidate) -> dict[str, float]:
    """Speed (paired ratio to ONNX Runtime FP32; the baseline is 1), size and accuracy."""
    m = c.metrics
    return {
        "speed_x": c.paired.get("vs_onnx_fp32", 1.0 if not c.chain else 0.0),
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
        "paired_speedup": c.paired,
    }
    if m:
        row["vs_onnx_fp32"] = _ratios(m, base.metrics)
        if eager is not None:
            row["vs_eager"] = _ratios(m, eager.metrics)
    return row


#: The metrics each candidate's row shows (with the reason for each one not measured).
_SHOWN = ("latency_ms", "throughput_batch_qps", "model_size_mb", "memory_mb", "accuracy")


def _ratios(m: dict[str, float], ref: dict[str, float]) -> dict[str, float | None]:
    """Ratios to a reference; the accuracy drop is None (JSON null) when either accuracy was not measured."""
    out: dict[str, float | None] = {}
    if ref.get("throughput_batch_qps"):
        out["throughput_x"] = m.get("throughput_batch_qps", 0.0) / ref["throughput_batch_qps"]
    if ref.get("latency_ms"):
        out["latency_speedup_x"] = ref["latency_ms"] / m["latency_ms"] if m.get("latency_ms") else 0.0
    if ref.get("model_size_mb") and "model_size_mb" in m:
        out["size_x"] = m["model_size_mb"] / ref["model_size_mb"]
    measured = "accuracy" in ref and "accuracy" in m
    out["accuracy_drop_pp"] = 100 * (ref["accuracy"] - m["accuracy"]) if measured else None
    return out


def markdown(data: dict[str, Any]) -> str:
    """The Markdown view of :func:`to_dict`'s data; names, reasons and messages (from the model, the rules and the
    arguments) through :func:`mcm.sanitize.markdown`, rule names in code spans through ``inline``."""
    b = data["batch"]
    lines = [
        f"# mcm optimize: {md(data['model'])} ({md(data['scenario'] or 'default scenario')})",
        "",
        f"Chosen: **{md(data['chosen']['name'])}** → `model.onnx`. Stopped: {md(data['stop_reason'])}. "
        f"Hard constraints: {'hold' if data['meets_constraints'] else 'NOT met'}{md(_unknown(data))}. "
        f"{data['threads']} thread(s); throughput at batch {b}. Speed ratios from separate measurements drift "
        "on a shared machine; the paired column times both models in alternating rounds of one window "
        "(what keep/reject decisions use).",
        *_accuracy_note(data),
        "",
        f"| candidate | status | latency b1 (ms) | throughput b{b} (/s) | × ORT FP32 | × ORT FP32 paired "
        "| × eager | size (MB) | size × | memory (MB) | accuracy | drop (pp) | constraints | Pareto |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in data["candidates"]:
        m, vo, ve = r["metrics"], r.get("vs_onnx_fp32", {}), r.get("vs_eager", {})
        cons = ", ".join(f"{c['metric']} {c['status']}" for c in r["constraints"] if c["hard"]) or "—"
        lines.append(
            f"| {md(r['name'])} | {md(r['status'])} | {_f(m.get('latency_ms'), 3)} "
            f"| {_f(m.get('throughput_batch_qps'), 0)} "
            f"| {_f(vo.get('throughput_x'), 2)} | {_f(r['paired_speedup'].get('vs_onnx_fp32'), 2)} "
            f"| {_f(ve.get('throughput_x'), 2)} | {_f(m.get('model_size_mb'), 4)} "
            f"| {_f(vo.get('size_x'), 2)} | {_f(m.get('memory_mb'), 1)} | {_f(m.get('accuracy'), 4)} "
            f"| {_f(vo.get('accuracy_drop_pp'), 2)} | {md(cons)} | {'yes' if r['on_pareto_front'] else ''} |"
        )
    if data.get("plot"):
        lines += ["", f"![candidates]({data['plot']['file']})", "", data["plot"]["caption"]]
    lines += [
        "",
        "Pareto front (paired speed vs ONNX Runtime FP32, size, accuracy): "
        + ", ".join(map(md, data["pareto_front"])),
        "",
        "## Steps",
        "",
    ]
    for r in data["candidates"]:
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
    return "\n".join(lines) + "\n"


def _accuracy_note(data: dict[str, Any]) -> list[str]:
    """A paragraph saying why the accuracy columns are empty, when the FP32 baseline's accuracy was not measured."""
    baselines = [r for r in data["candidates"] if r["status"] == "baseline"]
    why = next((r["unavailable"]["accuracy"] for r in baselines if "accuracy" in r["unavailable"]), None)
    return ["", f"Accuracy not measured ({md(why)}): no candidate's accuracy drop is known."] if why else []


def _unknown(data: dict[str, Any]) -> str:
    chosen = next((r for r in data["candidates"] if r["name"] == data["chosen"]["name"]), None)
    names = [
        c["metric"] for c in (chosen or {}).get("constraints", []) if c["hard"] and c["status"] == "unknown"
    ]
    return f" ({', '.join(names)} unknown: not measurable here)" if names else ""


def _f(v: float | None, digits: int) -> str:
    return "—" if v is None else f"{v:,.{digits}f}"


def _plot(result: Result, path: Path) -> str | None:
    points = [
        plot.Point(
            1 / c.paired["vs_onnx_fp32"] if c.chain else 1.0,
            c.metrics["accuracy"],
            c.metrics.get("model_size_mb", 0.0),
            "chosen" if c is result.best else c.status,
            c.name,
        )
        for c in [result.onnx_baseline, *result.candidates]
        if "accuracy" in c.metrics and (not c.chain or c.paired.get("vs_onnx_fp32"))
    ]
    return plot.write(points, path) if points else None


def write(result: Result, directory: Path) -> dict[str, Any]:
    """Write ``report.json``, ``report.md`` and ``candidates.png`` into ``directory`` (the loop's temporary
    directory)."""
    data = to_dict(result)
    caption = _plot(result, directory / "candidates.png")
    data["plot"] = {"file": "candidates.png", "caption": caption} if caption else None
    write_all(
        {
            directory / "report.json": json.dumps(data, indent=2, default=str) + "\n",
            directory / "report.md": markdown(data),
        }
    )
    return data
