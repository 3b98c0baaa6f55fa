"""Pilot tests of the wizard flow and of what the screens make visible (issue #14): ctrl+n takes the highlighted
scenario, highlights survive moving between steps, escape goes back a step, ``?`` opens the help, j/k move in
lists, the footer names the keys of the focused list, focus and hard / soft read at a glance, trace lines fit,
and Textual's own words follow ``--lang zh``."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from rich.console import Console
from rich.text import Text
from textual.pilot import Pilot
from textual.widget import Widget
from textual.widgets import Checkbox, Input, OptionList, Select, Static
from tui_helpers import sync

from mcm.tui.app import McmApp
from mcm.tui.screens.help import HelpScreen
from mcm.tui.widgets.constraint_table import ConstraintTable
from mcm.tui.widgets.trace_tree import TraceTree


def text_of(widget: Static) -> str:
    console = Console(width=200, record=True, file=io.StringIO())
    console.print(widget.content)
    return console.export_text()


def _names(options: OptionList) -> list[str]:
    return [str(options.get_option_at_index(i).id) for i in range(options.option_count)]


def _highlighted(app: McmApp) -> str:
    options = app.screen.query_one("#scenarios", OptionList)
    assert options.highlighted is not None
    return str(options.get_option_at_index(options.highlighted).id)


async def _highlight(app: McmApp, pilot: Pilot[object], name: str) -> None:
    options = app.screen.query_one("#scenarios", OptionList)
    options.focus()
    options.highlighted = 0
    await pilot.press(*["down"] * _names(options).index(name))
    await pilot.pause()
    assert _highlighted(app) == name


def _mobile_app(lang: str = "en") -> McmApp:
    app = McmApp(lang=lang, scenario="mobile")  # type: ignore[arg-type]
    for metric, text in {"model_size_mb": "30 MB", "latency_ms": "60 ms", "power_w": "1.5 W"}.items():
        app.session.set_measured(metric, text)
    return app


def _row(app: McmApp, metric: str) -> Widget:
    return next(r for r in app.screen.query(".constraint-row") if r.name == metric)


# ---- 1. the first screen is no dead end


@sync
async def test_ctrl_n_takes_the_highlighted_scenario() -> None:
    app = McmApp(lang="en")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await _highlight(app, pilot, "video")
        await pilot.press("ctrl+n")
        await pilot.pause()
        assert app.current_mode == "constraints"
        assert app.session.scenario == "video"
        assert "Choose a scenario first" not in str(
            app.screen.query_one("#constraints-title", Static).render()
        )


@sync
async def test_ctrl_n_on_the_chosen_scenario_keeps_its_edits() -> None:
    app = McmApp(lang="en", scenario="mobile")
    async with app.run_test(size=(80, 24)) as pilot:
        app.session.set_constraint("latency_ms", "<", "50 ms")
        await pilot.press("f2")
        await pilot.pause()
        assert _highlighted(app) == "mobile"
        await pilot.press("ctrl+n")
        await pilot.pause()
        assert next(r for r in app.session.constraints if r.metric == "latency_ms").value == 50.0


@sync
async def test_the_highlight_survives_going_to_another_step_and_back() -> None:
    app = McmApp(lang="en", scenario="mobile")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("f2")
        await pilot.pause()
        await _highlight(app, pilot, "edge")
        await pilot.press("f4")
        await pilot.pause()
        await pilot.press("f2")
        await pilot.pause()
        assert _highlighted(app) == "edge"
        await pilot.press("f1")  # a popup over the list and back
        await pilot.pause()
        await pilot.press("escape")
        await pilot.pause()
        assert app.current_mode == "scenario" and _highlighted(app) == "edge"
        assert app.session.scenario == "mobile"  # highlighting alone chooses nothing


@sync
async def test_choose_is_in_the_footer_while_the_list_has_focus() -> None:
    app = McmApp(lang="en")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert isinstance(app.focused, OptionList)
        enter = app.screen.active_bindings["enter"].binding
        assert enter.show and enter.description == "Choose"


@sync
async def test_no_choose_while_the_rules_do_not_load(tmp_path: Path) -> None:
    bad = tmp_path / "bad.rules"
    bad.write_text('mcm rules 1\nscenario x "x" {\n  require latency_ms < 50 parsecs\n}\n', encoding="utf-8")
    app = McmApp([str(bad)], lang="en")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        active = app.screen.active_bindings.values()
        assert not any(b.binding.description == "Choose" and b.enabled for b in active)
        await pilot.press("ctrl+n")
        await pilot.pause()
        assert app.session.scenario is None


@sync
async def test_escape_goes_back_one_step_unless_it_closes_a_popup() -> None:
    app = _mobile_app()
    async with app.run_test(size=(100, 32)) as pilot:
        await pilot.press("f5")
        await pilot.pause()
        await pilot.press("f1")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("escape")  # closes the help, stays on the plan
        await pilot.pause()
        assert app.current_mode == "recommendations" and not isinstance(app.screen, HelpScreen)
        await pilot.press("escape")
        await pilot.pause()
        assert app.current_mode == "baseline"
        await pilot.press("escape")
        await pilot.pause()
        assert app.current_mode == "constraints"
        await pilot.press("escape", "escape")
        await pilot.pause()
        assert app.current_mode == "scenario" and app.is_running  # the first step stays


@sync
async def test_question_mark_opens_help_but_types_in_a_field() -> None:
    app = McmApp(lang="en", scenario="mobile")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        field = _row(app, "latency_ms").query_one(".limit", Input)
        field.focus()
        field.value = ""
        await pilot.press("question_mark", "j", "k")
        await pilot.pause()
        assert field.value == "?jk" and not isinstance(app.screen, HelpScreen)
        await pilot.press("f2")
        await pilot.pause()
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)


@sync
async def test_j_and_k_move_in_the_scenario_list_and_the_trace_tree() -> None:
    app = _mobile_app()
    async with app.run_test(size=(100, 32)) as pilot:
        await pilot.press("f2")
        await pilot.pause()
        options = app.screen.query_one("#scenarios", OptionList)
        start = options.highlighted
        assert start is not None
        await pilot.press("j")
        assert options.highlighted == start + 1
        await pilot.press("k")
        assert options.highlighted == start
        await pilot.press("f5")
        await pilot.pause()
        tree = app.screen.query_one(TraceTree)
        tree.focus()
        await pilot.pause()
        line = tree.cursor_line
        await pilot.press("j", "j")
        assert tree.cursor_line == line + 2
        await pilot.press("k")
        assert tree.cursor_line == line + 1


@sync
async def test_the_trace_cursor_and_the_table_cursor_survive_going_away_and_back() -> None:
    app = _mobile_app()
    async with app.run_test(size=(100, 32)) as pilot:
        await pilot.press("f5")
        await pilot.pause()
        table = app.screen.query_one(ConstraintTable)
        table.focus()
        await pilot.press("j", "j")
        assert table.cursor_row == 2
        tree = app.screen.query_one(TraceTree)
        tree.focus()
        await pilot.pause()
        await pilot.press("j", "j", "j", "space")  # the cursor on a rule not expanded at first, now expanded
        await pilot.pause()
        line, label = tree.cursor_line, str(tree.cursor_node.label if tree.cursor_node else "")
        expanded = tree.cursor_node is not None and tree.cursor_node.is_expanded
        await pilot.press("f4")
        await pilot.pause()
        await pilot.press("f5")
        await pilot.pause()
        tree = app.screen.query_one(TraceTree)
        assert tree.cursor_line == line and str(tree.cursor_node.label if tree.cursor_node else "") == label
        assert tree.cursor_node is not None and tree.cursor_node.is_expanded == expanded
        assert app.screen.query_one(ConstraintTable).cursor_row == 2


@sync
async def test_the_trace_tree_names_its_keys_in_the_footer() -> None:
    app = _mobile_app()
    async with app.run_test(size=(100, 32)) as pilot:
        await pilot.press("f5")
        await pilot.pause()
        app.screen.query_one(TraceTree).focus()
        await pilot.pause()
        shown = {k: b.binding for k, b in app.screen.active_bindings.items() if b.binding.show}
        assert shown["enter"].description == "Show rule"
        assert shown["space"].description == "Expand"
        assert any(b.action == "page_right" for b in shown.values())


# ---- 2. focus and state


@sync
async def test_a_focused_compact_field_looks_different() -> None:
    app = McmApp(lang="en", scenario="mobile")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        row = _row(app, "latency_ms")
        for widget in (row.query_one(".limit", Input), row.query_one(".op", Select)):
            app.screen.query_one("#add-limit", Input).focus()
            await pilot.pause()
            before = (
                widget.styles.background
                if isinstance(widget, Input)
                else widget.children[0].styles.background
            )
            widget.focus()
            await pilot.pause()
            after = (
                widget.styles.background
                if isinstance(widget, Input)
                else widget.children[0].styles.background
            )
            assert before != after, type(widget).__name__


@sync
async def test_hard_and_soft_constraints_read_differently() -> None:
    app = McmApp(lang="en", scenario="mobile")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        box = _row(app, "latency_ms").query_one(".hard", Checkbox)
        assert box.value and str(box.label) == "hard"
        box.value = False
        await pilot.pause()
        assert "soft" in str(box.label) and "hard" not in str(box.label)
        assert not next(r for r in app.session.constraints if r.metric == "latency_ms").hard
        remove = _row(app, "latency_ms").query_one(".remove")
        assert remove.region.right <= 80  # the row still fits 80 columns


# ---- 3. trace lines fit; long pastes are cut short


@pytest.mark.parametrize("width", [80, 120])
@sync
async def test_trace_lines_fit_and_keep_every_word(width: int) -> None:
    app = _mobile_app()
    async with app.run_test(size=(width, 40)) as pilot:
        await pilot.press("f5")
        await pilot.pause()
        tree = app.screen.query_one(TraceTree)
        tree.root.expand_all()
        await pilot.pause()
        assert tree.virtual_size.width <= tree.scrollable_content_region.width
        shown = " ".join(str(line.node.label) for line in tree._tree_lines)
        for w in app.session.decision.why_not:  # type: ignore[union-attr]
            for word in w.message.split():
                assert word in shown


@sync
async def test_the_trace_scrolls_sideways_by_a_page() -> None:
    app = _mobile_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("f5")
        await pilot.pause()
        tree = app.screen.query_one(TraceTree)
        tree.focus()
        tree.styles.width = 20  # narrower than the deepest indent allows to wrap to: it scrolls
        await pilot.pause()
        assert tree.max_scroll_x > 0
        await pilot.press("right")
        await pilot.pause()
        assert tree.scroll_x > 1


@sync
async def test_a_long_paste_is_cut_short_in_the_error() -> None:
    app = McmApp(lang="en", scenario="mobile")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        field = _row(app, "latency_ms").query_one(".limit", Input)
        field.focus()
        field.value = "x" * 2000
        await pilot.press("enter")
        await pilot.pause()
        errors = " ".join(text_of(s) for s in app.screen.query(".row-error").results(Static))
        assert "x" * 61 not in errors and "…" in errors


# ---- 4. Chinese


@sync
async def test_the_quit_prompt_is_in_chinese() -> None:
    app = McmApp(lang="zh")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press("ctrl+c")
        await pilot.pause()
        notes = list(app._notifications)
        assert notes and all("quit" not in f"{n.title} {n.message}".lower() for n in notes)
        assert "退出" in notes[-1].message and "ctrl+q" in notes[-1].message


@sync
async def test_scenario_labels_show_their_chinese_part_in_chinese() -> None:
    app = McmApp(lang="zh")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        options = app.screen.query_one("#scenarios", OptionList)
        prompts = {
            str(options.get_option_at_index(i).id): str(options.get_option_at_index(i).prompt)
            for i in range(options.option_count)
        }
        assert "手机APP" in prompts["mobile"] and "mobile app" not in prompts["mobile"]
        assert "embedded" not in prompts["iot"] and "嵌入式" in prompts["iot"]


def test_a_scenario_title_in_either_language() -> None:
    from mcm.tui.screens.scenario import scenario_title

    assert scenario_title("mobile", "手机APP / mobile app", "zh") == "mobile — 手机APP"
    assert scenario_title("mobile", "mobile (移动端)", "zh") == "mobile — 移动端"
    assert scenario_title("iot", "IoT / 嵌入式 / embedded", "zh") == "iot — IoT / 嵌入式"
    assert scenario_title("lab", "lab bench", "zh") == "lab"
    assert scenario_title("lab", "", "zh") == "lab"
    assert scenario_title("mobile", "手机APP / mobile app", "en") == "mobile — 手机APP / mobile app"
    assert isinstance(Text(scenario_title("x", "a\x1b[2J", "en")), Text)
    assert "\x1b" not in scenario_title("x", "a\x1b[2J", "en")
