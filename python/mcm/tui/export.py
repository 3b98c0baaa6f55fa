"""What a guided session writes: the plan as JSON or Markdown, and the edited constraints as a ``.rules`` file.

Every file is written atomically: into a temporary file in the same directory, flushed and fsynced, then renamed
over the target (``os.replace``), so a reader sees the old file or the new one, never half of one; on failure the
temporary file is removed and :class:`ExportError` names the path. A face asks before it creates a missing folder
(:func:`folder_to_create`, :func:`create_folder`) and before it replaces files (:func:`existing_files`); told not
to overwrite, :func:`export_all` refuses a target that exists.

The ``.rules`` export is self-contained, so that ``mcm advise FILE --set ...`` works with it alone and gives the
session's decision: the chosen scenario written out with the session's constraints, then every technique and the
scenario's decision tables copied verbatim from the files the session loaded (includes are confined to the
including file's directory, so a file elsewhere could not include them). ``test`` blocks are left out: with
changed limits they may no longer hold. Before anything is written the text is parsed back and compared with what
the session decides on; a difference (say, a rules file edited since it was loaded) is an :class:`ExportError`.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from mcm.exceptions import RulesError
from mcm.files import OutputError, StrPath, check_target
from mcm.files import write_all as files_write_all
from mcm.present.language import Lang
from mcm.rules import writer
from mcm.sanitize import json_text
from mcm.tui.session import ConstraintRow, Session, SessionError, scenario_rows

if TYPE_CHECKING:
    from mcm.engine.decision import Decision
    from mcm.rules.ast import Assumption, Derivation, Pos, RuleSet, Scenario
    from mcm.rules.writer import Block


class ExportError(OutputError):
    """A file that could not be written (or an export that would not reproduce the session); ``path`` says which."""


# ---- writing (mcm.files, with its errors as ExportError)


def write_atomic(path: StrPath, text: str) -> Path:
    """Write ``text`` (UTF-8) to ``path`` atomically; returns the path. Raises :class:`ExportError`."""
    return write_all({path: text})[0]


def write_all(files: Mapping[StrPath, str]) -> list[Path]:
    """Write several files together, all or nothing as far as the system allows (see
    :func:`mcm.files.write_all`); an existing target keeps its permissions. Raises :class:`ExportError`."""
    try:
        return files_write_all(files)
    except OutputError as e:
        raise ExportError(str(e), e.path, e.hint) from e


# ---- the plan


def plan_json(decision: Decision) -> str:
    """The decision's JSON form (schema ``mcm.decision/2``), as ``mcm advise --format json`` prints it."""
    return json_text(json.dumps(decision.to_dict(), indent=2, ensure_ascii=False)) + "\n"


def write_plan_json(decision: Decision, path: str | os.PathLike[str]) -> Path:
    """Write :func:`plan_json` to ``path`` atomically."""
    return write_atomic(path, plan_json(decision))


def plan_markdown(decision: Decision, lang: Lang = "en") -> str:
    """The decision as Markdown, as ``mcm advise --format markdown`` prints it."""
    from mcm.present.decision import markdown

    return markdown(decision, lang)


def write_plan_markdown(decision: Decision, path: str | os.PathLike[str], lang: Lang = "en") -> Path:
    """Write :func:`plan_markdown` to ``path`` atomically."""
    return write_atomic(path, plan_markdown(decision, lang))


# ---- the constraints as rules


