"""The reference's "impossible triangle" drawn for one decision: accuracy, latency and resources as corners,
each coloured by how the top plan fares on the constraints of that corner (green met, red violated, yellow unknown).
"""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from mcm import metrics
from mcm.engine.decision import Decision
from mcm.engine.explain import CORNER_OF, CORNERS
from mcm.present.decision import interval_text
from mcm.present.language import Lang
from mcm.tui.i18n import t

_STYLE = {"met": "bold green", "violated": "bold red", "unknown": "bold yellow", "free": "dim"}
_MARK = {"met": "✓", "violated": "✗", "unknown": "?", "free": "·"}
WIDTH = 72
ROWS = 4
SLOPE = 3


def corner_of(metric: str) -> str | None:
    """The triangle corner a metric belongs to (by its catalogue category), or None."""
    m = metrics.get(metric)
    return None if m is None else CORNER_OF.get(m.category)


def corner_status(decision: Decision) -> dict[str, str]:
    """Each corner's verdict over its hard constraints: the top plan's pessimistic check, else the model's."""
    plan = decision.top_plan
    planned = {c.metric: c.pessimistic for c in plan.constraints} if plan is not None else {}
    out = dict.fromkeys(CORNERS, "free")
    rank = {"free": 0, "met": 1, "unknown": 2, "violated": 3}
    for c in decision.constraints:
        corner = corner_of(c.metric)
        if corner is None or not c.hard:
            continue
        status = planned.get(c.metric, c.status)
        if rank[status] > rank[out[corner]]:
            out[corner] = status
    return out


def corner_lines(decision: Decision, corner: str) -> list[str]:
    """``metric now → predicted`` for each constrained metric of the corner."""
    plan = decision.top_plan
    last = plan.steps[-1].predicted if plan is not None and plan.steps else {}
    lines = []
    for c in decision.constraints:
        if corner_of(c.metric) != corner:
            continue
        now = metrics.format_value(c.metric, decision.facts.measured.get(c.metric))
        p = last.get(c.metric)
        after = "" if p is None else f" → {interval_text(c.metric, p.optimistic, p.pessimistic)}"
        lines.append(f"{c.metric} {now}{after}")
    return lines


class Triangle(Static):
    """The triangle for a decision; :meth:`show_decision` redraws it."""

    DEFAULT_CSS = """
    Triangle { height: auto; width: 100%; content-align: center top; }
    """

    def __init__(self, lang: Lang, *, id: str | None = None) -> None:
        super().__init__("", id=id, markup=False)
        self.lang = lang

    def show_decision(self, decision: Decision) -> None:
        self.update(draw(decision, self.lang))


def _corner_title(corner: str, status: str, lang: Lang) -> Text:
    return Text(f"{_MARK[status]} {t('rec.corner.' + corner, lang)}", style=_STYLE[status])


def draw(decision: Decision, lang: Lang) -> Text:
    """The triangle as text, :data:`WIDTH` cells wide."""
    status = corner_status(decision)
    half = WIDTH // 2
    out = Text()

    def centred(part: Text | str, width: int = WIDTH) -> Text:
        piece = part if isinstance(part, Text) else Text(part)
        pad = max(0, (width - piece.cell_len) // 2)
        line = Text(" " * pad)
        line.append_text(piece)
        return line

    out.append_text(centred(_corner_title("accuracy", status["accuracy"], lang)))
    out.append("\n")
    for line in corner_lines(decision, "accuracy")[:2]:
        out.append_text(centred(Text(line, style="dim" if status["accuracy"] == "free" else "")))
        out.append("\n")
    edge_l = _edge(status["accuracy"], status["latency"])
    edge_r = _edge(status["accuracy"], status["resources"])
    out.append(" " * (half - 1))
    out.append("▲\n", style=edge_l)
    for i in range(1, ROWS + 1):
        row = Text(" " * (half - 1 - SLOPE * i))
        row.append("╱", style=edge_l)
        row.append(" " * (2 * SLOPE * i - 1))
        row.append("╲", style=edge_r)
        out.append_text(row)
        out.append("\n")
    left_title = _corner_title("latency", status["latency"], lang)
    right_title = _corner_title("resources", status["resources"], lang)
    reach = SLOPE * (ROWS + 1)  # the base runs under the ends of both edges
    base = Text(" " * max(0, half - 1 - reach - left_title.cell_len - 1))
    base.append_text(left_title)
    base.append(" ◀" + "━" * (2 * reach - 1) + "▶ ", style=_edge(status["latency"], status["resources"]))
    base.append_text(right_title)
    out.append_text(base)
    out.append("\n")
    left = corner_lines(decision, "latency")
    right = corner_lines(decision, "resources")
    for i in range(max(len(left), len(right))):
        a = left[i] if i < len(left) else ""
        b = right[i] if i < len(right) else ""
        out.append(f"{_fit(a, half - 1):<{half}}{_fit(b, half):>{half}}\n")
    return out


def _edge(a: str, b: str) -> str:
    """An edge is green when both of its corners are met: the pair the plan holds."""
    if a == "met" and b == "met":
        return "green"
    if "violated" in (a, b):
        return "red"
    return "dim"


def _fit(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


__all__ = ["CORNERS", "Triangle", "corner_of", "corner_status", "draw"]
