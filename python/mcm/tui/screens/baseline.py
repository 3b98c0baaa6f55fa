"""Step 3: what the model does now — type the numbers, load an ``mcm measure`` report, or measure a model file in
a worker thread with a live progress bar and then its latency histogram; plus the target's env / data facts."""

from __future__ import annotations

import threading
from collections.abc import Iterable
from typing import Any, ClassVar

from textual import on, work
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.validation import ValidationResult, Validator
from textual.widget import Widget
from textual.widgets import Button, Input, ProgressBar, Select, Static

from mcm import metrics, units
from mcm.exceptions import McmError
from mcm.present.language import label
from mcm.rules.facts import FACTS
from mcm.sanitize import inline
from mcm.tui.screens.base import StepScreen, problem
from mcm.tui.session import fact_text, parse_metric_text
from mcm.tui.widgets.latency_histogram import LatencyHistogram


class MeasuredValidator(Validator):
    """A measured value is valid when it parses like ``--set`` (empty: not given)."""

    def __init__(self, metric: str) -> None:
        super().__init__()
        self.metric = metric

    def validate(self, value: str) -> ValidationResult:
        if not value.strip():
            return self.success()
        try:
            parse_metric_text(self.metric, value)
        except McmError as e:
            return self.failure(problem(e))
        return self.success()


class BaselineScreen(StepScreen):
    """Give the measured values and the target's facts."""

    STEP = "baseline"
    # shown in the footer only while a measurement runs (check_action)
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]

    def __init__(self) -> None:
        super().__init__()
        self._cancel = threading.Event()
        self._shown: object = None
        self._initial: dict[str, str] = {}
        self._measuring = False

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
            yield Static(self.tr("baseline.type"), classes="section", markup=False)
            yield Vertical(id="measured-rows", classes="auto")  # not a second scroll stop for tab
            yield Static(self.tr("baseline.load"), classes="section", markup=False)
            with Horizontal(classes="form-row"):
                yield Input(placeholder=self.tr("baseline.path"), id="report-path", compact=True)
                yield Button(self.tr("baseline.load_button"), id="load", compact=True)
            yield Static("", id="load-status", classes="error", markup=False)
            yield Static(self.tr("baseline.measure"), classes="section", markup=False)
            with Horizontal(classes="form-row"):
                yield Input("demo", placeholder=self.tr("baseline.model"), id="model-path", compact=True)
                yield Button(self.tr("baseline.measure_button"), id="measure", compact=True)
            yield ProgressBar(id="measure-progress", show_eta=False)
            yield Static("", id="measure-status", markup=False)
            yield LatencyHistogram(self.lang, id="histogram")
            yield Static(self.tr("baseline.target"), classes="section", markup=False)
            for fact in FACTS.values():
                yield self._fact_row(fact.path)

    def on_mount(self) -> None:
        self.query_one("#measure-progress", ProgressBar).display = False
        for widget_id in ("#load-status", "#measure-status"):
            self.query_one(widget_id, Static).display = False

    def on_unmount(self) -> None:
        self._cancel.set()

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
            self.run_worker(self._rebuild(), exclusive=True, group="rebuild")

    async def _rebuild(self) -> None:
        box = self.query_one("#measured-rows", Vertical)
        await box.remove_children()
        await box.mount_all(self._measured_row(m) for m in self._metrics())
        if self.focused is None or isinstance(self.focused, VerticalScroll):
            first = box.query(Input)  # typing lands in the first field, not on the scroll container
            if first:
                first.first().focus(scroll_visible=False)

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
                validators=[MeasuredValidator(metric)],
            ),
            Static("", classes="error", markup=False),
            classes="form-row",
            name=metric,
        )

    @on(Input.Changed, ".measured")
    def _measured_changed(self, event: Input.Changed) -> None:
        row = event.input.parent
        if row is None or not isinstance(row, Widget) or not row.name:
            return
        error = row.query_one(".error", Static)
        if self._initial.get(row.name) == event.value:
            error.update("")
            return  # as shown: keep the exact value (the field shows 6 significant digits)
        result = event.validation_result
        if result is not None and not result.is_valid:
            error.update(" ".join(result.failure_descriptions))
            return
        try:
            self.session.set_measured(row.name, event.value)
        except McmError as e:
            error.update(problem(e))
            return
        error.update("")
        self._shown = (tuple(self._metrics()), tuple(self.session.measured.items()))

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
            self._say("#load-status", problem(e))
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
        bar.update(total=None, progress=0)
        self.query_one("#measure", Button).disabled = True
        self._measuring = True
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
            self.app.call_from_thread(self._finished, model, None, problem(e))
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
        self.refresh_bindings()
        bar = self.query_one("#measure-progress", ProgressBar)
        if report is None:
            bar.display = False
            self._say("#measure-status", error or "")
            return
        bar.update(total=1, progress=1)
        self.session.use_report(report)
        done = self.tr("baseline.measured", model=model, n=len(report.metrics))
        self._say("#measure-status", self.tr("baseline.cancelled") if report.partial else done)
        self.query_one(LatencyHistogram).show_report(report)
        self.refresh_view()
        self._refresh_facts()

    # ---- env and data facts

    def _fact_row(self, path: str) -> Widget:
        fact = FACTS[path]
        scope_values = self.session.env if fact.scope == "env" else self.session.data
        current = scope_values.get(fact.name)
        text = "" if current is None else fact_text(current)
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
            if isinstance(field, Select):
                with field.prevent(Select.Changed):
                    field.value = fact_text(value)
            elif isinstance(field, Input):
                with field.prevent(Input.Changed):
                    field.value = fact_text(value)

    @on(Select.Changed, ".fact")
    @on(Input.Changed, ".fact")
    def _fact_changed(self, event: Select.Changed | Input.Changed) -> None:
        row = event.control.parent
        if row is None or not isinstance(row, Widget) or not row.name:
            return
        fact = FACTS[row.name]
        value = event.value
        text = "" if value is Select.NULL or value is None else str(value)
        setter = self.session.set_env if fact.scope == "env" else self.session.set_data
        label_widget = row.query_one(".fact-label", Static)
        try:
            setter(fact.name, text)
        except McmError as e:
            label_widget.set_class(True, "error")
            label_widget.update(problem(e))
            return
        label_widget.set_class(False, "error")
        label_widget.update(fact.zh if self.lang == "zh" else fact.en)


__all__ = ["BaselineScreen", "MeasuredValidator"]
