"""Reading the command line's assignments: ``--set metric=value``, ``--env key=value``, ``--data key=value``
(typed values and reports: :mod:`mcm.engine.fact_inputs`)."""

from __future__ import annotations

from collections.abc import Sequence

from mcm.exceptions import FactsError


def assignments(items: Sequence[str] | None, flag: str) -> dict[str, str]:
    """``["latency_ms=120ms", ...]`` → ``{"latency_ms": "120ms"}``; values stay text (units parsed later)."""
    out: dict[str, str] = {}
    for item in items or ():
        key, sep, value = item.partition("=")
        if not sep or not key.strip() or not value.strip():
            raise FactsError(f"{flag} {item!r}: expected NAME=VALUE, e.g. {flag} latency_ms=120ms")
        out[key.strip()] = value.strip()
    return out


def metric_values(values: dict[str, str]) -> dict[str, float | str]:
    """``--set`` values: a bare number is already in the metric's canonical unit (``fps=4``, ``latency_ms=120``);
    anything else keeps its unit for the metric to check (``120ms``, ``94.5%``)."""
    out: dict[str, float | str] = {}
    for key, text in values.items():
        try:
            out[key] = float(text)
        except ValueError:
            out[key] = text
    return out
