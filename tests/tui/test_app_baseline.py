"""Pilot tests of the baseline screen: typed values, a loaded report, a measurement in a worker thread."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

import pytest
from textual.widget import Widget
from textual.widgets import Collapsible, Input, ProgressBar, Select, Static
from tui_helpers import sync

from mcm.tui.app import McmApp
from mcm.tui.widgets.latency_histogram import LatencyHistogram


def _row(app: McmApp, metric: str) -> Widget:
    return next(r for r in app.screen.query("#measured-rows .form-row") if r.name == metric)


@sync
async def test_typed_values_are_checked() -> None:
    app = McmApp(lang="en", scenario="mobile")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("f4")
        await pilot.pause()
        row = _row(app, "model_size_mb")
        field = row.query_one(Input)
        field.focus()
        field.value = "98 ms"
        await pilot.press("enter")
        assert "does not fit" in str(row.query_one(".error", Static).render())
        assert "model_size_mb" not in app.session.measured
        field.value = "98 MB"
        await pilot.pause()
        assert "model_size_mb" not in app.session.measured  # valid, entered on enter or leaving the field
        await pilot.press("enter")
        assert app.session.measured["model_size_mb"] == 98.0
        assert str(row.query_one(".error", Static).render()) == ""


@sync
async def test_load_a_report(tmp_path: Path) -> None:
    report = tmp_path / "report.json"
    report.write_text(json.dumps({"metrics": {"latency_ms": 120.0, "model_size_mb": 98.0}}), encoding="utf-8")
    app = McmApp(lang="en", scenario="mobile")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("f4")
        path = app.screen.query_one("#report-path", Input)
        path.value = str(tmp_path / "missing.json")
        path.focus()
        await pilot.press("enter")
        await pilot.pause()
        assert "cannot read" in str(app.screen.query_one("#load-status", Static).render())
        path.value = str(report)
        await pilot.press("enter")
        await pilot.pause()
        assert app.session.measured == {"latency_ms": 120.0, "model_size_mb": 98.0}
        assert _row(app, "latency_ms").query_one(Input).value == "120 ms"


@sync
async def test_env_fact_is_set_and_bad_text_rejected() -> None:
    app = McmApp(lang="en", scenario="mobile")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("f4")
        await pilot.pause()
        rows = {r.name: r for r in app.screen.query(".fact-row")}
        rows["env.nvidia_gpu"].query_one(Select).value = "true"
        threads = rows["env.threads"].query_one(Input)
        threads.value = "four"
        threads.focus()
        await pilot.press("enter")
        assert app.session.env["nvidia_gpu"] is True
        assert "threads" not in app.session.env
        assert rows["env.threads"].query_one(".fact-label").has_class("error")


@sync
async def test_measure_the_demo_model_in_a_worker() -> None:
    app = McmApp(lang="en", scenario="mobile", measure_options={"min_time": 0.05, "batches": (1,)})
    async with app.run_test(size=(100, 32)) as pilot:
        await pilot.press("f4")
        await pilot.pause()
        app.screen.query_one("#model-path", Input).value = "demo"
        app.screen.query_one("#measure").focus()
        await pilot.press("enter")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert "latency_ms" in app.session.measured
        assert "Measured demo" in str(app.screen.query_one("#measure-status", Static).render())
        assert "Latency histogram" in str(app.screen.query_one(LatencyHistogram).render())
        assert "cpu_avx2" in app.session.env  # the provenance's facts


@sync
async def test_the_histogram_appears_while_the_run_goes_on() -> None:
    """Batch 1's histogram is drawn as soon as it is timed, before batch 8 and the evaluation are done."""
    options = {"min_time": 0.05, "batches": (1, 8)}
    app = McmApp(lang="en", scenario="mobile", measure_options=options)
    async with app.run_test(size=(100, 32)) as pilot:
        await pilot.press("f4")
        await pilot.pause()
        app.screen.query_one("#model-path", Input).value = "demo"
        app.screen.query_one("#measure").focus()
        status = app.screen.query_one("#measure-status", Static)
        histogram = app.screen.query_one(LatencyHistogram)
        seen_during: list[str] = []
        original = histogram.show_samples

        def spy(batch: int | None, samples: object, bins: int = 8) -> None:
            original(batch, samples, bins)
            seen_during.append(str(status.render()))

        histogram.show_samples = spy  # type: ignore[method-assign]
        await pilot.press("enter")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert seen_during and "Measured demo" not in seen_during[0]  # drawn mid-run, not at the end
        assert "batch 1" in str(histogram.render())


# ---- issue #14: cancelling, the plan while measuring, the facts a scenario reads


class FakeMeasure:
    """Stands in for ``measure_model``: reports progress, waits for the test, then finishes (or is cancelled, as
    the real one is: the progress callback raises and a partial report comes back)."""

    def __init__(self, latency: float) -> None:
        self.latency = latency
        self.go = threading.Event()
        self.started = threading.Event()

    def __call__(self, model: object, progress: Any = None, on_latency: Any = None, **options: Any) -> Any:
        from mcm.measure.report import MeasureReport

        partial = False
        try:
            progress(1, 4, "timing", 0.0)
            self.started.set()
            self.go.wait(10)
            progress(2, 4, "timing", 0.0)
        except KeyboardInterrupt:
            partial = True
        return MeasureReport({}, {}, {"latency_ms": self.latency}, {}, {}, [], partial=partial)


