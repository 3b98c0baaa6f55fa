"""A Decision as text for a terminal or as Markdown: a view of ``Decision.to_dict()``, never new logic.

Names, reasons, messages and positions come from rules files and arguments: each goes through
:mod:`mcm.sanitize` (``inline`` for the terminal, ``markdown`` for Markdown) as it is placed."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from mcm.cli.style import Style, table
from mcm.cli.values import Lang, label, show
from mcm.engine.decision import Decision, Plan
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
    },
}
_STATUS_STYLE = {"met": "green", "violated": "red", "unknown": "yellow", "fired": "green", "error": "red"}


def interval_text(metric: str, optimistic: float, pessimistic: float) -> str:
    lo, hi = sorted((optimistic, pessimistic))
    if show(metric, lo) == show(metric, hi):
        return show(metric, lo)
    return f"{show(metric, lo).split(' ')[0]}–{show(metric, hi)}"


def plan_rows(decision: Decision, plan: Plan, metrics: Sequence[str], h: dict[str, str]) -> list[list[str]]:
    measured = decision.facts.measured
    rows = [[h["baseline"], *(show(m, measured.get(m)) for m in metrics)]]
    for i, step in enumerate(plan.steps, 1):
        cells = []
        for m in metrics:
            p = step.predicted.get(m)
            cells.append("—" if p is None else interval_text(m, p.optimistic, p.pessimistic))
        rows.append([f"{i}. {inline(step.technique)}", *cells])
    return rows


def plan_metrics(decision: Decision) -> list[str]:
    """The constrained metrics, then any other the top plan predicts, in a stable order."""
    seen = [c.metric for c in decision.constraints]
    top = decision.top_plan
    if top is not None:
        for step in top.steps:
            for m in step.predicted:
                if m not in seen and m in ("latency_ms", "model_size_mb", "accuracy", "memory_mb", "power_w"):
                    seen.append(m)
    return seen


def text(decision: Decision, lang: Lang, style: Style) -> str:
    h = HEADINGS[lang]
    out: list[str] = []
    title = f"scenario {inline(decision.scenario)}" if decision.scenario else "no scenario"
    verdict = style(h["meets"], "green") if decision.meets_constraints else style(h["misses"], "red")
    out += [style(f"mcm advise — {title}", "bold") + f": {verdict}", ""]

    if decision.constraints:
        rows = []
        for c in decision.constraints:
            kind = "" if c.hard else " (prefer)"
            ratio = "—" if c.ratio is None else f"{c.ratio:.2f}x"
            rows.append(
                [
                    label(c.metric, lang),
                    f"{c.op} {show(c.metric, c.limit)}{kind}",
                    show(c.metric, c.value),
                    ratio,
                    style(c.status, _STATUS_STYLE.get(c.status, "")),
                ]
            )
        heads = [h["metric"], h["limit"], h["value"], h["ratio"], h["status"]]
        out += [style(h["constraints"], "bold", "cyan"), table(heads, rows, style), ""]

    out.append(style(h["decision"], "bold", "cyan"))
    for entry in decision.trace:
        mark = {"fired": "✓", "not_fired": "·", "skipped": "-", "error": "!", "inapplicable": "×"}[
            entry.status
        ]
        status = style(entry.status.replace("_", " "), _STATUS_STYLE.get(entry.status, "dim"))
        line = f"  {mark} {inline(entry.table)}.{inline(entry.rule)}  {status}  {style(inline(entry.pos), 'dim')}"
        out.append(line)
        if entry.status in ("fired", "not_fired", "error", "inapplicable") and entry.explanation:
            out.append(f"      {inline(entry.explanation)}")
        if entry.note:
            out.append(f"      {style(inline(entry.note), 'yellow')}")
    if decision.recommendations:
        for r in decision.recommendations:
            where = f"{inline(r.table)}.{inline(r.rule)}: {inline(r.reason)}"
            out.append(f"  → {h['recommend']} {style(inline(r.technique), 'bold')}  ({where})")
    else:
        pending = any(e.status == "error" for e in decision.trace)
        out.append(f"  → {h['pending'] if pending else h['none']}")
    out.append("")

    metrics = plan_metrics(decision)
    for plan in decision.plans[:1]:
        ok = style(h["meets"], "green") if plan.feasible else style(h["misses"], "red")
        out.append(style(f"{h['plan']} {plan.rank}: {_chain(plan, inline)}", "bold", "cyan"))
        out.append(f"  {ok}")
        heads = [h["step"], *(label(m, lang) for m in metrics)]
        out += [table(heads, plan_rows(decision, plan, metrics, h), style), ""]
    if len(decision.plans) > 1:
        out.append(style(h["other_plans"], "bold", "cyan"))
        for plan in decision.plans[1:]:
            verdict = h["meets"] if plan.feasible else h["misses"]
            out.append(f"  {plan.rank}. {_chain(plan, inline)}  ({verdict})")
        out.append("")

    if decision.why_not:
        out.append(style(h["why_not"], "bold", "cyan"))
        names = [inline(w.technique) for w in decision.why_not]
        pad = max(map(len, names))
        out += [
            f"  {n.ljust(pad)}  {inline(w.message)}" for n, w in zip(names, decision.why_not, strict=True)
        ]
        out.append("")
    if decision.infeasibility is not None:
        inf = decision.infeasibility
        out += [
            style(h["infeasible"], "bold", "red"),
            f"  {inline(inf.message)}",
            f"  {inline(inf.triangle)}",
            "",
        ]
    if decision.warnings:
        out.append(style(h["warnings"], "bold", "yellow"))
        out += [f"  {inline(w)}" for w in decision.warnings]
    return "\n".join(out).rstrip() + "\n"


def _chain(plan: Plan, shown: Callable[[str], str]) -> str:
    return " → ".join(shown(t) for t in plan.techniques) or "—"


def _markdown_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A Markdown table of text shown as written: every cell through :func:`mcm.sanitize.markdown`."""
    out = ["| " + " | ".join(map(md, headers)) + " |", "|" + "---|" * len(headers)]
    out += ["| " + " | ".join(map(md, r)) + " |" for r in rows]
    return "\n".join(out)


