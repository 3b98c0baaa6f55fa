"""The step bar: the five steps, the current one highlighted, each a link (F2–F6 jump from the keyboard)."""

from __future__ import annotations

from rich.text import Text
from textual import events
from textual.widgets import Static

from mcm.present.language import Lang
from mcm.tui.i18n import t

STEPS = ("scenario", "constraints", "baseline", "recommendations", "export")


class StepBar(Static):
    """``F2 Scenario › F3 Constraints › …`` with ``current`` in reverse video."""

    DEFAULT_CSS = """
    StepBar { height: 1; width: 100%; background: $panel; padding: 0 1; }
    """

    def __init__(self, current: str, lang: Lang) -> None:
        super().__init__("", markup=False)
        self.current = current
        self.lang = lang

    def on_mount(self) -> None:
        text = Text()
        for i, step in enumerate(STEPS):
            if i:
                text.append(" › ", style="dim")
            name = f"F{i + 2} {t('step.' + step, self.lang)}"
            style = "bold reverse" if step == self.current else ""
            text.append(name, style=style)
        self.update(text)

    def on_click(self, event: events.Click) -> None:
        """A click on a step's name goes there."""
        x = event.x - 1
        pos = 0
        for i, step in enumerate(STEPS):
            width = len(f"F{i + 2} ") + Text(t("step." + step, self.lang)).cell_len
            if pos <= x < pos + width:
                self.app.call_later(self.app.run_action, f"goto('{step}')")
                return
            pos += width + 3


__all__ = ["STEPS", "StepBar"]
