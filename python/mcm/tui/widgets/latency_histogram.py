"""The latency histogram of a measurement's primary batch, drawn by :func:`mcm.measure.render.histogram`."""

from __future__ import annotations

from typing import Any

from textual.widgets import Static

from mcm.present.language import Lang
from mcm.tui.i18n import t


class LatencyHistogram(Static):
    """Empty until :meth:`show_report` is given a :class:`~mcm.measure.MeasureReport` with samples."""

    DEFAULT_CSS = """
    LatencyHistogram { height: auto; display: none; }
    """

    def __init__(self, lang: Lang, *, id: str | None = None) -> None:
        super().__init__("", id=id, markup=False)
        self.lang = lang

    def show_report(self, report: Any, bins: int = 8) -> None:
        """Draw the primary batch's per-call samples (nothing when the report has none)."""
        primary = report.to_dict().get("latency", {}).get("primary_batch")
        samples = report.samples.get(primary) if primary is not None else None
        self.show_samples(primary, samples, bins)

    def show_samples(self, batch: int | None, samples: Any, bins: int = 8) -> None:
        """Draw one batch size's per-call samples (ns), e.g. as soon as the run has timed it."""
        if batch is None or samples is None or not samples.size:
            self.update("")
            self.display = False  # an empty Static would still take a line
            return
        self.display = True
        from mcm.measure.render import histogram  # numpy and the native histogram: only once measured

        title = t("baseline.histogram", self.lang, batch=batch, n=f"{samples.size:,}")
        self.update("\n".join([title, *histogram(samples, bins)]))


__all__ = ["LatencyHistogram"]
