"""What every step screen shares: the step bar on top, the footer with its bindings, the session and language."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, ClassVar, cast

from textual.app import ComposeResult
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Footer, Static

from mcm import metrics
from mcm.exceptions import McmError
from mcm.present.language import Lang, label
from mcm.sanitize import inline, shorten
from mcm.tui.i18n import localize_bindings, t
from mcm.tui.widgets.steps import STEPS, StepBar

if TYPE_CHECKING:
    from mcm.tui.app import McmApp
    from mcm.tui.session import FieldProblem, Session


def show_error(widget: Static, text: str) -> None:
    """Show an error line, or hide it while there is none."""
    widget.update(text)
    widget.display = bool(text)


def problem(error: McmError) -> str:
    """An error's message and hint on one line, escaped (it may quote a file or what the user typed)."""
    return inline(f"{error} — {error.hint}" if error.hint else str(error))


_PREFIX = re.compile(r"^(?:constraint|measured|baseline|env|data)\.(\w+): ")
_QUOTED = re.compile(r"'([^']*)'")
_BASELINE = re.compile(r"^--baseline (.*?): (?:cannot read it: )?(.*)$", re.DOTALL)


def field_problem(error: McmError, lang: Lang) -> str:
    """:func:`problem` in the TUI's words: the checks are the CLI's, whose messages start with the fact's
    internal path (``constraint.memory_mb: ...``) or the flag (``--baseline FILE: ...``); beside a field that
    already shows its metric, the path goes and a metric's name reads as its label."""
    message, hint = str(error), error.hint
    found = _BASELINE.match(message)
    if found is not None:
        return inline(t("field.unreadable", lang, file=found.group(1), reason=found.group(2)))
    prefix = _PREFIX.match(message)
    if prefix is not None:
        message = message[prefix.end() :]
        name = prefix.group(1)
        if name in metrics.METRICS:
            shown = label(name, lang)
            word = re.compile(rf"\b{re.escape(name)}\b")
            message = word.sub(shown, message)
            hint = word.sub(shown, hint) if hint else hint
    message = _QUOTED.sub(
        lambda m: f"'{shorten(m.group(1), 40)}'", message
    )  # a long paste is echoed cut short
    return inline(f"{message} — {hint}" if hint else message)


def step_name(step: str, lang: Lang) -> str:
    """``Constraints (F3)``: a step as the step bar names it, with its key."""
    return f"{t(f'step.{step}', lang)} (F{STEPS.index(step) + 2})"


def invalid_summary(problems: Sequence[FieldProblem], lang: Lang) -> str:
    """``2 fields invalid on Constraints (F3): Peak memory, Latency``, one line per step, in step order."""
    lines = []
    for step in STEPS:
        fields = [p.field for p in problems if p.step == step]
        if not fields:
            continue
        key = "fields.invalid_one" if len(fields) == 1 else "fields.invalid_many"
        name, fkey = t(f"step.{step}", lang), f"F{STEPS.index(step) + 2}"
        lines.append(t(key, lang, n=len(fields), step=name, shortcut=fkey, fields=", ".join(fields)))
    return "\n".join(lines)


class StepScreen(Screen[None]):
    """A step of the walk; subclasses give :attr:`STEP`, :meth:`body` and :meth:`refresh_view`."""

    STEP: ClassVar[str] = ""

    def __init__(self) -> None:
        super().__init__()
        localize_bindings(self, self.lang)

    @property
    def mcm(self) -> McmApp:
        return cast("McmApp", self.app)

    @property
    def session(self) -> Session:
        return self.mcm.session

    @property
    def lang(self) -> Lang:
        return self.mcm.lang

    def tr(self, key: str, **values: object) -> str:
        return t(key, self.lang, **values)

    def compose(self) -> ComposeResult:
        yield StepBar(self.STEP, self.lang)
        yield from self.body()
        yield Footer()

    def body(self) -> Iterable[Widget]:
        return ()

    def on_screen_resume(self) -> None:
        if type(self).commit_edits is not StepScreen.commit_edits:
            self.session.add_editor(self.STEP, self.commit_edits)
        self.refresh_view()

    def refresh_view(self) -> None:
        """Show the session as it is now (called each time the screen comes back)."""

    def commit_edits(self) -> list[FieldProblem]:
        """Enter this screen's valid pending edits into the session; return its invalid fields. A screen with
        fields overrides it, and the steps that read the session (plan, export) call every screen's first."""
        return []

    def refusal(self) -> str | None:
        """Why the session cannot be decided on now (fields invalid, a measurement running), or None."""
        problems = self.session.commit_edits()
        if problems:
            return f"{invalid_summary(problems, self.lang)}\n{self.tr('fields.fix_first')}"
        if self.session.measuring:
            return self.tr("rec.measuring")
        return None


__all__ = ["StepScreen", "field_problem", "invalid_summary", "problem", "show_error", "step_name"]
