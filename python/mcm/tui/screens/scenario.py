"""Step 1: the reference's quick-decision table — core, secondary and ignored metrics of each scenario, its
constraints and suggested stack, and the rules file behind it. Enter (or ctrl+n) chooses the highlighted one."""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.widget import Widget
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from mcm import metrics
from mcm.present.language import Lang, label
from mcm.sanitize import inline
from mcm.tui.i18n import localize_bindings
from mcm.tui.screens.base import StepScreen
from mcm.tui.widgets.rules_errors import RulesErrors

if TYPE_CHECKING:
    from mcm.tui.session import ScenarioInfo


class ScenarioList(OptionList):
    """The scenarios: enter chooses (named in the footer while the list has focus), j / k move."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "select", "Choose"),
        Binding("j", "cursor_down", "Down", show=False),
        Binding("k", "cursor_up", "Up", show=False),
    ]

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """No "Choose" while there is nothing to choose (the rules did not load)."""
        return self.option_count > 0 if action == "select" else True


class ScenarioScreen(StepScreen):
    """Pick the deployment scenario."""

    STEP = "scenario"
    BINDINGS: ClassVar[list[BindingType]] = [Binding("enter", "choose", "Choose", show=True)]

    def body(self) -> Iterable[Widget]:
        yield RulesErrors(self.lang, id="rules-errors")
        with Horizontal(id="scenario-pane"):
            yield ScenarioList(id="scenarios")
            with VerticalScroll(id="scenario-detail-box"):
                yield Static("", id="scenario-detail", markup=False)

    def on_mount(self) -> None:
        options = self.query_one("#scenarios", OptionList)
        options.border_title = self.tr("scenario.pick")
        localize_bindings(options, self.lang)
        self.refresh_view()

    def refresh_view(self) -> None:
        if not self.mcm.session_ready:
            self.query_one("#scenario-detail", Static).update(self.tr("scenario.loading"))
            return
        errors = self.query_one(RulesErrors)
        errors.show_error(self.session.error)
        self.query_one("#scenario-pane").display = self.session.error is None
        options = self.query_one("#scenarios", OptionList)
        infos = self.session.scenarios() if self.session.error is None else ()
        titles = [(s.name, scenario_title(s.name, s.label, self.lang)) for s in infos]
        shown = [(str(o.id), str(o.prompt)) for o in options.options]
        names = [s.name for s in infos]
        if titles != shown:  # the same list stays as it is, and so does its highlight
            highlighted = self._highlighted(options)
            options.clear_options()
            options.add_options(Option(Text(title), id=name) for name, title in titles)
            keep = highlighted if highlighted in names else self.session.scenario
            options.highlighted = names.index(keep) if keep in names else (0 if names else None)
        self._show(options.highlighted)
        self.refresh_bindings()  # "Choose" comes and goes with the scenarios
        if infos:
            options.focus()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "choose":
            return self.query_one("#scenarios", OptionList).option_count > 0
        return True

    def _show(self, index: int | None) -> None:
        infos = self.session.scenarios() if self.session.error is None else ()
        detail = self.query_one("#scenario-detail", Static)
        if index is None or index >= len(infos):
            detail.update(self.tr("scenario.none"))
            return
        detail.update(self._describe(infos[index]))

    def _describe(self, s: ScenarioInfo) -> Text:
        out = Text()
        out.append(f"{s.name}", style="bold")
        shown = chinese_part(s.label) if self.lang == "zh" else s.label
        if shown:
            out.append(f"  {inline(shown)}")
        out.append("\n\n")
        for key, names, style in (
            ("scenario.core", s.core, "bold green"),
            ("scenario.secondary", s.secondary, "cyan"),
            ("scenario.ignored", s.ignored, "dim"),
        ):
            out.append(f"{self.tr(key)}\n", style=style)
            out.append("  " + (", ".join(label(n, self.lang) for n in names) or "—") + "\n")
        out.append(f"{self.tr('scenario.constraints')}\n", style="bold")
        for c in s.constraints:
            out.append(f"  {c.text()}\n")
        if s.stack:
            out.append(f"{self.tr('scenario.stack')}\n", style="bold")
            out.append("  " + " → ".join(map(inline, s.stack)) + "\n")
        if s.expected:
            out.append(f"{self.tr('scenario.expected')}\n", style="bold")
            for metric, low, high in s.expected:
                out.append(
                    f"  {label(metric, self.lang)}: {metrics.format_value(metric, low)} – {metrics.format_value(metric, high)}\n"
                )
        out.append(f"{self.tr('scenario.file')}: ", style="bold")
        out.append(f"{inline(Path(s.file).name)}:{s.line}", style="underline")
        return out

    def on_option_list_option_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        self._show(event.option_index)

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self._choose(event.option.id)

    @staticmethod
    def _highlighted(options: OptionList) -> str | None:
        if options.highlighted is None or options.highlighted >= options.option_count:
            return None
        return options.get_option_at_index(options.highlighted).id

    def action_choose(self) -> None:
        self._choose(self._highlighted(self.query_one("#scenarios", OptionList)))

    def take_highlighted(self) -> None:
        """Choose the highlighted scenario (what ctrl+n does here), keeping the edits when it is the chosen one."""
        name = self._highlighted(self.query_one("#scenarios", OptionList))
        if name is not None and name != self.session.scenario:
            self.session.choose(name)

    def _choose(self, name: str | None) -> None:
        if name is None:
            return
        self.session.choose(name)
        self.mcm.action_goto("constraints")


_CJK = re.compile(r"[\u2e80-\u9fff\uf900-\ufaff\uff00-\uffef]")
_PAREN = re.compile(r"^(?P<outer>.*?)\s*[(（](?P<inner>[^()（）]*)[)）]\s*$")


def chinese_part(text: str | None) -> str:
    """The Chinese part of a label written in both languages: ``"mobile (移动端)"`` → ``"移动端"``,
    ``"手机APP / mobile app"`` → ``"手机APP"``, ``"IoT / 嵌入式 / embedded"`` → ``"IoT / 嵌入式"``; "" when the label
    has no Chinese."""
    parts = [p.strip() for p in (text or "").split("/")]
    chinese = [i for i, p in enumerate(parts) if _CJK.search(p)]
    if not chinese:
        return ""
    shown = " / ".join(parts[: chinese[-1] + 1])
    paren = _PAREN.match(shown)
    if paren is not None:  # "mobile (移动端)" or "移动端 (mobile)"
        inner, outer = paren["inner"].strip(), paren["outer"].strip()
        return inner if _CJK.search(inner) else outer
    return shown


def scenario_title(name: str, text: str | None, lang: Lang) -> str:
    """The scenario's name and label (in Chinese, the label's Chinese part, or the name alone when it has none).
    Textual strips only a few C0 controls, so the label is escaped here."""
    shown = chinese_part(text) if lang == "zh" else text
    return name if not shown else f"{name} — {inline(shown)}"


__all__ = ["ScenarioList", "ScenarioScreen", "chinese_part", "scenario_title"]
