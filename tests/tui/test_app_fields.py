"""Pilot tests of editing fields across steps (issue #14): a value enters the session only when it is valid, on
enter or when focus leaves the field; the plan and the export refuse while a field is invalid, naming it and its
step; the reset is its own action; errors beside a field name the metric as people read it."""

from __future__ import annotations

import io

from rich.console import Console
from textual.pilot import Pilot
from textual.widget import Widget
from textual.widgets import Input, Static
from tui_helpers import sync

from mcm.tui.app import McmApp


def text_of(widget: Static) -> str:
    console = Console(width=200, record=True, file=io.StringIO())
    console.print(widget.content)
    return console.export_text()


def _limit_row(app: McmApp, metric: str) -> Widget:
    return next(r for r in app.screen.query(".constraint-row") if r.name == metric)


def _measured_row(app: McmApp, metric: str) -> Widget:
    return next(r for r in app.screen.query("#measured-rows .form-row") if r.name == metric)


async def _type(pilot: Pilot[object], text: str, *, per_frame: bool) -> None:
    """Type ``text`` a key at a time: at Textual's default speed, or one key per frame."""
    if not per_frame:
        await pilot.press(*text)
        return
    for key in text:
        await pilot.press(key)
        await pilot.pause()


async def _type_limit(app: McmApp, pilot: Pilot[object], text: str, *, per_frame: bool) -> None:
    await pilot.pause()
    field = _limit_row(app, "memory_mb").query_one(".limit", Input)
    field.focus()
    field.value = ""
    await pilot.pause()
    await _type(pilot, text, per_frame=per_frame)


async def _plan_refuses(app: McmApp, pilot: Pilot[object], where: str, field: str) -> str:
    await pilot.press("f5")
    await pilot.pause()
    verdict = text_of(app.screen.query_one("#verdict", Static))
    assert "invalid" in verdict and where in verdict and field in verdict, verdict
    assert app.session.decision is None
    assert not app.screen.query_one("#plans").display
    return verdict


@sync
async def test_an_invalid_limit_typed_at_default_speed_stops_the_plan() -> None:
    app = McmApp(lang="en", scenario="iot")
    async with app.run_test(size=(100, 32)) as pilot:
        await _type_limit(app, pilot, "200 ms", per_frame=False)
        assert next(r for r in app.session.constraints if r.metric == "memory_mb").value == 100.0
        verdict = await _plan_refuses(app, pilot, "Constraints (F3)", "Peak memory")
        assert "1 field invalid" in verdict


@sync
async def test_an_invalid_limit_typed_one_key_per_frame_stops_the_plan() -> None:
    app = McmApp(lang="en", scenario="iot")
    async with app.run_test(size=(100, 32)) as pilot:
        await _type_limit(app, pilot, "200 ms", per_frame=True)
        assert next(r for r in app.session.constraints if r.metric == "memory_mb").value == 100.0
        await _plan_refuses(app, pilot, "Constraints (F3)", "Peak memory")


@sync
async def test_text_that_is_no_number_stops_the_plan_and_the_export() -> None:
    app = McmApp(lang="en", scenario="iot")
    async with app.run_test(size=(100, 32)) as pilot:
        await _type_limit(app, pilot, "abc", per_frame=False)
        await pilot.press("tab")  # focus leaves the field: still invalid, still not in the session
        await pilot.pause()
        await _plan_refuses(app, pilot, "Constraints (F3)", "Peak memory")
        await pilot.press("f6")
        await pilot.pause()
        await pilot.press("ctrl+s")
        await pilot.pause()
        status = text_of(app.screen.query_one("#export-status", Static))
        assert "1 field invalid on Constraints (F3)" in status


