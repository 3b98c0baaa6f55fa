"""Step 3: what the model does now — measure a model file in a worker thread with a live progress bar and then
its latency histogram, load an ``mcm measure`` report, or type the numbers; then the target's env / data facts:
those the chosen scenario's rules read first, the others folded.

A typed value enters the session when it is valid and the user presses enter or leaves the field (the plan first
takes every screen's pending edits), never per keystroke; an invalid one stays out and the plan refuses to run.
A cancelled measurement keeps the values measured before it."""

from __future__ import annotations

import threading
from collections.abc import Iterable
from typing import Any, ClassVar

from textual import on, work
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.validation import ValidationResult, Validator
from textual.widget import Widget
from textual.widgets import Button, Collapsible, Input, ProgressBar, Select, Static

from mcm import metrics, units
from mcm.exceptions import McmError
from mcm.present.language import Lang, label
from mcm.rules.facts import FACTS
from mcm.sanitize import inline
from mcm.tui.screens.base import StepScreen, field_problem
from mcm.tui.session import FieldProblem, fact_text, parse_metric_text
from mcm.tui.widgets.latency_histogram import LatencyHistogram


class MeasuredValidator(Validator):
    """A measured value is valid when it parses like ``--set`` (empty: not given)."""

    def __init__(self, metric: str, lang: Lang = "en") -> None:
        super().__init__()
        self.metric = metric
        self.lang: Lang = lang

    def validate(self, value: str) -> ValidationResult:
        if not value.strip():
            return self.success()
        try:
            parse_metric_text(self.metric, value)
        except McmError as e:
            return self.failure(field_problem(e, self.lang))
        return self.success()