async def _measure(app: McmApp, pilot: Any, fake: FakeMeasure, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("mcm.measure.measure_model", fake)
    app.screen.query_one("#measure").focus()
    await pilot.press("enter")
    while not fake.started.is_set():
        await pilot.pause(0.01)


@sync
async def test_cancel_keeps_the_earlier_measurement_and_the_bar_says_cancelled(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    app = McmApp(lang="en", scenario="mobile")
    async with app.run_test(size=(100, 32)) as pilot:
        await pilot.press("f4")
        await pilot.pause()
        first = FakeMeasure(10.0)
        first.go.set()
        await _measure(app, pilot, first, monkeypatch)
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert app.session.measured["latency_ms"] == 10.0
        second = FakeMeasure(99.0)
        await _measure(app, pilot, second, monkeypatch)
        await pilot.press("escape")
        await pilot.pause()
        second.go.set()
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert app.session.measured["latency_ms"] == 10.0  # the complete one, not the partial one
        bar = app.screen.query_one("#measure-progress", ProgressBar)
        assert bar.percentage is None or bar.percentage < 1
        assert bar.has_class("cancelled")
        assert "cancelled" in str(app.screen.query_one("#measure-status", Static).render())


@sync
async def test_the_plan_says_measuring_then_refreshes(monkeypatch: pytest.MonkeyPatch) -> None:
    app = McmApp(lang="en", scenario="mobile")
    async with app.run_test(size=(100, 32)) as pilot:
        await pilot.press("f4")
        await pilot.pause()
        fake = FakeMeasure(120.0)
        await _measure(app, pilot, fake, monkeypatch)
        await pilot.press("f5")
        await pilot.pause()
        assert "Measuring" in str(app.screen.query_one("#verdict", Static).render())
        assert not app.screen.query_one("#plans").display
        fake.go.set()
        await app.workers.wait_for_complete()
        await pilot.pause()
        await pilot.pause()
        assert app.screen.query_one("#plans").display
        assert "mobile:" in str(app.screen.query_one("#verdict", Static).render())
        assert app.session.decision is not None
        assert app.session.decision.facts.measured["latency_ms"] == 120.0


@sync
async def test_measure_and_load_come_first_and_only_the_scenarios_facts_show() -> None:
    app = McmApp(lang="en", scenario="iot")
    async with app.run_test(size=(100, 32)) as pilot:
        await pilot.press("f4")
        await pilot.pause()
        await pilot.pause()
        order = [w.id for w in app.screen.query("#model-path, #report-path, #measured-rows")]
        assert order == ["model-path", "report-path", "measured-rows"]
        shown = [r.name for r in app.screen.query("#fact-rows .fact-row")]
        assert "data.calibration" in shown and "env.nvidia_gpu" not in shown
        other = app.screen.query_one("#other-facts", Collapsible)
        assert other.collapsed
        assert "env.nvidia_gpu" in [r.name for r in other.query(".fact-row")]


@sync
async def test_a_why_not_links_to_the_fact_it_needs() -> None:
    app = McmApp(lang="en", scenario="iot")
    for metric, text in {"model_size_mb": "3 MB", "memory_mb": "60 MB", "power_w": "0.8 W"}.items():
        app.session.set_measured(metric, text)
    async with app.run_test(size=(100, 32)) as pilot:
        await pilot.press("f5")
        await pilot.pause()
        link = next(b for b in app.screen.query(".fact-link") if b.name == "data.training")
        assert "distillation" in str(link.label)
        link.press()
        await pilot.pause()
        await pilot.pause()
        assert app.current_mode == "baseline"
        focused = app.screen.focused
        assert focused is not None and any(
            getattr(a, "name", None) == "data.training" for a in focused.ancestors
        )


@sync
async def test_power_that_cannot_be_measured_offers_a_value_or_a_soft_limit() -> None:
    app = McmApp(lang="en", scenario="iot")
    for metric, text in {"model_size_mb": "3 MB", "memory_mb": "60 MB"}.items():
        app.session.set_measured(metric, text)
    async with app.run_test(size=(100, 32)) as pilot:
        await pilot.press("f5")
        await pilot.pause()
        soft = next(b for b in app.screen.query(".make-soft") if b.name == "power_w")
        soft.press()
        await pilot.pause()
        power = next(r for r in app.session.constraints if r.metric == "power_w")
        assert not power.hard and power.value == 1.0
        typed = next(b for b in app.screen.query(".type-value") if b.name == "power_w")
        typed.press()
        await pilot.pause()
        await pilot.pause()
        assert app.current_mode == "baseline"
        focused = app.screen.focused
        assert focused is not None and any(getattr(a, "name", None) == "power_w" for a in focused.ancestors)
