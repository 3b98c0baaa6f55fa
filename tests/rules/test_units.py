"""Units: conversion by dimension, the decisions about µ, $, binary sizes, % and pp."""

from __future__ import annotations

import pytest

from mcm import units
from mcm.exceptions import McmError, UnitError


def test_every_dimension_has_its_base_unit() -> None:
    for dimension in units.DIMENSIONS.values():
        base = units.UNITS[dimension.base]
        assert base.dimension == dimension.name and base.to_base(1.0) == 1.0


@pytest.mark.parametrize(
    ("value", "source", "target", "expected"),
    [
        (1.5, "s", "ms", 1500.0),
        (250, "us", "ms", 0.25),
        (2, "GB", "MB", 2048.0),
        (512, "KB", "MB", 0.5),
        (1, "MiB", "MB", 1.0),
        (1500, "mW", "W", 1.5),
        (2, "J", "mJ", 2000.0),
        (90, "%", "", 0.9),
        (3, "pp", "", 0.03),
        (10, "USD/h", "USD/day", 240.0),
        (1, "TFLOPs", "GFLOPs", 1000.0),
        (500, "K", "M", 0.5),
    ],
)
def test_convert(value: float, source: str, target: str, expected: float) -> None:
    assert units.convert(value, source, target) == pytest.approx(expected)


def test_percent_is_exact() -> None:
    assert units.UNITS["%"].to_base(70) == 0.7


def test_convert_across_dimensions_is_refused() -> None:
    with pytest.raises(UnitError) as caught:
        units.convert(1, "GFLOPs", "GMACs")
    assert caught.value.hint == "macs units: MMACs, GMACs, TMACs"


@pytest.mark.parametrize(
    ("symbol", "hint"),
    [
        ("µs", "write 'us' (units are ASCII)"),
        ("μs", "write 'us' (units are ASCII)"),
        ("$", "write 'USD'"),
        ("mb", "did you mean 'MB'?"),
        ("msec", "write 'ms'"),
        ("Ω", "units are ASCII: write us for microseconds, x for times"),
    ],
)
def test_unknown_units_get_a_hint(symbol: str, hint: str) -> None:
    with pytest.raises(UnitError) as caught:
        units.lookup(symbol)
    assert isinstance(caught.value, McmError)
    assert caught.value.hint == hint


def test_split_quantity() -> None:
    assert units.split_quantity("120ms") == (120.0, "ms")
    assert units.split_quantity(" 0.9 ") == (0.9, "")
    assert units.split_quantity("-2.5e1 pp") == (-25.0, "pp")
    with pytest.raises(UnitError):
        units.split_quantity("fast")
