"""Showing canonical values the way people write them: the metric's display unit, in Chinese or English."""

from __future__ import annotations

from typing import Literal

from mcm import metrics, units
from mcm.sanitize import inline

Lang = Literal["en", "zh"]


def label(metric: str, lang: Lang) -> str:
    """The metric's name for people (``latency_ms`` → "Latency (mean)" / "延迟"); an unknown name (from a file or
    an argument) is shown as written, through :func:`mcm.sanitize.inline`."""
    m = metrics.get(metric)
    if m is None:
        return inline(metric)
    return m.zh if lang == "zh" else m.en


def show(metric: str, value: float | None) -> str:
    """``0.945`` accuracy → ``94.5 %``; ``120.0`` latency → ``120 ms``; None → ``—``."""
    if value is None:
        return "—"
    m = metrics.get(metric)
    if m is None:
        return _number(value)
    shown = units.convert(value, m.unit, m.display)
    unit = m.display
    return f"{_number(shown)} {unit}".rstrip()


def _number(x: float) -> str:
    if x != 0 and (abs(x) >= 1e6 or abs(x) < 1e-3):
        return f"{x:.3g}"
    text = f"{x:.4g}" if abs(x) < 1000 else f"{x:.0f}"
    return text
