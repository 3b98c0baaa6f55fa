"""The constraint checks of a decision as a table: metric, limit, measured, ratio, status (coloured); and the
hard / soft toggle of a constraint row, whose label says which it is."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.binding import Binding, BindingType
from textual.content import Content
from textual.coordinate import Coordinate
from textual.widgets import Checkbox, DataTable
from textual.widgets.data_table import CellDoesNotExist

from mcm import metrics
from mcm.engine.decision import Decision
from mcm.present.decision import HEADINGS
from mcm.present.language import Lang, label
from mcm.tui.i18n import localize_bindings, t

_STYLE = {"met": "green", "violated": "bold red", "unknown": "yellow"}


class ConstraintTable(DataTable[str | Text]):
    """Met / violated / unknown for every constraint; :meth:`show_decision` refills it."""

    DEFAULT_CSS = """
    ConstraintTable { height: 2; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("j", "cursor_down", "Down", show=False),
        Binding("k", "cursor_up", "Up", show=False),
    ]

    def __init__(self, lang: Lang, *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=True)
        self.lang = lang
        localize_bindings(self, lang)

    def show_decision(self, decision: Decision) -> None:
        h = HEADINGS[self.lang]
        keep = self._row_key_at(self.cursor_row)  # the cursor stays on its metric across a refresh
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
        metrics_shown = [c.metric for c in decision.constraints]
        if keep in metrics_shown:
            self.move_cursor(row=metrics_shown.index(keep), animate=False)

    def _row_key_at(self, row: int) -> str | None:
        try:
            return self.coordinate_to_cell_key(Coordinate(row, 0)).row_key.value
        except CellDoesNotExist:
            return None


class HardToggle(Checkbox):
    """A constraint's hard / soft switch: checked reads "hard", unchecked "soft (prefer)" (the box alone looked
    the same either way at a glance). It posts ``Checkbox.Changed`` like any checkbox."""

    def __init__(
        self, lang: Lang, value: bool = True, *, id: str | None = None, classes: str | None = None
    ) -> None:
        self.lang = lang  # first: the checkbox sets its value (and so the label) while it is made
        super().__init__(_hard_label(value, lang), value, compact=True, id=id, classes=classes)

    def watch_value(self) -> None:
        super().watch_value()
        self.label = _hard_label(self.value, self.lang)


def _hard_label(hard: bool, lang: Lang) -> Content:
    return Content(t("constraints.hard" if hard else "constraints.soft", lang))  # plain text, never markup


__all__ = ["ConstraintTable", "HardToggle"]