class BaselineScreen(StepScreen):
    """Give the measured values and the target's facts."""

    STEP = "baseline"
    DEFAULT_CSS = """
    BaselineScreen #measure-progress.cancelled Bar > .bar--bar { color: $warning; }
    BaselineScreen #other-facts { height: auto; }
    """
    # shown in the footer only while a measurement runs (check_action)
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]

    def __init__(self) -> None:
        super().__init__()
        self._cancel = threading.Event()
        self._shown: object = None
        self._initial: dict[str, str] = {}
        self._measuring = False
        self._facts_shown: object = None
        self._focus: str | None = None  # a field to focus once the rows are built (see focus_field)
        self._fact_text: dict[str, str] = {}  # each fact field's text as last shown or entered
        self._report: Any = None  # the last complete measurement (its histogram comes back on a cancel)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "cancel":
            return self._measuring
        return True

    def _say(self, widget_id: str, text: str) -> None:
        """Update a status line, hidden while empty (an empty Static still takes a line)."""
        widget = self.query_one(widget_id, Static)
        widget.update(inline(text))  # it may name the model or a stage that names its inputs
        widget.display = bool(text)

    def body(self) -> Iterable[Widget]:
        with VerticalScroll(id="baseline-scroll"):
            yield Static(self.tr("baseline.measure"), classes="section", markup=False)
            with Horizontal(classes="form-row"):
                yield Input("demo", placeholder=self.tr("baseline.model"), id="model-path", compact=True)
                yield Button(self.tr("baseline.measure_button"), id="measure", compact=True)
            yield ProgressBar(id="measure-progress", show_eta=False)
            yield Static("", id="measure-status", markup=False)
            yield LatencyHistogram(self.lang, id="histogram")
            yield Static(self.tr("baseline.load"), classes="section", markup=False)
            with Horizontal(classes="form-row"):
                yield Input(placeholder=self.tr("baseline.path"), id="report-path", compact=True)
                yield Button(self.tr("baseline.load_button"), id="load", compact=True)
            yield Static("", id="load-status", classes="error", markup=False)
            yield Static(self.tr("baseline.type"), classes="section", markup=False)
            yield Vertical(id="measured-rows", classes="auto")  # not a second scroll stop for tab
            yield Static(self.tr("baseline.target"), classes="section", markup=False)
            yield Vertical(id="fact-rows", classes="auto")
            with Collapsible(title=self.tr("baseline.other_facts"), id="other-facts"):
                yield Vertical(id="other-fact-rows", classes="auto")

    def on_mount(self) -> None:
        self.query_one("#measure-progress", ProgressBar).display = False
        for widget_id in ("#load-status", "#measure-status"):
            self.query_one(widget_id, Static).display = False

    def on_unmount(self) -> None:
        self._cancel.set()
        if self._measuring:
            self.session.measuring = False

    # ---- measured values

    def _metrics(self) -> list[str]:
        """The metrics to offer: the constrained ones, the scenario's core and secondary, then any measured."""
        names = [r.metric for r in self.session.constraints]
        info = next((s for s in self.session.scenarios() if s.name == self.session.scenario), None)
        if info is not None:
            names += [*info.core, *info.secondary]
        names += list(self.session.measured)
        return list(dict.fromkeys(names))

    def refresh_view(self) -> None:
        state = (tuple(self._metrics()), tuple(self.session.measured.items()))
        if state != self._shown:
            self._shown = state
            self._rebuild()
        facts = (self.session.scenario, self.session.scenario_facts())
        if facts != self._facts_shown:
            self._facts_shown = facts
            self._rebuild_facts()

    @work(exclusive=True, group="rebuild")
    async def _rebuild(self) -> None:
        box = self.query_one("#measured-rows", Vertical)
        await box.remove_children()
        await box.mount_all(self._measured_row(m) for m in self._metrics())
        if self.focused is None or isinstance(self.focused, VerticalScroll):
            first = self.query_one("#model-path", Input)  # measuring comes first; typing lands in a field
            first.focus(scroll_visible=False)
        self._apply_focus()

    @work(exclusive=True, group="facts")
    async def _rebuild_facts(self) -> None:
        """The facts the scenario's rules read (most telling first), then the others, folded."""
        read = self.session.scenario_facts()
        shown = self.query_one("#fact-rows", Vertical)
        other = self.query_one("#other-fact-rows", Vertical)
        await shown.remove_children()
        await other.remove_children()
        await shown.mount_all(self._fact_row(path) for path in read)
        await other.mount_all(self._fact_row(path) for path in FACTS if path not in read)
        self._apply_focus()

    def focus_field(self, name: str) -> None:
        """Focus the field of a metric (``power_w``) or a fact (``data.calibration``), unfolding it if need be,
        now or as soon as the rows are built."""
        self._focus = name
        self._apply_focus()
        self.call_after_refresh(self._apply_focus)

    def _apply_focus(self) -> None:
        if self._focus is None:
            return
        row = next((r for r in self.query(".form-row") if r.name == self._focus), None)
        fields = row.query("Input, Select") if row is not None else None
        if row is None or not fields:
            return
        self._focus = None
        for node in row.ancestors:
            if isinstance(node, Collapsible):
                node.collapsed = False  # its rows can take focus once it is unfolded
        self.call_after_refresh(fields.first().focus)

    def _measured_row(self, metric: str) -> Widget:
        value = self.session.measured.get(metric)
        shown = "" if value is None else metrics.format_value(metric, value, units.PRECISE_DIGITS)
        self._initial[metric] = shown
        return Horizontal(
            Static(label(metric, self.lang), classes="metric", markup=False),
            Input(
                shown,
                placeholder=self.tr("baseline.unset"),
                compact=True,
                classes="measured",
                validators=[MeasuredValidator(metric, self.lang)],
            ),
            Static("", classes="error", markup=False),
            classes="form-row",
            name=metric,
        )

    @on(Input.Changed, ".measured")
    def _measured_typed(self, event: Input.Changed) -> None:
        """Red or not as it is typed; the session takes the value on enter or when focus leaves the field."""
        row = event.input.parent
        if row is None or not isinstance(row, Widget) or not row.name:
            return
        result = event.validation_result
        failed = result is not None and not result.is_valid
        row.query_one(".error", Static).update(
            " ".join(result.failure_descriptions) if result and failed else ""
        )

    @on(Input.Submitted, ".measured")
    @on(Input.Blurred, ".measured")
    def _measured_done(self, event: Input.Submitted | Input.Blurred) -> None:
        row = event.input.parent
        if isinstance(row, Widget) and row.name and event.input.is_attached:
            self._commit_measured(row)

    def _commit_measured(self, row: Widget) -> str | None:
        """Enter a row's value when it is valid and changed; the problem, or None."""
        field = row.query_one(Input)
        error = row.query_one(".error", Static)
        metric = row.name or ""
        result = field.validate(field.value)
        if result is not None and not result.is_valid:
            error.update(" ".join(result.failure_descriptions))
            return " ".join(result.failure_descriptions)
        error.update("")
        if self._initial.get(metric) == field.value:
            return None  # as shown: keep the exact value (the field shows 6 significant digits)
        try:
            self.session.set_measured(metric, field.value)
        except McmError as e:
            error.update(field_problem(e, self.lang))
            return field_problem(e, self.lang)
        self._initial[metric] = field.value
        self._shown = (tuple(self._metrics()), tuple(self.session.measured.items()))
        return None

    def commit_edits(self) -> list[FieldProblem]:
        problems = []
        for row in list(self.query("#measured-rows .form-row")):
            failed = self._commit_measured(row)
            if failed:
                problems.append(FieldProblem(self.STEP, label(row.name or "", self.lang), failed))
        for row in list(self.query(".fact-row")):
            field = row.query(".fact").first()
            if isinstance(field, Input):
                failed = self._commit_fact(row, field.value)
                if failed:
                    problems.append(FieldProblem(self.STEP, row.name or "", failed))
        return problems

    # ---- a report

    @on(Button.Pressed, "#load")
    @on(Input.Submitted, "#report-path")
    def _load(self) -> None:
        path = self.query_one("#report-path", Input).value.strip()
        status = self.query_one("#load-status", Static)
        try:
            found = self.session.load_baseline(path)
        except McmError as e:
            status.set_class(True, "error")
            self._say("#load-status", field_problem(e, self.lang))
            return
        status.set_class(False, "error")
        self._say("#load-status", self.tr("baseline.loaded", n=len(found), file=path))
        if not self._measuring:  # the last measurement's lines no longer describe the baseline
            self._say("#measure-status", "")
            self.query_one("#measure-progress", ProgressBar).display = False
            self.query_one(LatencyHistogram).show_samples(None, None)
        self.refresh_view()

    # ---- measuring

    @on(Button.Pressed, "#measure")
    @on(Input.Submitted, "#model-path")
    def action_measure(self) -> None:
        model = self.query_one("#model-path", Input).value.strip() or "demo"
        self._cancel.clear()
        bar = self.query_one("#measure-progress", ProgressBar)
        bar.display = True
        bar.set_class(False, "cancelled")
        bar.update(total=None, progress=0)
        self.query_one("#measure", Button).disabled = True
        self._measuring = True
        self.session.measuring = True
        self.refresh_bindings()
        self._say("#load-status", "")  # the report loaded before no longer describes the baseline
        self._say(
            "#measure-status",
            f"{self.tr('baseline.measuring', model=model)}  ({self.tr('baseline.cancel_hint')})",
        )
        self._measure(model)

    def action_cancel(self) -> None:
        if not self._measuring:
            return
        self._cancel.set()
        self._say("#measure-status", self.tr("baseline.cancelling"))

    @work(thread=True, exclusive=True, group="measure")
    def _measure(self, model: str) -> None:
        from mcm.measure import measure_model  # numpy, ONNX Runtime, torch: only now

        def progress(step: int, steps: int, text: str, seconds: float) -> None:
            if self._cancel.is_set():
                raise KeyboardInterrupt
            self.app.call_from_thread(self._progress, step, steps, text)

        shown: list[int] = []

        def timed(batch: int, rep: Any) -> None:  # the first batch's histogram while the others are timed
            if not shown:
                shown.append(batch)
                self.app.call_from_thread(self._show_samples, batch, rep.samples)

        try:
            report = measure_model(model, progress=progress, on_latency=timed, **self.mcm.measure_options)
        except McmError as e:
            self.app.call_from_thread(self._finished, model, None, field_problem(e, self.lang))
            return
        except KeyboardInterrupt:
            self.app.call_from_thread(self._finished, model, None, self.tr("baseline.cancelled_early"))
            return
        self.app.call_from_thread(self._finished, model, report, None)

    def _show_samples(self, batch: int, samples: Any) -> None:
        self.query_one(LatencyHistogram).show_samples(batch, samples)

    def _progress(self, step: int, steps: int, text: str) -> None:
        bar = self.query_one("#measure-progress", ProgressBar)
        if steps:
            bar.update(total=steps, progress=step)
        if self._cancel.is_set():
            return  # keep "cancelling…" on screen
        hint = f"  ({self.tr('baseline.cancel_hint')})"
        self._say("#measure-status", (f"[{step}/{steps}] {text}" if steps else text) + hint)

    def _finished(self, model: str, report: Any, error: str | None) -> None:
        self.query_one("#measure", Button).disabled = False
        self._measuring = False
        self.session.measuring = False
        self.refresh_bindings()
        bar = self.query_one("#measure-progress", ProgressBar)
        histogram = self.query_one(LatencyHistogram)
        if report is None or report.partial:
            # a cancel (or a failure) keeps the earlier values: a partial report would replace complete ones
            if self._cancel.is_set():
                bar.set_class(True, "cancelled")  # left where it stopped, not at 100 %
                if bar.total is None:
                    bar.update(total=1, progress=0)  # stop the indeterminate animation
                error = self.tr("baseline.cancelled_kept")
            else:
                bar.display = False
            self._say("#measure-status", error or "")
            if self._report is not None:
                histogram.show_report(self._report)
            else:
                histogram.show_samples(None, None)
        else:
            bar.update(total=1, progress=1)
            self._report = report
            self.session.use_report(report)
            self._say("#measure-status", self.tr("baseline.measured", model=model, n=len(report.metrics)))
            histogram.show_report(report)
            self.refresh_view()
            self._refresh_facts()
        screen = self.app.screen
        if screen is not self and isinstance(screen, StepScreen):
            screen.refresh_view()  # e.g. the plan, waiting for this measurement

    # ---- env and data facts

    def _fact_row(self, path: str) -> Widget:
        fact = FACTS[path]
        scope_values = self.session.env if fact.scope == "env" else self.session.data
        current = scope_values.get(fact.name)
        text = "" if current is None else fact_text(current)
        self._fact_text[path] = text
        name = fact.zh if self.lang == "zh" else fact.en
        field: Widget
        if fact.type == "bool" or fact.values:
            options = ["true", "false"] if fact.type == "bool" else list(fact.values)
            field = Select[str](
                [(o, o) for o in options],
                prompt=self.tr("baseline.unset"),
                value=text if text in options else Select.NULL,
                compact=True,
                classes="fact",
            )
        else:
            field = Input(text, placeholder=self.tr("baseline.unset"), compact=True, classes="fact")
        return Horizontal(
            Static(fact.path, classes="fact-name", markup=False),
            field,
            Static(name, classes="fact-label", markup=False),
            classes="form-row fact-row",
            name=path,
        )

    def _refresh_facts(self) -> None:
        """Show the facts a measurement established (the user's own stay as they are)."""
        for row in self.query(".fact-row"):
            fact = FACTS[row.name or ""]
            value = (self.session.env if fact.scope == "env" else self.session.data).get(fact.name)
            if value is None:
                continue
            field = row.query_one(".fact")
            self._fact_text[fact.path] = fact_text(value)
            if isinstance(field, Select):
                with field.prevent(Select.Changed):
                    field.value = fact_text(value)
            elif isinstance(field, Input):
                with field.prevent(Input.Changed):
                    field.value = fact_text(value)

    @on(Select.Changed, ".fact")
    def _fact_chosen(self, event: Select.Changed) -> None:
        row = event.control.parent
        if isinstance(row, Widget) and row.name:
            value = event.value
            self._commit_fact(row, "" if value is Select.NULL or value is None else str(value))

    @on(Input.Submitted, ".fact")
    @on(Input.Blurred, ".fact")
    def _fact_typed(self, event: Input.Submitted | Input.Blurred) -> None:
        row = event.input.parent
        if isinstance(row, Widget) and row.name and event.input.is_attached:
            self._commit_fact(row, event.input.value)

    def _commit_fact(self, row: Widget, text: str) -> str | None:
        """Enter a fact; the problem (shown in place of its name), or None."""
        fact = FACTS[row.name or ""]
        setter = self.session.set_env if fact.scope == "env" else self.session.set_data
        label_widget = row.query_one(".fact-label", Static)
        if (
            self._fact_text.get(fact.path) == text
        ):  # as shown: nothing to enter (measured facts stay measured)
            label_widget.set_class(False, "error")
            label_widget.update(fact.zh if self.lang == "zh" else fact.en)
            return None
        try:
            setter(fact.name, text)
        except McmError as e:
            label_widget.set_class(True, "error")
            label_widget.update(field_problem(e, self.lang))
            return field_problem(e, self.lang)
        self._fact_text[fact.path] = text
        label_widget.set_class(False, "error")
        label_widget.update(fact.zh if self.lang == "zh" else fact.en)
        return None


__all__ = ["BaselineScreen", "MeasuredValidator"]
