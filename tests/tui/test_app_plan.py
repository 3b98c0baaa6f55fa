"""Pilot tests of the recommendations and export screens: the same decision as `mcm advise`, valid exports."""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path
from typing import Any

from rich.console import Console
from textual.widgets import Input, Static
from tui_helpers import sync

from mcm.cli.main import main as mcm_main
from mcm.tui.app import McmApp
from mcm.tui.screens.export import Confirm
from mcm.tui.screens.source import SourceScreen
from mcm.tui.screens.technique import TechniqueScreen
from mcm.tui.widgets.trace_tree import TraceTree

FACTS = {"model_size_mb": "98 MB", "latency_ms": "120 ms", "power_w": "3 W", "accuracy": "94.5 %"}


def text_of(widget: Static) -> str:
    """What a Static shows, as plain text (its content may be any Rich renderable)."""
    console = Console(width=100, record=True, file=io.StringIO())
    console.print(widget.content)
    return console.export_text()


def advise_json(argv: list[str]) -> tuple[int, dict[str, Any]]:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = mcm_main(["advise", *argv, "--format", "json"])
    return code, json.loads(out.getvalue())


def mobile_app() -> McmApp:
    app = McmApp(lang="en", scenario="mobile")
    for metric, text in FACTS.items():
        app.session.set_measured(metric, text)
    app.session.set_data("calibration", "true")
    app.session.set_constraint("latency_ms", "<", "80 ms", True)
    return app


@sync
async def test_the_plan_on_screen_is_the_plan_of_mcm_advise() -> None:
    app = mobile_app()
    async with app.run_test(size=(100, 32)) as pilot:
        await pilot.press("f5")
        await pilot.pause()
        decision = app.session.decision
        assert decision is not None
        code, expected = advise_json(app.session.cli_args())
        assert decision.to_dict() == expected
        assert code == (0 if decision.meets_constraints else 3 if decision.undecided else 1)
        plans = text_of(app.screen.query_one("#plans", Static))
        top = decision.plans[0]
        assert f"Plan 1: {' → '.join(top.techniques)}" in plans
        command = str(app.screen.query_one("#cli", Static).render())
        assert command.startswith("mcm advise rules --scenario mobile")
        triangle = str(app.screen.query_one("#triangle").render())
        assert "accuracy" in triangle and "latency" in triangle and "resources" in triangle
        await pilot.press("ctrl+q")
    assert (
        app.return_value is not None and app.return_value.to_dict() == decision.to_dict()
    )  # the plan on screen


@sync
async def test_a_trace_entry_opens_its_rule() -> None:
    app = mobile_app()
    async with app.run_test(size=(100, 32)) as pilot:
        await pilot.press("f5")
        await pilot.pause()
        tree = app.screen.query_one(TraceTree)
        tree.focus()
        fired = next(e for e in app.session.decision.trace if e.status == "fired")  # type: ignore[union-attr]
        tree.post_message(TraceTree.Jump(fired.pos))
        await pilot.pause()
        assert isinstance(app.screen, SourceScreen)
        text = text_of(app.screen.query_one("#source-text", Static))
        assert f"rule {fired.rule}:" in text
        await pilot.press("escape")
        assert not isinstance(app.screen, SourceScreen)


@sync
async def test_a_decision_error_is_a_message_not_a_crash() -> None:
    app = McmApp(lang="en")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("f5")
        await pilot.pause()
        assert "Cannot decide" in str(app.screen.query_one("#verdict", Static).render())


@sync
async def test_export_writes_valid_files(tmp_path: Path) -> None:
    app = mobile_app()
    async with app.run_test(size=(100, 32)) as pilot:
        await pilot.press("f5")
        await pilot.pause()
        await pilot.press("f6")
        await pilot.pause()
        fields = {
            "folder": str(tmp_path),
            "json": "plan.json",
            "markdown": "plan.md",
            "rules": "edited.rules",
        }
        for key, value in fields.items():
            app.screen.query_one(f"#export-{key}", Input).value = value
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert "Wrote" in str(app.screen.query_one("#export-status", Static).render())
        decision = app.session.decision
    assert decision is not None
    plan = json.loads((tmp_path / "plan.json").read_text(encoding="utf-8"))
    assert plan["schema"] == "mcm.decision/2" and plan == decision.to_dict()
    assert (tmp_path / "plan.md").read_text(encoding="utf-8").startswith("# mcm advise: mobile")
    code, again = advise_json(app.session.cli_args(rules_file=tmp_path / "edited.rules"))
    assert code in (0, 1, 3)
    assert again["plans"] == plan["plans"] and again["meets_constraints"] == plan["meets_constraints"]


def status_of(app: McmApp) -> str:
    return str(app.screen.query_one("#export-status", Static).render())


