"""Units: parsing and conversion, by dimension.

Every dimension has a base unit, and every metric is stored in the base unit of its dimension (``metrics.py``), so
a value with a unit converts to a metric's canonical value with one multiplication. Choices:

- Time in ms (``s``, ``ms``, ``us``, ``ns``). Units are ASCII: ``µs`` is rejected with a hint to write ``us``.
- Sizes in MB, binary like the reference (``os.path.getsize(p) / 1024 / 1024``): ``1 GB = 1024 MB``;
  ``KiB``/``MiB``/``GiB`` are accepted as the same units.
- Fractions are dimensionless: ``90 %`` is ``0.90`` and so is a bare ``0.90``. ``pp`` (percentage points, an
  absolute difference) has the same size as ``%`` but a different meaning; the metric catalogue says which of
  the two a metric takes, and in technique effects ``%`` is a relative change while ``pp`` is an absolute one.
- ``x`` is a plain ratio (``2x``). Money is ``USD`` (no ``$`` sign): ``USD/day`` (``USD/h`` is 24 a day,
  ``USD/month`` is 30 days), ``USD/M`` per million inferences.
- FLOPs and MACs are different dimensions (FLOPs ≈ 2 × MACs): ``GFLOPs`` never converts to ``GMACs``.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType

from mcm.exceptions import UnitError

#: The dimension of plain numbers, fractions, ratios and counts.
DIMENSIONLESS = "dimensionless"


@dataclass(frozen=True, slots=True)
class Dimension:
    """A physical or bookkeeping dimension and its base unit (the unit metrics are stored in)."""

    name: str
    base: str
    en: str
    zh: str


@dataclass(frozen=True, slots=True)
class Unit:
    """A unit symbol as written in rules and on the command line: base value = value × ``times`` / ``per``.

    Two numbers rather than one factor so that ``70 %`` is exactly ``0.7`` (70 / 100, not 70 × 0.01).
    """

    symbol: str
    dimension: str
    times: float
    per: float
    en: str

    def to_base(self, value: float) -> float:
        return value * self.times / self.per


_DIMENSIONS = (
    Dimension("time", "ms", "time", "时间"),
    Dimension("size", "MB", "size", "大小"),
    Dimension("power", "W", "power", "功率"),
    Dimension("energy", "mJ", "energy", "能量"),
    Dimension("rate", "qps", "rate", "速率"),
    Dimension("flops", "GFLOPs", "floating-point operations", "浮点运算量"),
    Dimension("macs", "GMACs", "multiply-accumulates", "乘加运算量"),
    Dimension("params", "M", "parameter count", "参数量"),
    Dimension("efficiency", "inf/J", "inferences per joule", "能效"),
    Dimension("money_rate", "USD/day", "money per day", "每日费用"),
    Dimension("unit_cost", "USD/M", "money per million inferences", "单位推理成本"),
    Dimension("money", "USD", "money", "金额"),
    Dimension(DIMENSIONLESS, "", "plain number", "无量纲数"),
)

_KIB = 1024.0
_MIB = _KIB * _KIB
_UNITS = (
    Unit("ns", "time", 1, 1e6, "nanoseconds"),
    Unit("us", "time", 1, 1e3, "microseconds"),
    Unit("ms", "time", 1, 1, "milliseconds"),
    Unit("s", "time", 1e3, 1, "seconds"),
    Unit("B", "size", 1, _MIB, "bytes"),
    Unit("KB", "size", 1, _KIB, "kilobytes (1024 B)"),
    Unit("KiB", "size", 1, _KIB, "kibibytes"),
    Unit("MB", "size", 1, 1, "megabytes (1024 KB)"),
    Unit("MiB", "size", 1, 1, "mebibytes"),
    Unit("GB", "size", _KIB, 1, "gigabytes (1024 MB)"),
    Unit("GiB", "size", _KIB, 1, "gibibytes"),
    Unit("mW", "power", 1, 1e3, "milliwatts"),
    Unit("W", "power", 1, 1, "watts"),
    Unit("kW", "power", 1e3, 1, "kilowatts"),
    Unit("uJ", "energy", 1, 1e3, "microjoules"),
    Unit("mJ", "energy", 1, 1, "millijoules"),
    Unit("J", "energy", 1e3, 1, "joules"),
    Unit("qps", "rate", 1, 1, "queries per second"),
    Unit("fps", "rate", 1, 1, "frames per second"),
    Unit("MFLOPs", "flops", 1, 1e3, "millions of FLOPs"),
    Unit("GFLOPs", "flops", 1, 1, "billions of FLOPs"),
    Unit("TFLOPs", "flops", 1e3, 1, "trillions of FLOPs"),
    Unit("MMACs", "macs", 1, 1e3, "millions of MACs"),
    Unit("GMACs", "macs", 1, 1, "billions of MACs"),
    Unit("TMACs", "macs", 1e3, 1, "trillions of MACs"),
    Unit("K", "params", 1, 1e3, "thousand parameters"),
    Unit("M", "params", 1, 1, "million parameters"),
    Unit("G", "params", 1e3, 1, "billion parameters"),
    Unit("inf/J", "efficiency", 1, 1, "inferences per joule"),
    Unit("USD/h", "money_rate", 24, 1, "US dollars per hour"),
    Unit("USD/day", "money_rate", 1, 1, "US dollars per day"),
    Unit("USD/month", "money_rate", 1, 30, "US dollars per 30-day month"),
    Unit("USD/M", "unit_cost", 1, 1, "US dollars per million inferences"),
    Unit("USD", "money", 1, 1, "US dollars"),
    Unit("", DIMENSIONLESS, 1, 1, "plain number"),
    Unit("%", DIMENSIONLESS, 1, 100, "percent"),
    Unit("pp", DIMENSIONLESS, 1, 100, "percentage points"),
    Unit("x", DIMENSIONLESS, 1, 1, "times (ratio)"),
)

DIMENSIONS: Mapping[str, Dimension] = MappingProxyType({d.name: d for d in _DIMENSIONS})
UNITS: Mapping[str, Unit] = MappingProxyType({u.symbol: u for u in _UNITS})

#: Hints for symbols people type that the language spells differently.
_SPELLINGS = {
    "µs": "us",
    "μs": "us",
    "µJ": "uJ",
    "μJ": "uJ",
    "$": "USD",
    "$/day": "USD/day",
    "%pt": "pp",
    "×": "x",
    "sec": "s",
    "msec": "ms",
    "usec": "us",
    "QPS": "qps",
    "FPS": "fps",
}


def closest(word: str, candidates: Iterable[str]) -> list[str]:
    """The candidates that look like ``word``: a case-insensitive match, else the nearest few (difflib)."""
    pool = [c for c in candidates if c]
    folded = [c for c in pool if c.lower() == word.lower()]
    return folded or difflib.get_close_matches(word, pool, n=3, cutoff=0.7)


def did_you_mean(word: str, candidates: Iterable[str]) -> str | None:
    """A ``did you mean 'x'?`` hint for ``word`` among ``candidates``, or None when nothing comes close."""
    return choices_hint(closest(word, candidates))


def choices_hint(choices: Iterable[str]) -> str | None:
    """``did you mean 'a' or 'b'?`` for a list of choices, or None for none."""
    quoted = [f"'{c}'" for c in choices]
    return "did you mean " + " or ".join(quoted) + "?" if quoted else None


def units_of(dimension: str) -> tuple[str, ...]:
    """The unit symbols of a dimension, smallest first (``""`` stands for a plain number)."""
    return tuple(u.symbol for u in _UNITS if u.dimension == dimension)


def describe(symbols: Iterable[str]) -> str:
    """Unit symbols for a message: ``ms, s, us`` with a plain number shown as ``(no unit)``."""
    return ", ".join(s if s else "(no unit)" for s in symbols)


def unit_hint(symbol: str) -> str:
    """Why ``symbol`` is not a unit and what to write instead: the known units when nothing comes close."""
    if symbol in _SPELLINGS:
        return f"write '{_SPELLINGS[symbol]}'" + (" (units are ASCII)" if not symbol.isascii() else "")
    if not symbol.isascii():
        return "units are ASCII: write us for microseconds, x for times"
    return did_you_mean(symbol, UNITS) or "units: " + describe(u for u in UNITS if u)


def lookup(symbol: str) -> Unit:
    """The unit written ``symbol``; raises :class:`UnitError` with a hint when there is none."""
    try:
        return UNITS[symbol]
    except KeyError:
        raise UnitError(f"unknown unit '{symbol}'", unit_hint(symbol)) from None


def convert(value: float, from_symbol: str, to_symbol: str) -> float:
    """``value`` in ``from_symbol`` expressed in ``to_symbol``; both must have the same dimension."""
    source, target = lookup(from_symbol), lookup(to_symbol)
    if source.dimension != target.dimension:
        raise UnitError(
            f"cannot convert {source.dimension} ({from_symbol or 'plain number'}) "
            f"to {target.dimension} ({to_symbol or 'plain number'})",
            f"{target.dimension} units: {describe(units_of(target.dimension))}",
        )
    return source.to_base(value) * target.per / target.times


_QUANTITY = re.compile(r"\s*([+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?)\s*(\S*)\s*")


def split_quantity(text: str) -> tuple[float, str]:
    """``"120 ms"`` or ``"120ms"`` → ``(120.0, "ms")``; ``"0.9"`` → ``(0.9, "")``. The unit is not checked."""
    match = _QUANTITY.fullmatch(text)
    if match is None:
        raise UnitError(
            f"not a number with a unit: {text!r}", "write a number then a unit, e.g. 120 ms or 90 %"
        )
    return float(match.group(1)), match.group(2)


#: Significant digits of a value shown to people (reports, tables, screens).
DISPLAY_DIGITS = 4
#: Significant digits where two close values must stay apart: explanations, editable fields.
PRECISE_DIGITS = 6


def format_number(x: float, digits: int = DISPLAY_DIGITS) -> str:
    """``x`` with ``digits`` significant digits, the one way mcm writes a number: ``0.05225``, ``94.5``,
    ``1.5e-05``. At :data:`DISPLAY_DIGITS` (for people) a whole number of more figures keeps them all, grouped
    (``12,345``); at other precisions the text is always one mcm reads back (``2.5e+06``, never ``2,500,000``)."""
    return format_quantity(x, "", digits)


def format_quantity(base_value: float, symbol: str, digits: int = DISPLAY_DIGITS) -> str:
    """A value in its dimension's base unit, shown in unit ``symbol`` as :func:`format_number` writes numbers:
    ``(0.945, "%")`` → ``94.5 %``, ``(2.0, "x")`` → ``2x``, ``(3.0, "")`` → ``3``; a symbol mcm does not know is
    written after the number. (Literal format specs for the usual digits: explanations format numbers on the
    advisor's hot path.)"""
    x = base_value / _SCALE.get(symbol, 1.0)
    if digits == PRECISE_DIGITS:
        text = f"{x:.6g}"
    elif digits == DISPLAY_DIGITS:
        text = f"{x:.4g}"
    else:
        text = format(x, f".{digits}g")
    if digits == DISPLAY_DIGITS and "e+" in text and -1e15 < x < 1e15:  # keep a big number's figures, grouped
        text = f"{x:,.0f}"
    elif text == "-0":
        text = "0"
    if not symbol:
        return text
    return f"{text}{symbol}" if symbol == "x" else f"{text} {symbol}"


#: One unit in its dimension's base unit, by symbol (``%`` → 0.01).
_SCALE = {symbol: unit.to_base(1.0) for symbol, unit in UNITS.items()}


__all__ = [
    "DIMENSIONLESS",
    "DIMENSIONS",
    "DISPLAY_DIGITS",
    "PRECISE_DIGITS",
    "UNITS",
    "Dimension",
    "Unit",
    "choices_hint",
    "closest",
    "convert",
    "describe",
    "did_you_mean",
    "format_number",
    "format_quantity",
    "lookup",
    "split_quantity",
    "unit_hint",
    "units_of",
]
