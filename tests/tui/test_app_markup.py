"""Text from rules files and from the user is shown as written: square brackets are not Textual markup (a label
such as ``[/beta]`` once crashed the app, and ``[@click=...]`` could have planted an action)."""

from __future__ import annotations

import shutil
from pathlib import Path

from textual.widgets import Input, OptionList, Static, Tree
from tui_helpers import ROOT, sync

from mcm.tui.app import McmApp

HOSTILE_LABEL = "phone [/beta] [@click=app.quit]tap[/]"
HOSTILE_REASON = "see [/docs] for why [bold]"


def hostile_rules(tmp_path: Path) -> Path:
    rules = tmp_path / "rules"
    shutil.copytree(ROOT / "rules", rules, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    mobile = rules / "mobile.rules"
    text = mobile.read_text(encoding="utf-8")
    text = text.replace('"手机APP / mobile app"', f'"{HOSTILE_LABEL}"')
    text = text.replace(
        'because "more than twice the size budget: INT8 stores weights in a quarter of the space"',
        f'because "{HOSTILE_REASON}"',
    )
    mobile.write_text(text, encoding="utf-8")
    return rules


def tree_text(tree: Tree[str | None]) -> str:
    lines: list[str] = []

    def walk(node: object) -> None:
        lines.append(str(node.label))  # type: ignore[attr-defined]
        for child in node.children:  # type: ignore[attr-defined]
            walk(child)

    walk(tree.root)
    return "\n".join(lines)


@sync
async def test_brackets_in_rules_and_in_typed_text_are_shown_as_written(tmp_path: Path) -> None:
    app = McmApp([str(hostile_rules(tmp_path))], lang="en")
    async with app.run_test(size=(100, 32)) as pilot:
        await pilot.pause(0.5)
        options = app.screen.query_one("#scenarios", OptionList)
        prompts = [str(options.get_option_at_index(i).prompt) for i in range(options.option_count)]
        assert any(HOSTILE_LABEL in p for p in prompts)
        app.session.choose("mobile")
        for metric, text in {"model_size_mb": "30 MB", "latency_ms": "60 ms", "power_w": "1.5 W"}.items():
            app.session.set_measured(metric, text)
        await pilot.press("f3")
        await pilot.pause()
        field = app.screen.query(Input).first()
        written = field.value
        field.value = "[/"
        await pilot.pause()
        errors = [str(s.render()) for s in app.screen.query(".row-error").results(Static)]
        assert any("'[/'" in e for e in errors)  # the typed text, echoed in the message, as typed
        field.value = written  # an invalid field stops the plan
        await pilot.pause()
        await pilot.press("f5")
        await pilot.pause()
        assert HOSTILE_REASON in tree_text(app.screen.query_one(Tree))
        assert app.is_running  # no action ran from the label