def constraints_rules_text(session: Session, filename: str = "<mcm-tui export>") -> str:
    """The chosen scenario with the session's constraints as a self-contained rules file (see the module
    docstring); ``filename`` names it in errors. Raises :class:`ExportError` or ``SessionError``."""
    from mcm import __version__

    ruleset = session.ruleset
    if session.scenario is None:
        raise SessionError("choose a scenario first", "the export writes the chosen scenario's constraints")
    scenario = ruleset.scenarios[session.scenario]
    sources = _Sources(session.loaded_from)
    rows = list(session.constraints)
    supplied: list[Derivation | Assumption] = [*ruleset.derivations, *ruleset.assumptions.values()]
    technique_files = list(dict.fromkeys(n.pos.file for n in (*ruleset.techniques.values(), *supplied)))
    out = [
        "mcm rules 1",
        f"# Exported by mcm-tui (mcm {__version__}) from scenario '{scenario.name}' of {scenario.pos.file},",
        "# with the constraints as edited in the session:",
        *(f"#   {edit}" for edit in _edits(session)),
        "# Self-contained: the techniques, the facts they derive or assume and the scenario's decision tables",
        f"# are copied from the rules the session loaded ({', '.join(technique_files)}); their test blocks",
        "# are left out, since edited limits may not keep them true. Use it on its own:",
        "#   mcm advise THIS_FILE --set METRIC=VALUE ...",
        "",
        writer.scenario_text(scenario, rows),
        "",
    ]
    for table in ruleset.decisions_for(scenario.name):
        out += [f"# from {table.pos.file}:{table.pos.line}", sources.block(table), ""]
    out.append("# ---- techniques")
    for technique in ruleset.techniques.values():
        out += ["", f"# from {technique.pos.file}:{technique.pos.line}", sources.block(technique)]
    if supplied:
        out += ["", "# ---- facts the rules derive or assume"]
    for statement in supplied:
        out += [f"# from {statement.pos.file}:{statement.pos.line}", sources.block(statement)]
    text = "\n".join(out) + "\n"
    _verify(text, filename, ruleset, scenario, rows)
    return text


def write_constraints_rules(session: Session, path: str | os.PathLike[str]) -> Path:
    """Write :func:`constraints_rules_text` to ``path`` atomically; never over a rules file the session reads."""
    return write_atomic(path, _rules_export(session, path))


def export_all(
    session: Session,
    decision: Decision,
    *,
    json_path: str | os.PathLike[str] | None = None,
    markdown_path: str | os.PathLike[str] | None = None,
    rules_path: str | os.PathLike[str] | None = None,
    overwrite: bool = True,
) -> list[Path]:
    """Write the plan as JSON and Markdown and the constraints as rules (each one given), all or nothing; with
    ``overwrite`` false, a target that exists already is an :class:`ExportError` and nothing is written."""
    named = [p for p in (json_path, markdown_path, rules_path) if p]
    check_targets(session, named)
    present = existing_files(named)
    if present and not overwrite:
        raise ExportError(
            f"{', '.join(map(str, present))}: already exist{'s' if len(present) == 1 else ''}",
            present[0],
            "write again to be asked whether to overwrite, or choose other names",
        )
    files: dict[str | os.PathLike[str], str] = {}
    if json_path:
        files[json_path] = plan_json(decision)
    if markdown_path:
        files[markdown_path] = plan_markdown(decision, session.lang)
    if rules_path:
        files[rules_path] = constraints_rules_text(session, os.fspath(rules_path))
    return write_all(files)


def check_targets(session: Session, paths: Iterable[StrPath]) -> None:
    """Raise :class:`ExportError` unless every one of ``paths`` can be written (absent or a regular file, in an
    existing folder), none is a rules file the session reads, and no two name the same file. Writes nothing."""
    seen: set[Path] = set()
    for path in paths:
        _refuse_input(session, path)
        resolved = Path(os.fspath(path)).resolve()
        if resolved in seen:
            raise ExportError(f"{path}: named for two exports", path, "give each a different name")
        seen.add(resolved)


def folder_to_create(folder: StrPath) -> Path | None:
    """``folder`` as a :class:`Path` when it does not exist yet (to be created once the user agrees), None when it
    is a folder; an :class:`ExportError` when it is something else."""
    path = Path(os.fspath(folder))
    if path.is_dir():
        return None
    if os.path.lexists(path):
        raise ExportError(
            f"{folder}: is not a folder", folder, "choose a folder, or a new name to create one"
        )
    return path


def create_folder(folder: StrPath) -> Path:
    """Create ``folder`` and the folders above it that are missing (mode 0777 less the umask); raises
    :class:`ExportError` with a hint."""
    path = Path(os.fspath(folder))
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        hint = (
            "choose a folder you can write to" if isinstance(e, PermissionError) else "choose another folder"
        )
        raise ExportError(f"cannot create the folder {folder}: {e.strerror or e}", folder, hint) from e
    return path


def existing_files(paths: Iterable[StrPath]) -> list[Path]:
    """Those of ``paths`` that exist already (whatever they are): what an export would replace."""
    return [Path(os.fspath(p)) for p in paths if p and os.path.lexists(p)]


