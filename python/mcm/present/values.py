"""Metric values written for people to type again: the command line the TUI shows (``--set NAME=VALUE``)."""

from __future__ import annotations

from mcm import metrics, units
from mcm.engine.facts import TOLERANCE, rounded
from mcm.exceptions import McmError

#: Significant digits tried in turn: the display precision, the precise one, then the decision's JSON precision.
_DIGITS = (units.DISPLAY_DIGITS, units.PRECISE_DIGITS, 12)


def command_value(name: str, value: float) -> str:
    """``value`` (canonical) of metric ``name`` as a command-line value, without spaces: ``0.02202435ms`` rather than
    ``0.022024349999999998``. The display precision is used when it reads back within the limits' tolerance
    (:data:`mcm.engine.facts.TOLERANCE`) and to the same number in the decision's JSON (12 significant digits),
    else more digits, else :meth:`mcm.metrics.Metric.literal` (exact)."""
    metric = metrics.get(name)
    if metric is None:
        return repr(value)
    for digits in _DIGITS:
        text = units.format_quantity(value, metric.display, digits).replace(",", "").replace(" ", "")
        try:
            back = metric.parse(text)
        except McmError:
            continue
        if back == value or (abs(back - value) <= TOLERANCE * abs(value) and rounded(back) == rounded(value)):
            return text
    return metric.literal(value).replace(" ", "")


__all__ = ["command_value"]