async def open_export(app: McmApp, pilot: Any, folder: str | Path, **names: str) -> None:
    await pilot.press("f6")
    await pilot.pause()
    values = {"json": "plan.json", "markdown": "plan.md", "rules": "edited.rules", **names}
    for key, value in values.items():
        app.screen.query_one(f"#export-{key}", Input).value = value
    app.screen.query_one("#export-folder", Input).value = str(folder)


async def write_and_answer(app: McmApp, pilot: Any, question: str | None, answer: str = "y") -> None:
    """Press ctrl+s; ``question`` (a part of it) must be asked, answered with ``answer``, or none asked."""
    await pilot.press("ctrl+s")
    await pilot.pause()
    if question is None:
        assert not isinstance(app.screen, Confirm)
        return
    assert isinstance(app.screen, Confirm), status_of(app)
    assert question in str(app.screen.query_one("#confirm-text", Static).render())
    await pilot.press(answer)
    await pilot.pause()
    assert not isinstance(app.screen, Confirm)


@sync
async def test_export_is_all_or_nothing(tmp_path: Path) -> None:
    """A declined folder, or one target that cannot be written, leaves no file at all and says why."""
    (tmp_path / "plan.md").mkdir()  # the Markdown target is a directory: that write must fail
    app = mobile_app()
    async with app.run_test(size=(100, 32)) as pilot:
        await open_export(app, pilot, tmp_path / "missing")
        await write_and_answer(app, pilot, "Create folder", "n")
        assert "Nothing written" in status_of(app)
        app.screen.query_one("#export-folder", Input).value = str(tmp_path)
        await write_and_answer(app, pilot, None)  # refused before anything is asked
        assert "it is a directory" in status_of(app)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["plan.md"]  # no plan.json, no temporary file


@sync
async def test_export_into_a_new_folder_asks_then_creates_it(tmp_path: Path) -> None:
    folder = tmp_path / "new" / "plans"
    app = mobile_app()
    async with app.run_test(size=(100, 32)) as pilot:
        await open_export(app, pilot, folder)
        await write_and_answer(app, pilot, f"Create folder {folder}?", "y")
        assert "Wrote" in status_of(app)
    assert sorted(p.name for p in folder.iterdir()) == ["edited.rules", "plan.json", "plan.md"]
    assert json.loads((folder / "plan.json").read_text(encoding="utf-8"))["schema"] == "mcm.decision/2"


@sync
async def test_declining_the_new_folder_creates_nothing(tmp_path: Path) -> None:
    app = McmApp(lang="zh", scenario="mobile")
    async with app.run_test(size=(100, 32)) as pilot:
        await open_export(app, pilot, tmp_path / "new")
        await write_and_answer(app, pilot, "创建目录", "escape")
        assert "未写出任何文件" in status_of(app)
    assert list(tmp_path.iterdir()) == []


@sync
async def test_a_folder_created_for_a_failed_export_is_removed(tmp_path: Path) -> None:
    (tmp_path / "plan.md").mkdir()
    app = mobile_app()
    async with app.run_test(size=(100, 32)) as pilot:
        await open_export(app, pilot, tmp_path / "made", markdown="../plan.md")
        await write_and_answer(app, pilot, "Create folder", "y")
        assert "it is a directory" in status_of(app)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["plan.md"]


@sync
async def test_a_second_export_asks_before_overwriting(tmp_path: Path) -> None:
    app = mobile_app()
    async with app.run_test(size=(100, 32)) as pilot:
        await open_export(app, pilot, tmp_path)
        await write_and_answer(app, pilot, None)  # new files: nothing to ask
        assert "Wrote" in status_of(app)
        (tmp_path / "plan.json").write_text("old", encoding="utf-8")
        (tmp_path / "edited.rules").unlink()
        await write_and_answer(app, pilot, "Overwrite plan.json, plan.md?", "n")
        assert "Nothing written" in status_of(app)
        assert (tmp_path / "plan.json").read_text(encoding="utf-8") == "old"
        assert not (tmp_path / "edited.rules").exists()  # declining writes none of them, new ones included
        await write_and_answer(app, pilot, "Overwrite plan.json, plan.md?", "y")
        assert "Wrote" in status_of(app)
    assert json.loads((tmp_path / "plan.json").read_text(encoding="utf-8"))["schema"] == "mcm.decision/2"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["edited.rules", "plan.json", "plan.md"]


@sync
async def test_palette_explains_a_technique() -> None:
    app = McmApp(lang="en")
    async with app.run_test(size=(100, 32)) as pilot:
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"explain technique: int8_static")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, TechniqueScreen)
        assert app.screen.technique.name == "int8_static"
        text = str(app.screen.query_one("#technique-text", Static).render())
        assert "Effects" in text and "Requires" in text


@sync
async def test_help_shows_the_faq_in_chinese() -> None:
    app = McmApp(lang="zh")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("f1")
        await pilot.pause()
        text = text_of(app.screen.query_one("#help-text", Static))
        assert "Q1 延迟高怎么办" in text and "不可能三角" in text
        await pilot.press("escape")
        await pilot.pause()
        assert app.current_mode == "scenario"
