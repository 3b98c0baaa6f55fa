"""Pilot tests of the baseline screen: typed values, a loaded report, a measurement in a worker thread."""

from __future__ import annotations

import json
from pathlib import Path

from textual.widget import Widget
from textual.widgets import Input, Select, Static
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
        field.value = "98 ms"
        await pilot.pause()
        assert "does not fit" in str(row.query_one(".error", Static).render())
        assert "model_size_mb" not in app.session.measured
        field.value = "98 MB"
        await pilot.pause()
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
        rows["env.threads"].query_one(Input).value = "four"
        await pilot.pause()
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
