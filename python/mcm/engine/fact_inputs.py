"""Facts as people give them, for every face: typed text (``--env key=value``, a TUI field) and the metrics of a
measurement report (``--baseline report.json``)."""

from __future__ import annotations

from mcm.exceptions import FactsError


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


def fact_text(value: bool | float | str) -> str:
    """An env/data value as ``--env KEY=VALUE`` text that the CLI reads back to the same value."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)
    return value


def fact_option(path: str, text: str) -> str:
    """The command-line option that gives an ``env.*`` or ``data.*`` fact: ``--data calibration=true``."""
    scope, _, name = path.partition(".")
    return f"--{scope} {name}={text}"


def baseline_metrics(path: str) -> dict[str, float]:
    """The ``metrics`` object of an ``mcm measure --format json`` report (or a plain ``{metric: number}`` object):
    a regular file of at most :data:`~mcm.files.read.MAX_JSON_BYTES`, nested at most
    :data:`~mcm.files.read.MAX_JSON_DEPTH` deep."""
    from mcm.files.read import (  # only when asked
        MAX_JSON_BYTES,
        InputFileError,
        loads_limited,
        read_bytes_limited,
    )

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