@sync
async def test_a_valid_limit_enters_on_enter_or_when_focus_leaves_not_per_key() -> None:
    app = McmApp(lang="en", scenario="iot")
    async with app.run_test(size=(100, 32)) as pilot:
        await _type_limit(app, pilot, "200", per_frame=True)
        assert next(r for r in app.session.constraints if r.metric == "memory_mb").value == 100.0
        await pilot.press("enter")
        await pilot.pause()
        assert next(r for r in app.session.constraints if r.metric == "memory_mb").value == 200.0
        await _type_limit(app, pilot, "300 MB", per_frame=False)
        await pilot.press("tab")
        await pilot.pause()
        assert next(r for r in app.session.constraints if r.metric == "memory_mb").value == 300.0
        await _type_limit(app, pilot, "400 MB", per_frame=False)
        await pilot.press("f5")  # leaving the step with a valid edit: it counts
        await pilot.pause()
        assert next(r for r in app.session.constraints if r.metric == "memory_mb").value == 400.0
        assert app.session.decision is not None


async def _type_measured(app: McmApp, pilot: Pilot[object], text: str, *, per_frame: bool) -> None:
    await pilot.press("f4")
    await pilot.pause()
    field = _measured_row(app, "memory_mb").query_one(Input)
    field.focus()
    field.value = ""
    await pilot.pause()
    await _type(pilot, text, per_frame=per_frame)


@sync
async def test_an_invalid_measured_value_stops_the_plan_at_either_speed() -> None:
    for per_frame in (False, True):
        app = McmApp(lang="en", scenario="iot")
        async with app.run_test(size=(100, 32)) as pilot:
            await _type_measured(app, pilot, "200 ms", per_frame=per_frame)
            assert "memory_mb" not in app.session.measured
            await _plan_refuses(app, pilot, "Baseline (F4)", "Peak memory")


@sync
async def test_two_invalid_fields_on_two_steps_are_counted_by_step() -> None:
    app = McmApp(lang="en", scenario="iot")
    async with app.run_test(size=(100, 32)) as pilot:
        await _type_limit(app, pilot, "abc", per_frame=False)
        await _type_measured(app, pilot, "200 ms", per_frame=False)
        verdict = await _plan_refuses(app, pilot, "Constraints (F3)", "Peak memory")
        assert "Baseline (F4)" in verdict
        await pilot.press("f3")
        await pilot.pause()
        await pilot.press("ctrl+l")  # reset the limits: the invalid edit goes too
        await pilot.pause()
        await pilot.press("f5")
        await pilot.pause()
        verdict = text_of(app.screen.query_one("#verdict", Static))
        assert "Constraints" not in verdict and "Baseline (F4)" in verdict


@sync
async def test_reset_clears_an_invalid_edit_and_is_shown_as_reset() -> None:
    app = McmApp(lang="en", scenario="iot")
    async with app.run_test(size=(100, 32)) as pilot:
        await _type_limit(app, pilot, "200 ms", per_frame=False)
        row = _limit_row(app, "memory_mb")
        assert row.query_one(".error", Static).display
        assert "Reset limits" in str(app.screen.active_bindings.get("ctrl+l").binding.description)  # type: ignore[union-attr]
        assert "ctrl+z" not in app.screen.active_bindings
        await pilot.press("ctrl+l")
        await pilot.pause()
        await pilot.pause()
        row = _limit_row(app, "memory_mb")
        assert row.query_one(".limit", Input).value == "100 MB"
        assert not row.query_one(".error", Static).display
        await pilot.press("f5")
        await pilot.pause()
        assert app.session.decision is not None


@sync
async def test_errors_beside_a_field_name_no_internal_names() -> None:
    app = McmApp(lang="en", scenario="iot")
    async with app.run_test(size=(100, 32)) as pilot:
        await _type_limit(app, pilot, "200 ms", per_frame=False)
        error = str(_limit_row(app, "memory_mb").query_one(".error", Static).render())
        assert "does not fit" in error and "Peak memory" in error
        assert "constraint." not in error and "memory_mb" not in error
        await _type_measured(app, pilot, "200 ms", per_frame=False)
        error = str(_measured_row(app, "memory_mb").query_one(".error", Static).render())
        assert "does not fit" in error and "measured." not in error and "memory_mb" not in error
        path = app.screen.query_one("#report-path", Input)
        path.value = "missing-report.json"
        path.focus()
        await pilot.press("enter")
        await pilot.pause()
        status = str(app.screen.query_one("#load-status", Static).render())
        assert "cannot read" in status and "--baseline" not in status
