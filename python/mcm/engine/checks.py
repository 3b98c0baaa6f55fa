"""Constraint checks: each hard (``require``) and soft (``prefer``) constraint against the measured facts."""

from __future__ import annotations

from mcm import metrics, units
from mcm.engine.decision import CheckStatus, ConstraintCheck
from mcm.engine.facts import Facts, Limit
from mcm.engine.messages import Message


def check_constraints(facts: Facts) -> tuple[ConstraintCheck, ...]:
    """Met / violated / unknown (the metric was not measured) for every limit, in the facts' order."""
    return tuple(check(limit, facts.measured.get(limit.metric)) for limit in facts.limits)


def check(limit: Limit, value: float | None) -> ConstraintCheck:
    """One limit against one value (None: not measured)."""
    metric = metrics.METRICS[limit.metric]
    status: CheckStatus
    if value is None:
        status, ratio = "unknown", None
    else:
        status = "met" if limit.holds(value) else "violated"
        ratio = value / limit.value if limit.value != 0 else None
    pos = None if limit.pos is None else str(limit.pos)
    return ConstraintCheck(
        limit.metric,
        limit.op,
        limit.value,
        limit.hard,
        limit.source,
        pos,
        status,
        value,
        ratio,
        metric.better,
        metric.unit,
        lambda: _describe(limit, value, status, ratio),
    )


def _describe(limit: Limit, value: float | None, status: CheckStatus, ratio: float | None) -> str:
    """``latency_ms 120 ms < 50 ms: violated (2.4× the limit)``: written only when someone reads it."""
    if value is None:
        return Message("check.unknown", constraint=limit.text(), metric=limit.metric)
    shown, limit_shown = (
        metrics.format_value(limit.metric, v, units.PRECISE_DIGITS) for v in (value, limit.value)
    )
    text = Message(f"check.{status}", metric=limit.metric, value=shown, op=limit.op, limit=limit_shown)
    return text if ratio is None else Message("check.ratio", text=text, ratio=ratio)


__all__ = ["check", "check_constraints"]
