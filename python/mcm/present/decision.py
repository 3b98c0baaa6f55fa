"""A Decision for people: one outline of sections (:func:`outline`), written for a terminal (:func:`text`) or as
Markdown (:func:`markdown`), plus the plan table the TUI shows (:func:`plan_rows`).

What to say is decided once, in :func:`outline`; the two writers only choose the markup. The engine's texts
(why-not, warnings, trace explanations and notes, why plan 1 leaves a recommendation out, plan-step caveats, the
infeasibility) are written in the chosen language by :func:`mcm.present.messages.render`, whole (never cut).
Names, reasons, messages and positions come from rules files and arguments: each goes through :mod:`mcm.sanitize`
(``inline`` for the terminal, ``markdown`` for Markdown) where it is written.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import Literal, NamedTuple

from mcm import metrics
from mcm.engine.decision import Decision, Plan
from mcm.engine.messages import Message
from mcm.present.language import Lang, label
from mcm.present.messages import render
from mcm.present.terminal import Style, table
from mcm.sanitize import inline
from mcm.sanitize import markdown as md

HEADINGS = {
    "en": {
        "constraints": "Constraints",
        "decision": "Decision",
        "plan": "Plan",
        "why_not": "Why not",
        "infeasible": "No plan meets every hard constraint",
        "warnings": "Warnings",
        "metric": "metric",
        "limit": "limit",
        "value": "measured",
        "ratio": "ratio",
        "status": "status",
        "step": "step",
        "baseline": "baseline",
        "meets": "meets every hard constraint (pessimistic)",
        "misses": "misses a hard constraint in the pessimistic case",
        "recommend": "recommend",
        "none": "nothing to change",
        "pending": "no recommendation until the missing facts are given",
        "other_plans": "Other plans",
        "prefer": "prefer",
        "scenario": "scenario {name}",
        "no_scenario": "no scenario",
    },
    "zh": {
        "constraints": "约束",
        "decision": "决策",
        "plan": "方案",
        "why_not": "未选原因",
        "infeasible": "没有方案能满足全部硬约束",
        "warnings": "警告",
        "metric": "指标",
        "limit": "限制",
        "value": "测量值",
        "ratio": "比值",
        "status": "状态",
        "step": "步骤",
        "baseline": "基线",
        "meets": "悲观估计下满足全部硬约束",
        "misses": "悲观估计下不满足某个硬约束",
        "recommend": "推荐",
        "none": "无需改动",
        "pending": "缺少事实，暂无推荐",
        "other_plans": "其他方案",
        "prefer": "软约束",
        "scenario": "场景 {name}",
        "no_scenario": "无场景",
    },
}
#: Constraint and trace statuses in each language (the JSON form keeps the ids).
STATUSES = {
    "en": {
        "met": "met",
        "violated": "violated",
        "unknown": "unknown",
        "fired": "fired",
        "not_fired": "not fired",
        "skipped": "skipped",
        "error": "error",
        "inapplicable": "inapplicable",
    },
    "zh": {
        "met": "满足",
        "violated": "违反",
        "unknown": "未知",
        "fired": "触发",
        "not_fired": "未触发",
        "skipped": "跳过",
        "error": "错误",
        "inapplicable": "不适用",
    },
}
#: Metrics a plan table shows besides the constrained ones, when the top plan predicts them.
PLAN_METRICS = ("latency_ms", "model_size_mb", "accuracy", "memory_mb", "power_w")
_TONE = {"met": "green", "violated": "red", "unknown": "yellow", "fired": "green", "error": "red"}
_MARK = {"fired": "✓", "not_fired": "·", "skipped": "–", "error": "!", "inapplicable": "×"}

SpanKind = Literal["plain", "name", "strong", "dim", "code"]


class Span(NamedTuple):
    """A piece of a line: ``name`` is an identifier (a code span in Markdown), ``strong`` is emphasised,
    ``tone`` colours it on a terminal."""

    text: str
    kind: SpanKind = "plain"
    tone: str = ""


Line = tuple[Span, ...]


class Section(NamedTuple):
    """A heading (empty for the title block) and what stands under it: lines (with sub-lines under line i in
    ``details``), then an optional table, then ``notes`` under the table (a plan's caveats). (NamedTuples: `mcm
    advise` imports this module on every run.)"""

    heading: str
    tone: str = "cyan"
    lines: Sequence[Line] = ()
    details: Mapping[int, Sequence[Line]] = MappingProxyType({})
    table: tuple[list[str], list[list[str]]] | None = None
    bullets: bool = True
    notes: Sequence[Line] = ()


def interval_text(metric: str, optimistic: float, pessimistic: float) -> str:
    """A predicted range in the metric's display unit (``80–120 ms``), or one value when both ends show alike."""
    lo, hi = sorted((optimistic, pessimistic))
    low, high = metrics.format_value(metric, lo), metrics.format_value(metric, hi)
    return low if low == high else f"{low.split(' ')[0]}–{high}"


def plan_metrics(decision: Decision) -> list[str]:
    """The constrained metrics, then any of :data:`PLAN_METRICS` the top plan predicts, in a stable order."""
    seen = [c.metric for c in decision.constraints]
    top = decision.top_plan
    for step in top.steps if top is not None else ():
        seen += [m for m in step.predicted if m not in seen and m in PLAN_METRICS]
    return seen


def plan_rows(decision: Decision, plan: Plan, shown: Sequence[str], h: dict[str, str]) -> list[list[str]]:
    """The baseline, then each step's predicted range, for the metrics ``shown``."""
    measured = decision.facts.measured
    rows = [[h["baseline"], *(metrics.format_value(m, measured.get(m)) for m in shown)]]
    for i, step in enumerate(plan.steps, 1):
        cells = []
        for m in shown:
            p = step.predicted.get(m)
            cells.append("—" if p is None else interval_text(m, p.optimistic, p.pessimistic))
        rows.append([f"{i}. {inline(step.technique)}", *cells])
    return rows


def outline(decision: Decision, lang: Lang, *, every_plan_table: bool) -> list[Section]:
    """What a Decision says, section by section; ``every_plan_table`` gives each plan its table (Markdown) instead
    of the top plan's table and a list of the others (terminal)."""
    h = HEADINGS[lang]
    title = h["scenario"].format(name=decision.scenario) if decision.scenario else h["no_scenario"]
    verdict = Span(*_verdict(decision.meets_constraints, h))
    out = [Section("", lines=[(Span(f"mcm advise — {title}:", "strong"), verdict)], bullets=False)]
    if decision.constraints:
        out.append(_constraints(decision, lang, h))
    out.append(_trace(decision, lang, h))
    out += _plans(decision, lang, h, every_plan_table)
    if decision.why_not:
        lines: list[Line] = [
            (Span(f"{w.technique}:", "strong"), Span(render(w.message, lang))) for w in decision.why_not
        ]
        out.append(Section(h["why_not"], lines=lines))
    if decision.infeasibility is not None:
        inf = decision.infeasibility
        out.append(
            Section(
                h["infeasible"],
                "red",
                [(Span(render(inf.message, lang)),), (Span(render(inf.triangle, lang)),)],
                bullets=False,
            )
        )
    if decision.warnings:
        out.append(Section(h["warnings"], "yellow", [(Span(render(w, lang)),) for w in decision.warnings]))
    return out


def _verdict(feasible: bool, h: dict[str, str]) -> tuple[str, SpanKind, str]:
    return (h["meets"], "plain", "green") if feasible else (h["misses"], "plain", "red")


def _constraints(decision: Decision, lang: Lang, h: dict[str, str]) -> Section:
    rows = [
        [
            label(c.metric, lang),
            f"{c.op} {metrics.format_value(c.metric, c.limit)}" + ("" if c.hard else f" ({h['prefer']})"),
            metrics.format_value(c.metric, c.value),
            "—" if c.ratio is None else f"{c.ratio:.2f}x",
            STATUSES[lang][c.status],
        ]
        for c in decision.constraints
    ]
    return Section(
        h["constraints"], table=([h["metric"], h["limit"], h["value"], h["ratio"], h["status"]], rows)
    )


def _trace(decision: Decision, lang: Lang, h: dict[str, str]) -> Section:
    lines: list[Line] = []
    details: dict[int, list[Line]] = {}
    for e in decision.trace:
        status = Span(STATUSES[lang][e.status], "strong", _TONE.get(e.status, "dim"))
        lines.append((Span(_MARK[e.status]), Span(f"{e.table}.{e.rule}", "name"), status, Span(e.pos, "dim")))
        explanation = e.explanation if e.status != "skipped" else ""
        under: list[Line] = [(Span(render(explanation, lang)),)] if explanation else []
        note = e.note
        under += [(Span(render(note, lang), tone="yellow"),)] if note else []
        if under:
            details[len(lines) - 1] = under
    left_out = decision.left_out if decision.recommendations else {}
    for r in decision.recommendations:
        why = left_out.get(r.technique)
        lines.append(
            (
                Span("→"),
                Span(h["recommend"]),
                Span(r.technique, "strong"),
                Span(f"— {r.reason}"),
                Span(f"({render(why, lang)})" if why else "", tone="yellow"),
                Span(f"{r.table}.{r.rule}", "name"),
                Span(r.pos, "dim"),
            )
        )
    if not decision.recommendations:
        pending = any(e.status == "error" for e in decision.trace)
        lines.append((Span("→"), Span(h["pending"] if pending else h["none"])))
    return Section(h["decision"], lines=lines, details=details)


def _steps(plan: Plan, lang: Lang) -> str:
    """A plan's techniques in step order, or "no change"."""
    return " → ".join(plan.techniques) or render(Message("plan.no_change"), lang)


def _plans(decision: Decision, lang: Lang, h: dict[str, str], every_plan_table: bool) -> list[Section]:
    shown = plan_metrics(decision)
    heads = [h["step"], *(label(m, lang) for m in shown)]
    tabled = decision.plans if every_plan_table else decision.plans[:1]
    said: set[str] = set()
    out = [
        Section(
            f"{h['plan']} {plan.rank}: {_steps(plan, lang)}",
            lines=[(Span(*_verdict(plan.feasible, h)),)],
            table=(heads, plan_rows(decision, plan, shown, h)),
            bullets=False,
            notes=_caveats(plan, lang, said, again=True),
        )
        for plan in tabled
    ]
    rest = decision.plans[len(tabled) :]
    if rest:
        lines: list[Line] = []
        details: dict[int, list[Line]] = {}
        for p in rest:
            lines.append(
                (
                    Span(f"{p.rank}. {_steps(p, lang)}"),
                    Span(f"({_verdict(p.feasible, h)[0]})"),
                )
            )
            caveats = _caveats(p, lang, said, again=False)
            if caveats:
                details[len(lines) - 1] = caveats
        out.append(Section(h["other_plans"], lines=lines, details=details))
    return out


def _caveats(plan: Plan, lang: Lang, said: set[str], *, again: bool) -> list[Line]:
    """A line for each caveat of the plan's steps (``technique: caveat``); with ``again`` false, only those of
    techniques not in ``said`` (which collects the techniques whose caveats were given)."""
    out: list[Line] = []
    for step in plan.steps:
        if step.caveats and (again or step.technique not in said):
            out += [
                (Span(f"{step.technique}:", "strong"), Span(render(c, lang), tone="yellow"))
                for c in step.caveats
            ]
        said.add(step.technique)
    return out


# ---- the two writers


def text(decision: Decision, lang: Lang, style: Style) -> str:
    """The decision for a terminal: colours when ``style`` is enabled, every outside text through ``inline``."""

    def write(line: Line) -> str:
        return " ".join(style(inline(s.text), *_styles(s)) for s in line if s.text)

    out: list[str] = []
    for section in outline(decision, lang, every_plan_table=False):
        if section.heading:
            out.append(style(inline(section.heading), "bold", section.tone))
        for i, line in enumerate(section.lines):
            out.append(("  " if section.heading else "") + write(line))
            out += [f"      {write(d)}" for d in section.details.get(i, ())]
        if section.table is not None:
            heads, rows = section.table
            out.append(table(heads, [[inline(c) for c in r] for r in rows], style))
        out += [f"  {write(line)}" for line in section.notes]
        out.append("")
    return "\n".join(out).rstrip() + "\n"


def markdown(decision: Decision, lang: Lang) -> str:
    """The decision as Markdown: identifiers in code spans, every other outside text escaped."""

    def write(line: Line) -> str:
        parts = []
        for s in line:
            if s.kind == "name":
                parts.append(f"`{inline(s.text)}`")
            elif s.kind == "strong":
                parts.append(f"**{md(s.text)}**")
            elif s.kind == "dim":
                parts.append(f"({md(s.text)})")
            else:
                parts.append(md(s.text))
        return " ".join(p for p in parts if p)

    out: list[str] = []
    for section in outline(decision, lang, every_plan_table=True):
        if not section.heading:
            verdict = section.lines[0][-1]
            out += [f"# mcm advise: {md(decision.scenario or '—')}", "", f"**{md(verdict.text)}**", ""]
            continue
        out += [f"## {md(section.heading)}", ""]
        for i, line in enumerate(section.lines):
            # a detail is a sub-line of its item (a hard break, "\\"); lines that are not bullets are paragraphs
            under = [write(d) for d in section.details.get(i, ())]
            item = "\\\n  ".join([write(line), *under])
            out += [f"- {item}"] if section.bullets else [item, ""]
        if section.lines and section.bullets:
            out.append("")
        if section.table is not None:
            out += [_markdown_table(*section.table), ""]
        if section.notes:
            out += [*(f"- {write(line)}" for line in section.notes), ""]
    return "\n".join(out).rstrip() + "\n"


def _styles(span: Span) -> tuple[str, ...]:
    tone = span.tone or ("dim" if span.kind == "dim" else "")
    return (("bold",) if span.kind == "strong" else ()) + ((tone,) if tone else ())


def _markdown_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A Markdown table of text shown as written: every cell through :func:`mcm.sanitize.markdown`."""
    out = ["| " + " | ".join(map(md, headers)) + " |", "|" + "---|" * len(headers)]
    out += ["| " + " | ".join(map(md, r)) + " |" for r in rows]
    return "\n".join(out)
