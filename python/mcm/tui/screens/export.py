"""Step 5: write the plan as JSON and Markdown, and the edited constraints as a ``.rules`` file that
``mcm advise`` accepts, into one folder, all or nothing; show the command that reproduces the decision from it.
A missing folder is created, and existing files are replaced, only after a yes (:class:`Confirm`); a no writes
nothing."""

from __future__ import annotations

import contextlib
import os
import shlex
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widget import Widget
from textual.widgets import Button, Footer, Input, Static

from mcm.exceptions import McmError
from mcm.present.language import Lang
from mcm.tui.export import check_targets, create_folder, existing_files, export_all, folder_to_create
from mcm.tui.i18n import localize_bindings, t
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
        status = self.query_one("#export-status", Static)
        refusal = self.refusal()  # fields invalid on another step, or a measurement running
        if refusal is not None:
            status.update(Text(refusal, style="bold red"))
            return
        fields = {key: self.query_one(f"#export-{key}", Input).value.strip() for key, _ in _FIELDS}
        folder = Path(os.path.expanduser(fields.pop("folder") or "."))
        paths = {key: str(folder / name) if name else "" for key, name in fields.items()}
        try:
            missing = folder_to_create(folder)
        except McmError as e:
            status.update(Text(problem(e), style="bold red"))
            return
        if missing is None:
            self._confirm_overwrite(paths, None)
        else:
            self._ask(self.tr("export.create_folder", folder=missing), lambda: self._create(missing, paths))

    def _ask(self, question: str, then: Callable[[], None]) -> None:
        """Ask ``question``; ``then()`` on yes, "nothing written" on no."""

        def answered(yes: bool | None) -> None:
            if yes:
                then()
            else:
                self.query_one("#export-status", Static).update(
                    Text(self.tr("export.declined"), style="yellow")
                )

        self.app.push_screen(Confirm(question, self.lang), answered)

    def _create(self, folder: Path, paths: dict[str, str]) -> None:
        try:
            create_folder(folder)
        except McmError as e:
            self.query_one("#export-status", Static).update(Text(problem(e), style="bold red"))
            return
        self._confirm_overwrite(paths, folder)

    def _confirm_overwrite(self, paths: dict[str, str], created: Path | None) -> None:
        """Check the targets (nothing is asked about files that cannot be written); ask before replacing any."""
        named = [p for p in paths.values() if p]
        try:
            check_targets(self.session, named)
        except McmError as e:
            self._failed(e, created)
            return
        present = existing_files(named)
        if not present:
            self._write(paths, created, overwrite=False)
            return
        files = ", ".join(p.name for p in present)
        self._ask(
            self.tr("export.overwrite", files=files), lambda: self._write(paths, created, overwrite=True)
        )

    def _write(self, paths: dict[str, str], created: Path | None, *, overwrite: bool) -> None:
        status = self.query_one("#export-status", Static)
        try:
            written = export_all(
                self.session,
                self.session.decide(),  # the inputs as they are now, not the plan last shown
                json_path=paths["json"],
                markdown_path=paths["markdown"],
                rules_path=paths["rules"],
                overwrite=overwrite,  # a file that appeared since the question is not replaced unasked
            )
        except McmError as e:
            self._failed(e, created)
            return
        names = ", ".join(str(p) for p in written)
        out = Text(self.tr("export.wrote", files=names), style="green")
        if paths["rules"]:
            argv = self.session.cli_args(rules_file=paths["rules"])
            out.append(f"\n{self.tr('rec.cli')}: mcm advise {shlex.join(argv)}", style="dim")
        status.update(out)
        self.notify(self.tr("export.wrote", files=names), markup=False)

    def _failed(self, error: McmError, created: Path | None) -> None:
        """Show ``error``; a folder created for this export and left empty is removed (nothing written)."""
        if created is not None:
            with contextlib.suppress(OSError):
                created.rmdir()
        self.query_one("#export-status", Static).update(Text(problem(error), style="bold red"))


class Confirm(ModalScreen[bool]):
    """A yes / no question over the current step: y or Yes answers yes; n, escape or No answers no."""

    DEFAULT_CSS = """
    Confirm { align: center middle; }
    #confirm-box { width: auto; max-width: 80%; height: auto; border: thick $warning; padding: 1 2;
                   background: $surface; }
    #confirm-text { width: auto; margin-bottom: 1; }
    #confirm-buttons { width: auto; height: auto; }
    #confirm-buttons Button { margin-right: 2; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("y", "answer(True)", "Yes"),
        Binding("n,escape", "answer(False)", "No"),
    ]

    def __init__(self, question: str, lang: Lang) -> None:
        super().__init__()
        self.question = question
        self.lang = lang
        localize_bindings(self, lang)

    def compose(self) -> ComposeResult:
        with Vertical(id="confirm-box"):
            yield Static(self.question, id="confirm-text", markup=False)
            with Horizontal(id="confirm-buttons"):
                yield Button(t("confirm.yes", self.lang) + " (y)", id="confirm-yes", compact=True)
                yield Button(t("confirm.no", self.lang) + " (n)", id="confirm-no", compact=True)
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#confirm-no", Button).focus()  # enter alone never overwrites

    @on(Button.Pressed, "#confirm-yes")
    def _yes(self) -> None:
        self.dismiss(True)

    @on(Button.Pressed, "#confirm-no")
    def _no(self) -> None:
        self.dismiss(False)

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)


__all__ = ["Confirm", "ExportScreen"]