def markdown(decision: Decision, lang: Lang) -> str:
    """The decision as Markdown; rule and table names (identifiers) in code spans, all other outside text escaped."""
    h = HEADINGS[lang]
    verdict = h["meets"] if decision.meets_constraints else h["misses"]
    out = [f"# mcm advise: {md(decision.scenario or '—')}", "", f"**{verdict}**", ""]
    if decision.constraints:
        rows = [
            [
                label(c.metric, lang),
                f"{c.op} {show(c.metric, c.limit)}" + ("" if c.hard else " (prefer)"),
                show(c.metric, c.value),
                "—" if c.ratio is None else f"{c.ratio:.2f}x",
                c.status,
            ]
            for c in decision.constraints
        ]
        out += [
            f"## {h['constraints']}",
            "",
            _markdown_table([h["metric"], h["limit"], h["value"], h["ratio"], h["status"]], rows),
            "",
        ]
    out += [f"## {h['decision']}", ""]
    for e in decision.trace:
        out.append(
            f"- `{inline(e.table)}.{inline(e.rule)}` **{e.status}** ({md(e.pos)}): {md(e.explanation)}"
        )
    out.append("")
    for r in decision.recommendations:
        out.append(
            f"- {h['recommend']} **{md(r.technique)}** — {md(r.reason)} "
            f"(`{inline(r.table)}.{inline(r.rule)}`, {md(r.pos)})"
        )
    metrics = plan_metrics(decision)
    for plan in decision.plans:
        status = h["meets"] if plan.feasible else h["misses"]
        out += ["", f"## {h['plan']} {plan.rank}: {_chain(plan, md)}", "", f"{status}", ""]
        heads = [h["step"], *(label(m, lang) for m in metrics)]
        out.append(_markdown_table(heads, plan_rows(decision, plan, metrics, h)))
    if decision.why_not:
        out += ["", f"## {h['why_not']}", ""]
        out += [f"- **{md(w.technique)}**: {md(w.message)}" for w in decision.why_not]
    if decision.infeasibility is not None:
        out += [
            "",
            f"## {h['infeasible']}",
            "",
            md(decision.infeasibility.message),
            "",
            md(decision.infeasibility.triangle),
        ]
    if decision.warnings:
        out += ["", f"## {h['warnings']}", ""] + [f"- {md(w)}" for w in decision.warnings]
    return "\n".join(out) + "\n"
