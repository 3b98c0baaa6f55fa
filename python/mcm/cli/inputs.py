"""Reading the command line's facts: ``--set metric=value``, ``--env key=value``, ``--baseline report.json``."""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from mcm.exceptions import FactsError

#: What every command that reads rules says of its rules argument (see :func:`mcm.rulebook.default_rules`).
RULES_HELP = (
    "rules files or directories (default: ./rules when it holds .rules files, else the shipped rules)"
)


def add_rules_argument(parser: argparse.ArgumentParser, name: str = "rules") -> None:
    """The optional positional list of rules files or directories."""
    parser.add_argument(name, nargs="*", metavar=name.upper(), help=RULES_HELP)


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


def typed(values: dict[str, str]) -> dict[str, bool | float | str]:
    """env/data values: ``true``/``false`` → bool, numbers → float, anything else stays a string."""
    out: dict[str, bool | float | str] = {}
    for key, text in values.items():
        low = text.lower()
        if low in ("true", "yes", "1", "on"):
            out[key] = True
        elif low in ("false", "no", "0", "off"):
            out[key] = False
        else:
            try:
                out[key] = float(text)
            except ValueError:
                out[key] = text
    return out


def baseline_metrics(path: str) -> dict[str, float]:
    """The ``metrics`` object of an ``mcm measure --format json`` report (or a plain ``{metric: number}`` object):
    a regular file of at most :data:`~mcm.files.read.MAX_JSON_BYTES`, nested at most
    :data:`~mcm.files.read.MAX_JSON_DEPTH` deep."""
    from mcm.files.read import MAX_JSON_BYTES, InputFileError, loads_limited, read_bytes_limited

    try:
        data = read_bytes_limited(path, MAX_JSON_BYTES, "report")
    except InputFileError as e:
        raise FactsError(f"--baseline {path}: cannot read it: {e.reason}") from e
    try:
        raw = loads_limited(data)
    except ValueError as e:
        raise FactsError(f"--baseline {path}: {e}") from e
    table = raw.get("metrics", raw) if isinstance(raw, dict) else None
    if not isinstance(table, dict):
        raise FactsError(
            f"--baseline {path}: expected an mcm measure report or a JSON object of metric values"
        )
    out: dict[str, float] = {}
    for key, value in table.items():
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise FactsError(f"--baseline {path}: metric {key!r} is {value!r}, not a number")
        out[key] = float(value)
    return out
