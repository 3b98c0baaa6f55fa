"""Pilot tests of the constraints form: invalid limits rejected with a message beside the field, valid accepted."""

from __future__ import annotations

from textual.widget import Widget
from textual.widgets import Input, Select, Static
from tui_helpers import sync

from mcm.tui.app import McmApp


def _row(app: McmApp, metric: str) -> Widget:
    return next(r for r in app.screen.query(".constraint-row") if r.name == metric)


@sync
async def test_prefilled_from_the_scenario_with_units() -> None:
    app = McmApp(lang="en", scenario="mobile")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        row = _row(app, "latency_ms")
        assert row.query_one(".limit", Input).value == "100 ms"
        assert str(row.query_one(".unit", Static).render()) == "ms"
        assert app.session.user_constraints() == []  # showing the form changes nothing


@sync
async def test_invalid_limit_is_rejected_beside_the_field_then_a_valid_one_accepted() -> None:
    app = McmApp(lang="en", scenario="mobile")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        row = _row(app, "latency_ms")
        field = row.query_one(".limit", Input)
        field.focus()
        field.value = "50 parsecs"  # pasted: every intermediate text would be checked the same way
        await pilot.pause()
        error = str(row.query_one(".error", Static).render())
        assert "unknown unit" in error
        assert next(r for r in app.session.constraints if r.metric == "latency_ms").value == 100.0
        field.value = ""
        await pilot.press(*"50 ms")
        await pilot.pause()
        assert str(row.query_one(".error", Static).render()) == ""
        assert next(r for r in app.session.constraints if r.metric == "latency_ms").value == 100.0  # not yet
        await pilot.press("enter")  # a value enters the session on enter (or when focus leaves the field)
        await pilot.pause()
        assert next(r for r in app.session.constraints if r.metric == "latency_ms").value == 50.0


@sync
async def test_add_and_remove_a_constraint() -> None:
    app = McmApp(lang="en", scenario="mobile")
    async with app.run_test(size=(100, 32)) as pilot:
        await pilot.pause()
        app.screen.query_one("#add-metric", Select).value = "memory_mb"
        limit = app.screen.query_one("#add-limit", Input)
        limit.focus()
        await pilot.press(*"3 ms")
        await pilot.pause()
        assert "does not fit" in str(app.screen.query_one("#add-error", Static).render())
        limit.value = ""
        await pilot.press(*"300 MB", "enter")
        await pilot.pause()
        assert any(r.metric == "memory_mb" and r.value == 300.0 for r in app.session.constraints)
        await pilot.pause()
        row = _row(app, "power_w")
        await pilot.click(row.query_one(".remove"))
        await pilot.pause()
        assert all(r.metric != "power_w" for r in app.session.constraints)
        assert "power_w" in app.session.removed_constraints()
        await pilot.press("ctrl+l")  # reset the limits: back to the scenario's own constraints
        await pilot.pause()
        assert app.session.constraints == list(app.session.scenario_defaults())
        assert app.session.removed_constraints() == () and _row(app, "power_w") is not None
