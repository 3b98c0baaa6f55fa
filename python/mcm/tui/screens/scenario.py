"""Step 1: the reference's quick-decision table — core, secondary and ignored metrics of each scenario, its
constraints and suggested stack, and the rules file behind it. Enter chooses."""

from __future__ import annotations

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
from mcm.present.language import label
from mcm.sanitize import inline
from mcm.tui.screens.base import StepScreen
from mcm.tui.widgets.rules_errors import RulesErrors

if TYPE_CHECKING:
    from mcm.tui.session import ScenarioInfo


class ScenarioScreen(StepScreen):
    """Pick the deployment scenario."""

    STEP = "scenario"
    BINDINGS: ClassVar[list[BindingType]] = [Binding("enter", "choose", "Choose", show=True)]

    def body(self) -> Iterable[Widget]:
        yield RulesErrors(self.lang, id="rules-errors")
        with Horizontal(id="scenario-pane"):
            yield OptionList(id="scenarios")
            with VerticalScroll(id="scenario-detail-box"):
                yield Static("", id="scenario-detail", markup=False)

    def on_mount(self) -> None:
        self.query_one("#scenarios", OptionList).border_title = self.tr("scenario.pick")
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
        options.clear_options()
        options.add_options(Option(Text(_title(s)), id=s.name) for s in infos)
        chosen = self.session.scenario
        names = [s.name for s in infos]
        options.highlighted = names.index(chosen) if chosen in names else (0 if names else None)
        self._show(options.highlighted)
        if infos:
            options.focus()

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
        if s.label:
            out.append(f"  {inline(s.label)}")
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

    def action_choose(self) -> None:
        options = self.query_one("#scenarios", OptionList)
        if options.highlighted is not None:
            self._choose(options.get_option_at_index(options.highlighted).id)

    def _choose(self, name: str | None) -> None:
        if name is None:
            return
        self.session.choose(name)
        self.mcm.action_goto("constraints")


def _title(s: ScenarioInfo) -> str:
    """The scenario's name and label; Textual strips only a few C0 controls, so the label is escaped here."""
    return f"{s.name}" if not s.label else f"{s.name} — {inline(s.label)}"


__all__ = ["ScenarioScreen"]
