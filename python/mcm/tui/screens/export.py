"""Step 5: write the plan as JSON and Markdown, and the edited constraints as a ``.rules`` file that
``mcm advise`` accepts, into one folder, all or nothing; show the command that reproduces the decision from it."""

from __future__ import annotations

import os
import shlex
from collections.abc import Iterable
from pathlib import Path
from typing import ClassVar

from rich.text import Text
from textual import on
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.widget import Widget
from textual.widgets import Button, Input, Static

from mcm.exceptions import McmError
from mcm.tui.export import ExportError
from mcm.tui.screens.base import StepScreen, problem

_FIELDS = (
    ("folder", "export.folder"),
    ("json", "export.json"),
    ("markdown", "export.markdown"),
    ("rules", "export.rules"),
)


class ExportScreen(StepScreen):
    """Choose the file names and write them (atomically, by :mod:`mcm.tui.export`)."""

    STEP = "export"
    BINDINGS: ClassVar[list[BindingType]] = [Binding("ctrl+s", "write", "Write files", priority=True)]

    def body(self) -> Iterable[Widget]:
        with VerticalScroll(id="export-scroll"):
            yield Static(self.tr("export.title"), classes="section", markup=False)
            for key, text in _FIELDS:
                with Horizontal(classes="form-row"):
                    yield Static(self.tr(text), classes="metric", markup=False)
                    yield Input(id=f"export-{key}", compact=True)
            with Horizontal(classes="form-row"):
                yield Button(self.tr("key.write") + " (ctrl+s)", id="write", compact=True)
            yield Static("", id="export-status", markup=False)
            yield Static(self.tr("export.preview"), classes="section", markup=False)
            yield Static("", id="rules-preview", markup=False)

    def refresh_view(self) -> None:
        from mcm.tui.export import constraints_rules_text

        name = self.session.scenario or "mcm"
        for key, default in (
            ("folder", "."),
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
        from mcm.tui.export import export_all

        status = self.query_one("#export-status", Static)
        fields = {key: self.query_one(f"#export-{key}", Input).value.strip() for key, _ in _FIELDS}
        folder = Path(os.path.expanduser(fields.pop("folder") or "."))
        paths = {key: str(folder / name) if name else "" for key, name in fields.items()}
        try:
            if not folder.is_dir():
                raise ExportError(
                    self.tr("export.no_folder", folder=folder), folder, self.tr("export.no_folder_hint")
                )
            written = export_all(
                self.session,
                self.session.decide(),  # the inputs as they are now, not the plan last shown
                json_path=paths["json"],
                markdown_path=paths["markdown"],
                rules_path=paths["rules"],
            )
        except McmError as e:
            status.update(Text(problem(e), style="bold red"))
            return
        names = ", ".join(str(p) for p in written)
        out = Text(self.tr("export.wrote", files=names), style="green")
        if paths["rules"]:
            argv = self.session.cli_args(rules_file=paths["rules"])
            out.append(f"\n{self.tr('rec.cli')}: mcm advise {shlex.join(argv)}", style="dim")
        status.update(out)
        self.notify(self.tr("export.wrote", files=names), markup=False)


__all__ = ["ExportScreen"]
