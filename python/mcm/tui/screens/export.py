"""Step 5: write the plan as JSON and Markdown, and the edited constraints as a ``.rules`` file that
``mcm advise`` accepts; show the command that reproduces the decision from it."""

from __future__ import annotations

import shlex
from collections.abc import Iterable
from typing import ClassVar

from rich.text import Text
from textual import on
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.widget import Widget
from textual.widgets import Button, Input, Static

from mcm.exceptions import McmError
from mcm.tui.screens.base import StepScreen
from mcm.tui.screens.constraints import problem

_FIELDS = (("json", "export.json"), ("markdown", "export.markdown"), ("rules", "export.rules"))


class ExportScreen(StepScreen):
    """Choose the file names and write them (atomically, by :mod:`mcm.tui.export`)."""

    STEP = "export"
    BINDINGS: ClassVar[list[BindingType]] = [Binding("ctrl+s", "write", "Write files", priority=True)]

    def body(self) -> Iterable[Widget]:
        with VerticalScroll(id="export-scroll"):
            yield Static(self.tr("export.title"), classes="section")
            for key, text in _FIELDS:
                with Horizontal(classes="form-row"):
                    yield Static(self.tr(text), classes="metric")
                    yield Input(id=f"export-{key}", compact=True)
            with Horizontal(classes="form-row"):
                yield Button(self.tr("key.write") + " (ctrl+s)", id="write", compact=True)
            yield Static("", id="export-status")
            yield Static(self.tr("export.preview"), classes="section")
            yield Static("", id="rules-preview", markup=False)

    def refresh_view(self) -> None:
        from mcm.tui.export import constraints_rules_text

        name = self.session.scenario or "mcm"
        for key, default in (
            ("json", f"{name}-plan.json"),
            ("markdown", f"{name}-plan.md"),
            ("rules", f"{name}-constraints.rules"),
        ):
            field = self.query_one(f"#export-{key}", Input)
            if not field.value:
                field.value = default
        if self.focused is None or isinstance(self.focused, VerticalScroll):
            self.query_one("#export-json", Input).focus(scroll_visible=False)  # typing lands in a field
        preview = self.query_one("#rules-preview", Static)
        try:
            preview.update(constraints_rules_text(self.session))
        except McmError as e:
            preview.update(problem(e))

    @on(Button.Pressed, "#write")
    def action_write(self) -> None:
        from mcm.tui.export import write_constraints_rules, write_plan_json, write_plan_markdown

        status = self.query_one("#export-status", Static)
        paths = {key: self.query_one(f"#export-{key}", Input).value.strip() for key, _ in _FIELDS}
        try:
            decision = self.session.decision or self.session.decide()
            written = []
            if paths["json"]:
                write_plan_json(decision, paths["json"])
                written.append(paths["json"])
            if paths["markdown"]:
                write_plan_markdown(decision, paths["markdown"], self.lang)
                written.append(paths["markdown"])
            if paths["rules"]:
                write_constraints_rules(self.session, paths["rules"])
                written.append(paths["rules"])
        except (McmError, OSError) as e:
            message = problem(e) if isinstance(e, McmError) else f"{e.filename}: {e.strerror}"
            status.update(Text(message, style="bold red"))
            return
        out = Text(self.tr("export.wrote", files=", ".join(written)), style="green")
        if paths["rules"]:
            argv = self.session.cli_args(rules_file=paths["rules"])
            out.append(f"\n{self.tr('rec.cli')}: mcm advise {shlex.join(argv)}", style="dim")
        status.update(out)
        self.notify(self.tr("export.wrote", files=", ".join(written)))


__all__ = ["ExportScreen"]
