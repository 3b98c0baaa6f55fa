"""Step 2: the scenario's constraints as a form — prefilled, units shown, each limit checked as it is typed with
the error on a line below the field; add a constraint on any catalogue metric, remove one, toggle hard / prefer.

A limit enters the session when it is valid and the user presses enter or leaves the field (or the step: the
plan first takes every screen's pending edits), never per keystroke; an invalid one stays out, and the plan and
the export refuse to run while it is there (:meth:`ConstraintsScreen.commit_edits`)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import ClassVar

from textual import on
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.validation import ValidationResult, Validator
from textual.widget import Widget
from textual.widgets import Button, Checkbox, Input, Select, Static

from mcm import metrics
from mcm.exceptions import McmError
from mcm.present.language import label
from mcm.rules.ast import BOUND_OPS
from mcm.tui.screens.base import StepScreen, field_problem, show_error
from mcm.tui.session import ConstraintRow, FieldProblem, Session
from mcm.tui.widgets.constraint_table import HardToggle


class LimitValidator(Validator):
    """A limit is valid when the session can parse it for the metric (units, range)."""

    def __init__(self, session: Session, metric: str | None) -> None:
        super().__init__()
        self.session = session
        self.metric = metric

    def validate(self, value: str) -> ValidationResult:
        if not self.metric:
            return self.failure("metric?")
        try:
            self.session.parse_limit(self.metric, value)
        except McmError as e:
            return self.failure(field_problem(e, self.session.lang))
        return self.success()


class ConstraintsScreen(StepScreen):
    """Edit the constraints of the chosen scenario."""

    STEP = "constraints"
    # not ctrl+z: it is no undo (it drops every edit, invalid ones included); ctrl+e is the fields' "end"
    BINDINGS: ClassVar[list[BindingType]] = [Binding("ctrl+l", "reset", "Reset limits")]

    def __init__(self) -> None:
        super().__init__()
        self._shown: object = None
        self._initial: dict[str, tuple[str, str, bool]] = {}
        self._live: set[int] = set()  # the rows on screen now (a removed row's late blur must not count)

    def body(self) -> Iterable[Widget]:
        yield Static("", id="constraints-title", classes="title", markup=False)
        yield VerticalScroll(id="constraint-rows", can_focus=False)  # not a dead tab stop before the rows
        with Horizontal(id="constraint-add", classes="form-row"):
            yield Select[str]([], prompt=self.tr("constraints.metric"), id="add-metric", compact=True)
            yield Select[str](
                [(o, o) for o in BOUND_OPS], value="<", allow_blank=False, id="add-op", compact=True
            )
            yield Input(placeholder="50 ms", id="add-limit", compact=True)
            yield Button(self.tr("constraints.add_button"), id="add", compact=True)
        yield Static("", id="add-error", classes="error row-error", markup=False)

    def refresh_view(self) -> None:
        title = self.query_one("#constraints-title", Static)
        self.query_one("#constraint-add").display = self.session.scenario is not None
        if self.session.scenario is None:
            title.update(self.tr("constraints.no_scenario"))
        else:
            title.update(
                f"{self.tr('constraints.title', name=self.session.scenario)}\n{self.tr('constraints.help')}"
            )
        state = (self.session.scenario, tuple(self.session.constraints))
        if state != self._shown:
            self._shown = state
            self.run_worker(self._rebuild(), exclusive=True, group="rebuild")

    async def _rebuild(self) -> None:
        box = self.query_one("#constraint-rows", VerticalScroll)
        self._live.clear()
        await box.remove_children()
        rows = [self._row(i, row) for i, row in enumerate(self.session.constraints)]
        await box.mount_all(rows)
        self._live = {id(row) for row in rows}
        taken = {row.metric for row in self.session.constraints}
        choices = [(f"{m.name} ({label(m.name, self.lang)})", m.name) for m in metrics.METRICS.values()]
        self.query_one("#add-metric", Select).set_options([c for c in choices if c[1] not in taken])
        first = box.query(Input)
        if first:
            first.first().focus()

    def _row(self, i: int, row: ConstraintRow) -> Widget:
        fields = Horizontal(
            Static(label(row.metric, self.lang), classes="metric", markup=False),
            Select[str](
                [(o, o) for o in BOUND_OPS], value=row.op, allow_blank=False, compact=True, classes="op"
            ),
            Input(
                row.shown,
                compact=True,
                classes="limit",
                validators=[LimitValidator(self.session, row.metric)],
                valid_empty=False,
            ),
            Static(row.unit, classes="unit", markup=False),
            HardToggle(self.lang, row.hard, classes="hard"),  # reads "hard" or "soft (prefer)"
            Button("✕", compact=True, classes="remove", tooltip=self.tr("constraints.remove")),
            classes="form-row",
        )
        # the error goes on its own line below the fields: beside them it had ~12 columns at 80x24
        error = Static("", classes="error row-error", markup=False)
        error.display = False
        widget = Vertical(fields, error, classes="constraint-row", name=row.metric)
        self._initial[row.metric] = (row.op, row.shown, row.hard)
        return widget

    def _check(self, row: Widget) -> str | None:
        """Show whether a row's limit is valid (as it is typed); the problem, or None."""
        limit = row.query_one(".limit", Input)
        result = limit.validate(limit.value)
        text = " ".join(result.failure_descriptions) if result is not None and not result.is_valid else ""
        show_error(row.query_one(".error", Static), text)
        return text or None

    def _apply(self, row: Widget) -> str | None:
        """Send a row's op, limit and hard flag to the session when the limit is valid; the problem, or None."""
        if id(row) not in self._live:
            return None
        metric = row.name or ""
        limit = row.query_one(".limit", Input)
        error = row.query_one(".error", Static)
        failed = self._check(row)
        if failed:
            return failed
        op = str(row.query_one(".op", Select).value)
        hard = row.query_one(".hard", Checkbox).value
        if self._initial.get(metric) == (op, limit.value, hard):
            return None  # as shown (or as last entered): a scenario row stays the scenario's
        try:
            self.session.set_constraint(metric, op, limit.value, hard)
        except McmError as e:
            show_error(error, field_problem(e, self.lang))
            return field_problem(e, self.lang)
        self._initial[metric] = (op, limit.value, hard)
        self._shown = (self.session.scenario, tuple(self.session.constraints))
        return None

    def commit_edits(self) -> list[FieldProblem]:
        problems = []
        for row in list(self.query(".constraint-row")):
            failed = self._apply(row)
            if failed:
                problems.append(FieldProblem(self.STEP, label(row.name or "", self.lang), failed))
        return problems

    def _row_of(self, widget: Widget) -> Widget | None:
        for node in widget.ancestors:
            if isinstance(node, Widget) and node.has_class("constraint-row"):
                return node
        return None

    @on(Input.Changed, ".limit")
    def _typed(self, event: Input.Changed) -> None:
        row = self._row_of(event.control)
        if row is not None and id(row) in self._live:
            self._check(row)  # red or not as it is typed; the session takes it on enter or leaving

    @on(Input.Submitted, ".limit")
    @on(Input.Blurred, ".limit")
    @on(Select.Changed, ".op")
    @on(Checkbox.Changed, ".hard")
    def _changed(self, event: Input.Submitted | Input.Blurred | Select.Changed | Checkbox.Changed) -> None:
        row = self._row_of(event.control)
        if row is not None:
            self._apply(row)

    @on(Button.Pressed, ".remove")
    def _remove(self, event: Button.Pressed) -> None:
        row = self._row_of(event.button)
        if row is not None and row.name:
            self.session.remove_constraint(row.name)
            self.refresh_view()

    def action_reset(self) -> None:
        """Drop every edit, removal and addition, invalid text included: back to the scenario's own limits."""
        if self.session.scenario is not None:
            self._live.clear()  # the fields on screen no longer count, whatever they hold
            self.session.reset_constraints()
            self._shown = None  # rebuild even when the session did not change (an invalid edit only)
            self.refresh_view()

    @on(Input.Changed, "#add-limit")
    def _check_new(self, event: Input.Changed) -> None:
        self._add(commit=False)

    @on(Input.Submitted, "#add-limit")
    @on(Button.Pressed, "#add")
    def _add_pressed(self) -> None:
        self._add(commit=True)

    def _add(self, *, commit: bool) -> None:
        error = self.query_one("#add-error", Static)
        metric = self.query_one("#add-metric", Select).value
        text = self.query_one("#add-limit", Input).value
        if not commit and not text.strip():
            show_error(error, "")  # nothing typed yet (or the field was just cleared by an add)
            return
        if not isinstance(metric, str):
            show_error(error, self.tr("constraints.pick_metric") if commit else "")
            return
        op = str(self.query_one("#add-op", Select).value)
        try:
            if commit:
                self.session.set_constraint(metric, op, text, True)
            else:
                self.session.parse_limit(metric, text)
        except McmError as e:
            show_error(error, field_problem(e, self.lang))
            return
        show_error(error, "")
        if commit:
            self.query_one("#add-limit", Input).value = ""
            self.refresh_view()


__all__ = ["ConstraintsScreen", "LimitValidator"]
