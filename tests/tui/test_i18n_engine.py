"""Issue #14: in Chinese mode the plan step shows the engine's explanations (why-not, trace, warnings,
infeasibility) in Chinese; only identifiers, numbers with units and the rules files' own words stay as written."""

from __future__ import annotations

import io
import re

from rich.console import Console
from textual.widgets import Static, Tree
from textual.widgets.tree import TreeNode
from tui_helpers import ROOT, sync

from mcm.tui.app import McmApp

FACTS = {"model_size_mb": "98 MB", "latency_ms": "120 ms", "power_w": "3 W", "accuracy": "94.5 %"}
#: Two English words in a row, neither part of an identifier or a path.
SENTENCE = re.compile(r"(?<![\w./-])[A-Za-z]{2,}(?: [A-Za-z]{2,})+(?![\w./])")
#: The rules language's own words, in condition sources.
KEYWORDS = re.compile(r"(?<![\w.])(and|or|not|true|false|otherwise)(?![\w.])")
#: Sentences the engine writes in English (any of them on screen means a text was not translated).
ENGINE_ENGLISH = (
    "requirement unmet",
    "not given",
    "skipped (policy first)",
    "could not be evaluated",
    "no plan meets",
    "impossible triangle",
    "may not apply",
    "excluded by",
    "not needed",
    "ranks #",
    "→ true",
    "→ false",
)


def rules_words() -> frozenset[str]:
    """Every word of the shipped rules files' quoted strings (reasons, caveats, names): the rules author's words,
    shown as written (the screen may wrap or shorten them, so they are matched word by word)."""
    found: set[str] = set()
    for path in (ROOT / "rules").glob("*.rules"):
        for quoted in re.findall(r'"([^"]*)"', path.read_text(encoding="utf-8")):
            found |= {w.lower() for w in re.findall(r"[A-Za-z]+", quoted)}
    return frozenset(found)


def tree_text(node: TreeNode[str | None]) -> list[str]:
    out = [str(node.label)]
    for child in node.children:
        out += tree_text(child)
    return out


def screen_text(app: McmApp) -> str:
    """Everything the plan step shows, scrolled or folded away or not: every Static and every tree node."""
    parts: list[str] = []
    console = Console(width=400, record=True, file=io.StringIO())
    for widget in app.screen.query("*"):
        if isinstance(widget, Tree):
            parts += tree_text(widget.root)
        elif isinstance(widget, Static):
            console.print(widget.content)
    return "\n".join([*parts, console.export_text()])


def english_left(text: str) -> list[str]:
    """English sentences with a word that no rules file uses: the engine's (or the screen's) own English."""
    known = rules_words()
    text = re.sub(r"mcm advise .*", "", text)  # the equivalent command line
    found = SENTENCE.findall(KEYWORDS.sub("", text))
    return [s for s in found if any(w.lower() not in known for w in s.split())]


async def plan_step_text(measured: dict[str, str], data: dict[str, str]) -> tuple[str, str]:
    app = McmApp(lang="zh", scenario="mobile")
    for metric, value in measured.items():
        app.session.set_measured(metric, value)
    for key, value in data.items():
        app.session.set_data(key, value)
    app.session.set_constraint("latency_ms", "<", "80 ms", True)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("f5")
        await pilot.pause()
        assert app.session.decision is not None
        text = screen_text(app)
        svg = app.export_screenshot()
        await pilot.press("ctrl+q")
    return text, svg


@sync
async def test_the_plan_step_in_chinese_has_no_english_sentence_of_the_engine() -> None:
    for measured, data in (
        (FACTS, {}),  # calibration and training not given: why-not "未知：事实 … 未给出"
        (FACTS, {"calibration": "false", "training": "false"}),  # requirements unmet
        ({"model_size_mb": "98 MB"}, {"calibration": "true"}),  # rules that cannot be evaluated
    ):
        text, svg = await plan_step_text(measured, data)
        assert "未选原因" in text or "为何不选" in text or "int8_static" in text
        assert re.search(r"[\u4e00-\u9fff]", text)
        assert not [s for s in ENGINE_ENGLISH if s in text], [s for s in ENGINE_ENGLISH if s in text]
        assert not english_left(text), english_left(text)
        assert "not given" not in svg and "requirement unmet" not in svg
