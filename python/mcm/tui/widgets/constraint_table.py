"""The constraint checks of a decision as a table: metric, limit, measured, ratio, status (coloured)."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import DataTable

from mcm import metrics
from mcm.engine.decision import Decision
from mcm.present.decision import HEADINGS
from mcm.present.language import Lang, label
from mcm.tui.i18n import t

_STYLE = {"met": "green", "violated": "bold red", "unknown": "yellow"}


class ConstraintTable(DataTable[str | Text]):
    """Met / violated / unknown for every constraint; :meth:`show_decision` refills it."""

    DEFAULT_CSS = """
    ConstraintTable { height: 2; }
    """

    def __init__(self, lang: Lang, *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=True)
        self.lang = lang

    def show_decision(self, decision: Decision) -> None:
        h = HEADINGS[self.lang]
        self.clear(columns=True)
        self.add_columns(h["metric"], h["limit"], h["value"], h["ratio"], h["status"])
        for c in decision.constraints:
            soft = "" if c.hard else t("status.prefer", self.lang)
            status = t(f"status.{c.status}", self.lang) if c.status in _STYLE else c.status
            self.add_row(  # Text cells: a string cell would be read as markup
                Text(label(c.metric, self.lang)),
                Text(f"{c.op} {metrics.format_value(c.metric, c.limit)}{soft}"),
                Text(metrics.format_value(c.metric, c.value)),
                Text("—" if c.ratio is None else f"{c.ratio:.2f}x"),
                Text(status, style=_STYLE.get(c.status, "")),
                key=c.metric,
            )
        self.styles.height = len(decision.constraints) + 1  # every row shown; the screen scrolls


__all__ = ["ConstraintTable"]
