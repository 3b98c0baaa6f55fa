"""Pilot tests of the scenario screen and of rules errors shown in the app."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import OptionList
from tui_helpers import sync

from mcm.tui.app import McmApp
from mcm.tui.widgets.rules_errors import RulesErrors


@sync
async def test_lists_the_scenarios_and_enter_chooses() -> None:
    app = McmApp(lang="en")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert app.current_mode == "scenario"
        options = app.screen.query_one("#scenarios", OptionList)
        names = [options.get_option_at_index(i).id for i in range(options.option_count)]
        assert set(names) >= {"mobile", "video", "cloud", "edge", "iot"}
        detail = str(app.screen.query_one("#scenario-detail").render())
        assert "Core (must watch)" in detail and ".rules:" in detail
        await pilot.press(*["down"] * names.index("mobile"), "enter")
        await pilot.pause()
        assert app.session.scenario == "mobile"
        assert app.current_mode == "constraints"


@sync
async def test_a_rules_error_is_shown_with_its_location_and_reload_recovers(tmp_path: Path) -> None:
    bad = tmp_path / "bad.rules"
    bad.write_text('mcm rules 1\nscenario x "x" {\n  require latency_ms < 50 parsecs\n}\n', encoding="utf-8")
    app = McmApp([str(bad)], lang="en")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        banner = app.screen.query_one(RulesErrors)
        assert banner.display
        text = str(banner.render())
        assert f"{bad}:3:" in text and "error[" in text and "hint:" in text
        assert not app.screen.query_one("#scenario-pane").display
        bad.write_text('mcm rules 1\nscenario x "x" {\n  require latency_ms < 50 ms\n}\n', encoding="utf-8")
        await pilot.press("ctrl+r")
        await pilot.pause()
        assert app.session.error is None
        assert not banner.display
        assert app.screen.query_one("#scenarios", OptionList).option_count == 1


@sync
async def test_quit_returns_the_decision() -> None:
    app = McmApp(lang="en", scenario="iot")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("f5")
        await pilot.pause()
        await pilot.press("ctrl+q")
    assert app.return_value is not None
    assert app.return_value.scenario == "iot"
