"""Step 4: the decision — verdict, constraint table, ranked plans with predicted metrics, the impossible triangle,
what to relax, and the rule trace (why and why not), each rule linking to its ``file:line``.

It decides only on valid values: while a field of another step is invalid it names the fields and their step
instead, and while a measurement runs it says so and decides when the measurement is in. Right below the verdict,
each fact a left-out technique needs links to its field on the baseline step, and each hard limit on a metric
that is not known offers to type a value or to make the limit soft."""

from __future__ import annotations

import shlex
from collections.abc import Iterable

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text
from textual import on, work
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.widget import Widget
from textual.widgets import Button, Collapsible, Static

from mcm import metrics
from mcm.engine.decision import Decision
from mcm.exceptions import McmError
from mcm.present.decision import HEADINGS, plan_metrics, plan_rows
from mcm.present.language import label
from mcm.present.messages import render
from mcm.rules.facts import FACTS
from mcm.sanitize import inline, terminal
from mcm.tui.screens.base import field_problem, problem
from mcm.tui.widgets.constraint_table import ConstraintTable
from mcm.tui.widgets.trace_tree import TraceTree
from mcm.tui.widgets.triangle import Triangle

from .base import StepScreen


class RecommendationsScreen(StepScreen):
    """Decide on the session as it is now and show everything the decision says."""

    STEP = "recommendations"
    DEFAULT_CSS = """
    RecommendationsScreen #needs { height: auto; }
    RecommendationsScreen #needs .need { width: 1fr; height: auto; }
    RecommendationsScreen #needs Button { margin-left: 1; }
    """

    def body(self) -> Iterable[Widget]:
        with VerticalScroll(id="rec-scroll"):
            yield Static("", id="verdict", markup=False)
            yield Vertical(id="needs", classes="auto")
            yield ConstraintTable(self.lang, id="constraint-table")
            yield Static("", id="plans", markup=False)
            yield Static(self.tr("rec.triangle"), classes="section", markup=False)
            yield Triangle(self.lang, id="triangle")
            yield Static("", id="infeasible", markup=False)
            yield TraceTree(self.lang, id="trace")
            yield Static("", id="warnings", markup=False)
            with Collapsible(title=self.tr("rec.cli"), id="cli-box"):
                yield Static("", id="cli", markup=False)

    def refresh_view(self) -> None:
        verdict = self.query_one("#verdict", Static)
        parts = [
            self.query_one(f"#{i}")
            for i in ("needs", "constraint-table", "plans", "triangle", "infeasible", "trace", "warnings")
        ]
        refusal = self.refusal()
        if refusal is not None:
            self.session.decision = None  # no plan on screen for values the user did not write
            style = "bold yellow" if self.session.measuring else "bold red"
            verdict.update(Text(refusal, style=style))
            for part in parts:
                part.display = False
            return
        try:
            decision = self.session.decide()
        except McmError as e:
            verdict.update(Text(f"{self.tr('rec.error')}: {problem(e)}", style="bold red"))
            for part in parts:
                part.display = False
            return
        for part in parts:
            part.display = True
        self.show_decision(decision)

    def show_decision(self, decision: Decision) -> None:
        h = HEADINGS[self.lang]
        ok = decision.meets_constraints
        verdict = Text(f"{decision.scenario or '—'}: ", style="bold")
        verdict.append(h["meets"] if ok else h["misses"], style="bold green" if ok else "bold red")
        try:  # folded at the bottom: after a measurement it holds a --set per metric
            command = f"mcm advise {shlex.join(self.session.cli_args())}"
        except McmError as e:  # e.g. a removed scenario constraint, which --constraint cannot express
            command = problem(e)
        self.query_one("#cli", Static).update(command)
        self.query_one("#verdict", Static).update(verdict)
        self.query_one(ConstraintTable).show_decision(decision)
        self.query_one("#plans", Static).update(self._plans(decision))
        self.query_one(Triangle).show_decision(decision)
        self.query_one("#infeasible", Static).update(self._infeasible(decision))
        self.query_one(TraceTree).show_decision(decision)
        warnings = Text(
            "\n".join(f"! {inline(render(w, self.lang))}" for w in decision.warnings), style="yellow"
        )
        self.query_one("#warnings", Static).update(warnings)
        self._show_needs(decision)

    @work(exclusive=True, group="needs")
    async def _show_needs(self, decision: Decision) -> None:
        """What would let the engine say more: a fact a left-out technique needs (a link to its field), a hard
        limit on a metric not known (type a value, or make the limit soft)."""
        rows: list[Widget] = []
        for check in decision.constraints:
            if check.status != "unknown" or check.metric in self.session.measured:
                continue
            info = metrics.lookup(check.metric)
            constraint = f"{label(check.metric, self.lang)} {check.op} {info.literal(check.limit)}"
            text = self.tr("rec.unknown_metric", metric=label(check.metric, self.lang), constraint=constraint)
            buttons = [
                Button(self.tr("rec.type_value"), compact=True, classes="type-value", name=check.metric)
            ]
            if check.hard:  # a limit that cannot be checked here need not block the plan
                buttons.append(
                    Button(self.tr("rec.make_soft"), compact=True, classes="make-soft", name=check.metric)
                )
            rows.append(Horizontal(Static(text, markup=False, classes="need"), *buttons, classes="form-row"))
        wanted: dict[str, list[str]] = {}
        for why in decision.why_not:
            if why.reason == "requirement_unknown":
                for path in self.session.facts_needed(why.technique):
                    wanted.setdefault(path, []).append(why.technique)
        for path, techniques in wanted.items():
            fact = FACTS[path]
            text = self.tr(
                "rec.fact_link",
                techniques=", ".join(techniques),
                fact=fact.zh if self.lang == "zh" else fact.en,
                path=path,
            )
            rows.append(Button(Content(inline(text)), compact=True, classes="fact-link", name=path))
        box = self.query_one("#needs", Vertical)
        await box.remove_children()
        if rows:
            await box.mount_all([Static(self.tr("rec.needs"), classes="section", markup=False), *rows])
        box.display = bool(rows)

    @on(Button.Pressed, ".fact-link, .type-value")
    async def _go_to_field(self, event: Button.Pressed) -> None:
        name = event.button.name or ""
        await self.app.switch_mode("baseline")
        focus = getattr(self.app.screen, "focus_field", None)
        if callable(focus):
            focus(name)

    @on(Button.Pressed, ".make-soft")
    def _make_soft(self, event: Button.Pressed) -> None:
        name = event.button.name or ""
        row = next((r for r in self.session.constraints if r.metric == name), None)
        if row is None:
            return
        try:
            self.session.set_constraint(
                row.metric, row.op, metrics.lookup(row.metric).literal(row.value), False
            )
        except McmError as e:
            self.notify(field_problem(e, self.lang), severity="error", markup=False)
            return
        self.refresh_view()

    def _plans(self, decision: Decision) -> RenderableType:
        h = HEADINGS[self.lang]
        if not decision.plans:
            return Text(self.tr("rec.no_plan"), style="dim")
        shown = plan_metrics(decision)
        parts: list[RenderableType] = []
        for plan in decision.plans:
            title = Text(
                f"{h['plan']} {plan.rank}: {' → '.join(plan.techniques) or self.tr('rec.as_is')}  ",
                style="bold cyan",
            )
            title.append(
                h["meets"] if plan.feasible else h["misses"], style="green" if plan.feasible else "red"
            )
            risk = metrics.format_value("accuracy_drop", plan.accuracy_risk)
            title.append(
                "\n"
                + self.tr("rec.gain", gain=f"{plan.core_gain:.3g}", risk=risk, difficulty=plan.difficulty),
                style="dim",
            )
            table = Table(box=None, padding=(0, 1), header_style="bold", expand=False)
            table.add_column(h["step"], no_wrap=True)
            for m in shown:
                table.add_column(label(m, self.lang), overflow="fold")
            for row in plan_rows(decision, plan, shown, h):
                table.add_row(*(Text(inline(cell)) for cell in row))  # plain text, never markup
            parts += [title, table, Text("")]
        return Group(*parts)

    def _infeasible(self, decision: Decision) -> RenderableType:
        inf = decision.infeasibility
        if inf is None:
            return Text("")
        h = HEADINGS[self.lang]
        out = Text(h["infeasible"] + "\n", style="bold red")
        out.append(inline(render(inf.message, self.lang)) + "\n")
        for option in inf.options:
            relax = "; ".join(inline(r.constraint) for r in option.relax)
            out.append(
                f"  {self.tr('rec.relax')}: {relax}  ({' → '.join(option.plan) or '—'})\n", style="yellow"
            )
        out.append(terminal(render(inf.triangle, self.lang)), style="italic")
        return out

    @on(TraceTree.Jump)
    def _jump(self, event: TraceTree.Jump) -> None:
        self.mcm.action_show_rule(event.pos)


__all__ = ["RecommendationsScreen"]