def _rules_export(session: Session, path: str | os.PathLike[str]) -> str:
    """The rules text for ``path``, refused when ``path`` is one of the files the session reads."""
    _refuse_input(session, path)
    return constraints_rules_text(session, os.fspath(path))


def _refuse_input(session: Session, path: StrPath) -> None:
    """Raise :class:`ExportError` when ``path`` cannot be written, or is (by inode, whatever the path) one of the
    rules files the session reads: inputs stay as they are, whatever is exported."""
    inputs: dict[StrPath, str] = {
        Path(session.loaded_from, f.path): "one of the rules files this session reads"
        for f in session.ruleset.files
        if f.path != "<string>"
    }
    try:
        check_target(path, inputs)
    except OutputError as e:
        raise ExportError(str(e), e.path, e.hint) from e


def _edits(session: Session) -> list[str]:
    defaults = {r.metric for r in session.scenario_defaults()}
    edits = [
        f"{'changed' if r.metric in defaults else 'added'}: {r.text()}" for r in session.user_constraints()
    ]
    edits += [f"removed: {metric}" for metric in session.removed_constraints()]
    return edits or ["(none: the scenario's own)"]


class _Sources:
    """The loaded rules files, read again (as the loader reads them) to copy their blocks verbatim."""

    def __init__(self, cwd: str) -> None:
        self.cwd = cwd
        self.texts: dict[str, dict[Pos, str] | None] = {}

    def block(self, node: Block) -> str:
        """The text of the top-level block ``node`` was parsed from (keyword to closing brace)."""
        file = node.pos.file
        if file not in self.texts:
            try:
                data = Path(self.cwd, file).read_bytes()
            except OSError as e:
                raise ExportError(
                    f"cannot read {file} again to copy it: {e.strerror or e}", file, "reload the rules"
                ) from e
            self.texts[file] = writer.block_texts(data, file)
        found = (self.texts[file] or {}).get(node.pos)
        if found is None:
            raise ExportError(
                f"cannot find the block at {node.pos}: the file changed since it was loaded",
                file,
                "reload the rules (F5) and export again",
            )
        return found


def _verify(
    text: str, filename: str, ruleset: RuleSet, scenario: Scenario, rows: list[ConstraintRow]
) -> None:
    """Parse the export back: it must hold the same techniques and tables, and the scenario with ``rows``."""
    from mcm.rules import load_text

    hint = "reload the rules and export again; if it persists, please report it"
    try:
        exported = load_text(text, filename)
    except RulesError as e:
        first = e.errors[0].render() if e.errors else str(e)
        raise ExportError(f"the exported rules do not load:\n{first}", filename, hint) from e
    problems = []
    if list(exported.techniques.items()) != list(ruleset.techniques.items()):
        problems.append("the techniques differ")
    if list(exported.decisions.values()) != list(ruleset.decisions_for(scenario.name)):
        problems.append("the decision tables differ")
    if exported.derivations != ruleset.derivations or dict(exported.assumptions) != dict(ruleset.assumptions):
        problems.append("the derived or assumed facts differ")
    got = exported.scenarios.get(scenario.name)
    if got is None or len(exported.scenarios) != 1:
        problems.append("the scenario is missing")
    else:
        same_lists = all(
            [i.name for i in a] == [i.name for i in b]
            for a, b in (
                (got.core, scenario.core),
                (got.secondary, scenario.secondary),
                (got.ignore, scenario.ignore),
            )
        )
        same_expected = [(e.metric, e.low, e.high) for e in got.expected] == [
            (e.metric, e.low, e.high) for e in scenario.expected
        ]
        if not same_lists or not same_expected or got.stack != scenario.stack or got.label != scenario.label:
            problems.append("the scenario differs")
        if [(r.metric, r.op, r.value, r.hard) for r in scenario_rows(got)] != [
            (r.metric, r.op, r.value, r.hard) for r in rows
        ]:
            problems.append("the constraints differ")
    if problems:
        raise ExportError(
            f"the exported rules would not reproduce the session: {'; '.join(problems)}", filename, hint
        )


__all__ = [
    "ExportError",
    "check_targets",
    "constraints_rules_text",
    "create_folder",
    "existing_files",
    "export_all",
    "folder_to_create",
    "plan_json",
    "plan_markdown",
    "write_all",
    "write_atomic",
    "write_constraints_rules",
    "write_plan_json",
    "write_plan_markdown",
]
