"""Snapshots of the main screens at fixed terminal sizes (shipped rules, fixed facts: deterministic).

Update with ``pytest tests/tui/test_snapshots.py --snapshot-update`` and look at the SVGs in ``__snapshots__/``.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from mcm.tui.app import McmApp

SMALL = (80, 24)
LARGE = (100, 32)


def planned(lang: str = "en") -> McmApp:
    """The reference's mobile example with calibration data, latency budget tightened to 80 ms."""
    app = McmApp(lang="zh" if lang == "zh" else "en", scenario="mobile")
    for metric, text in {"model_size_mb": "98 MB", "latency_ms": "120 ms", "power_w": "3 W"}.items():
        app.session.set_measured(metric, text)
    app.session.set_measured("accuracy", "94.5 %")
    app.session.set_data("calibration", "true")
    app.session.set_constraint("latency_ms", "<", "80 ms", True)
    return app


SnapCompare = Callable[..., bool]


def test_scenario_small(snap_compare: SnapCompare) -> None:
    assert snap_compare(McmApp(lang="en"), terminal_size=SMALL, press=["down", "down", "down"])


def test_scenario_large_zh(snap_compare: SnapCompare) -> None:
    assert snap_compare(McmApp(lang="zh"), terminal_size=LARGE)


def test_constraints_small(snap_compare: SnapCompare) -> None:
    assert snap_compare(planned(), terminal_size=SMALL)


def test_baseline_large(snap_compare: SnapCompare) -> None:
    assert snap_compare(planned(), terminal_size=LARGE, press=["f4"])


def test_baseline_small(snap_compare: SnapCompare) -> None:
    assert snap_compare(planned(), terminal_size=SMALL, press=["f4"])


def test_baseline_small_zh(snap_compare: SnapCompare) -> None:
    assert snap_compare(planned("zh"), terminal_size=SMALL, press=["f4"])


def test_plan_large(snap_compare: SnapCompare) -> None:
    assert snap_compare(planned(), terminal_size=LARGE, press=["f5"])


def test_plan_small(snap_compare: SnapCompare) -> None:
    assert snap_compare(planned(), terminal_size=SMALL, press=["f5", "pagedown"])


def test_export_large(snap_compare: SnapCompare) -> None:
    assert snap_compare(planned(), terminal_size=LARGE, press=["f6"])


def test_help_small(snap_compare: SnapCompare) -> None:
    assert snap_compare(planned("zh"), terminal_size=SMALL, press=["f1"])


def test_rules_error_small(
    snap_compare: SnapCompare, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # the banner shows the path as given: the same on every run
    Path("bad.rules").write_text(
        'mcm rules 1\nscenario x "x" {\n  require latency_ms < 50 parsecs\n}\n', encoding="utf-8"
    )
    app = McmApp(["bad.rules"], lang="en")
    assert app.session.error is not None
    assert snap_compare(app, terminal_size=SMALL)
