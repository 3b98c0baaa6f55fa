"""The human view of a :class:`MeasureReport`: a table of every metric by category, and a latency histogram.

Values are shown in each metric's display unit (``accuracy`` and ``latency_cv`` in %, the rest in their
canonical units); unavailable metrics show their reason. The histogram is drawn from the primary batch's
per-call samples through the native HDR histogram: linear bins up to p99, one row for the tail beyond it.
Model, input and dimension names, file names and warnings come from the model and data files: every line is
shown through :func:`mcm.sanitize.inline`.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from mcm import _core, metrics
from mcm.measure.report import MeasureReport
from mcm.sanitize import inline

BAR = 40
_EIGHTHS = " ▏▎▍▌▋▊▉█"
#: The ``ci_ms`` key of each latency metric in a batch's latency section.
_CI_KEYS = {"latency_ms": "mean", **{p.metric: p.label for p in metrics.PERCENTILES}}


def text(report: MeasureReport, *, bins: int = 12) -> str:
    """The whole report as plain text (ends with a newline)."""
    d = report.to_dict()
    lines = [_title(d), *_inputs(d), ""]
    width = max(len(m.en) for m in metrics.METRICS.values())
    lines.append(f"{'category':<12} {'metric':<{width}}  {'value':>16}  detail")
    for category in metrics.CATEGORIES:
        first = True
        for m in metrics.by_category(category):
            value = (
                _value(report, m)
                if m.name in report.metrics
                else f"unavailable: {report.unavailable[m.name]}"
            )
            detail = _detail(d, m.name) if m.name in report.metrics else ""
            head = category if first else ""
            first = False
            if m.name in report.metrics:
                lines.append(f"{head:<12} {m.en:<{width}}  {value:>16}  {detail}".rstrip())
            else:
                lines.append(f"{head:<12} {m.en:<{width}}  {value}")
    primary = d["latency"]["primary_batch"]
    samples = report.samples.get(primary)
    if samples is not None and samples.size:
        lines += [
            "",
            f"latency histogram, batch {primary} ({samples.size:,} calls)",
            *histogram(samples, bins),
        ]
    if report.warnings:
        lines += ["", "warnings:", *(f"  - {w}" for w in report.warnings)]
    if report.partial:
        lines += ["", f"partial report: {report.stop_reason}"]
    return "\n".join(map(inline, lines)) + "\n"


def histogram(samples_ns: npt.NDArray[np.int64], bins: int = 12) -> list[str]:
    """Rows ``low–high ms │bar count``: ``bins`` linear bins from the minimum to p99, then the tail."""
    h = _core.Histogram()
    h.record_array(samples_ns)
    lo, p99, hi = float(h.min or 0), h.quantile(99.0) or 0.0, float(h.max or 0)
    top = max(p99, lo + 1.0)
    step = (top - lo) / bins
    counts = [0] * (bins + 1)
    for low, _high, n in h.buckets():
        i = bins if low > top else min(bins - 1, int((low - lo) / step))
        counts[i] += n
    edges = [(lo + i * step, lo + (i + 1) * step) for i in range(bins)] + [(top, hi)]
    if counts[-1] == 0:
        counts, edges = counts[:-1], edges[:-1]
    peak = max(counts) or 1
    labels = [f"{a / 1e6:.4g}–{b / 1e6:.4g} ms" for a, b in edges]
    if len(edges) > bins:
        labels[-1] = f"> {top / 1e6:.4g} ms (to {hi / 1e6:.4g})"
    pad = max(len(s) for s in labels)
    return [f"  {s:>{pad}} │{_bar(n / peak)} {n:,}" for s, n in zip(labels, counts, strict=True)]


def _bar(fraction: float) -> str:
    eighths = round(fraction * BAR * 8)
    full, part = divmod(eighths, 8)
    return ("█" * full + (_EIGHTHS[part] if part else "")).ljust(BAR)


def _value(report: MeasureReport, m: metrics.Metric) -> str:
    return m.format(report.metrics[m.name])


def _detail(d: dict[str, Any], name: str) -> str:
    lat = d["latency"]
    b = lat["primary_batch"]
    rep = lat["by_batch"].get(str(b), {})
    label = _CI_KEYS.get(name)
    if label is not None and rep:
        ci = rep["ci_ms"].get(label)
        where = f"batch {b}, {rep['samples']:,} samples" if name == "latency_ms" else f"batch {b}"
        return f"{where}, {rep['confidence']:.0%} CI {ci[0]:.4g}–{ci[1]:.4g} ms" if ci else where
    if name == "throughput_qps":
        return f"offline, best at batch {d['throughput']['offline']['batch']}"
    if name == "fps":
        return "single-stream, batch 1"
    if name in ("flops_g", "macs_g"):
        f = d["flops"]
        missed = f" ({len(f['uncounted'])} ops uncounted)" if f["uncounted"] else ""
        return f"per sample, {f['counter']}{missed}"
    if name == "memory_mb":
        if d["runtime"].get("device", "cpu") != "cpu":
            return "GPU peak"
        if d["memory"]["cpu"].get("fresh_process"):
            return "peak RSS growth of a fresh process loading the model and checking all batch sizes"
        return "RSS growth of this process (a Python object), loading and checking all batch sizes"
    if name == "accuracy":
        a = d["accuracy"]
        return f"{a['correct']:,} / {a['evaluated']:,} rows"
    if name == "error_rate":
        return f"{d['health']['errors']:,} of {d['health']['calls']:,} calls"
    if name == "energy_mj":
        return f"per sample, {d['power']['source']}"
    return ""


def _title(d: dict[str, Any]) -> str:
    rt = d["runtime"]
    where = rt.get("device", "cpu")
    active = rt.get("providers_active")
    extra = f", {', '.join(active)}" if active else ""
    threads = f", {rt['intra_op_threads']} threads" if "intra_op_threads" in rt else ""
    version = f" {rt['version']}" if "version" in rt else ""
    kind = f", {d['model']['kind']}" if "kind" in d["model"] else ""
    return (
        f"mcm measure: {d['model']['name']} ({d['model']['format']}{kind}; "
        f"{rt['runtime']}{version} on {where}{extra}{threads})"
    )


def _inputs(d: dict[str, Any]) -> list[str]:
    """The signature, the input source and batch sizes; for synthetic inputs, a second line with what was drawn."""
    i = d["inputs"]
    sig = ", ".join(
        f"{s['name']} {s['dtype'] or 'any'}[{','.join('?' if x is None else str(x) for x in s['shape'] or ['?'])}]"
        for s in i["signature"]
    )
    source = f"data {i['data']}" if i["data"] else i["source"]
    line = f"inputs: {sig} ({source}); batches {', '.join(str(b) for b in i['batches'])}"
    return [line, f"synthetic inputs: {i['synthetic']}"] if i.get("synthetic") else [line]


__all__ = ["histogram", "text"]
