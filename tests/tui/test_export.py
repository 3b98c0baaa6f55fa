"""What a guided session writes (mcm.tui.export): the plan as JSON and Markdown as the CLI prints them, the edited
constraints as a self-contained .rules file that gives the same decision, and writes that are atomic."""

from __future__ import annotations

import errno
import json
import os
import re
import shutil
from pathlib import Path
from typing import Any

import pytest

from mcm.advisor import Advisor
from mcm.cli.main import main
from mcm.engine.decision import SCHEMA
from mcm.rules import load_rules
from mcm.tui.export import (
    ExportError,
    check_targets,
    constraints_rules_text,
    create_folder,
    existing_files,
    export_all,
    folder_to_create,
    write_atomic,
    write_constraints_rules,
    write_plan_json,
    write_plan_markdown,
)
from mcm.tui.session import Session, SessionError

ROOT = Path(__file__).resolve().parents[2]
RULES = str(ROOT / "rules")
POSITION = re.compile(r"\S+\.rules:\d+:\d+")


def cli_out(capsys: pytest.CaptureFixture[str], args: list[str]) -> str:
    capsys.readouterr()
    code = main(["advise", *args])
    captured = capsys.readouterr()
    assert code in (0, 1, 3), captured.err
    return captured.out


def without_positions(value: Any) -> Any:
    """A decision's JSON form without what names the file a rule or limit came from (``pos``) or whether a limit
    was the scenario's or given (``source``), nor positions quoted in messages: an exported rules file moves these
    and nothing else."""
    if isinstance(value, dict):
        return {k: without_positions(v) for k, v in value.items() if k not in ("pos", "source")}
    if isinstance(value, list):
        return [without_positions(v) for v in value]
    if isinstance(value, str):
        return POSITION.sub("FILE:LINE:COL", value)
    return value


def edited_session(rules: str = RULES) -> Session:
    session = Session([rules])
    session.choose("mobile")
    session.set_constraint("latency_ms", "<", "0.08 s")
    session.set_constraint("memory_mb", "<=", "0.5 GB", hard=False)
    session.set_constraint("model_size_mb", "<", "12.345678901 MB")
    session.remove_constraint("power_w")
    for metric, text in {"model_size_mb": "30 MB", "latency_ms": "250 ms", "power_w": "3.5 W"}.items():
        session.set_measured(metric, text)
    session.set_measured("accuracy", "90 %")
    session.set_env("device", "cpu")
    session.set_env("cpu_vnni", "false")
    session.set_data("calibration", "true")
    return session


def listing(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir())


# ---- the plan


def test_the_plan_json_is_the_decisions_schema_and_what_the_cli_prints(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    session = Session([RULES])
    session.choose("general")
    session.set_measured("latency_ms", "120 ms")
    session.set_measured("model_size_mb", "98 MB")
    session.set_env("nvidia_gpu", "true")
    decision = session.decide()
    path = write_plan_json(decision, tmp_path / "plan.json")
    assert path == tmp_path / "plan.json"
    text = path.read_text("utf-8")
    assert json.loads(text)["schema"] == SCHEMA
    assert json.loads(text) == decision.to_dict()
    assert text == cli_out(capsys, [*session.cli_args(), "--format", "json"])
    assert listing(tmp_path) == ["plan.json"]


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_plan_markdown_is_what_the_cli_prints_in_either_language(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], lang: str
) -> None:
    session = edited_session()
    session.set_constraint("power_w", "<", "2 W")
    decision = session.decide()
    path = write_plan_markdown(decision, tmp_path / f"plan.{lang}.md", lang)  # type: ignore[arg-type]
    text = path.read_text("utf-8")
    assert text == cli_out(capsys, [*session.cli_args(), "--format", "markdown", "--lang", lang])
    if lang == "zh":
        assert "约束" in text and "方案" in text
    else:
        assert "Constraints" in text and "约束" not in text


# ---- atomic writes


def test_writing_into_a_missing_or_impossible_folder_fails_clearly_and_leaves_nothing(tmp_path: Path) -> None:
    decision = edited_session().decide()
    blocker = tmp_path / "a-file"
    blocker.write_text("x", "utf-8")
    for target, hint in (
        (tmp_path / "missing" / "plan.json", "does not exist"),
        (blocker / "plan.json", "is a file"),
    ):
        with pytest.raises(ExportError) as caught:
            write_plan_json(decision, target)
        assert str(target) in str(caught.value) and caught.value.path == str(target)
        assert caught.value.hint is not None and hint in caught.value.hint
        assert caught.value.exit_code == 2
    with pytest.raises(ExportError, match="is a directory"):
        write_plan_json(decision, tmp_path)
    assert listing(tmp_path) == ["a-file"]
    assert blocker.read_text("utf-8") == "x"


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root writes into read-only folders")
def test_writing_into_a_read_only_folder_fails_clearly(tmp_path: Path) -> None:
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        with pytest.raises(ExportError) as caught:
            write_atomic(locked / "plan.json", "{}")
        assert caught.value.hint == "choose a folder you can write to"
        assert listing(locked) == []
    finally:
        locked.chmod(0o700)


def test_a_refused_write_says_to_choose_another_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_open = os.open

    def refusing_open(path: Any, flags: int, mode: int = 0o777) -> int:
        if str(path).endswith(".tmp"):
            raise PermissionError(errno.EACCES, "Permission denied", str(path))
        return real_open(path, flags, mode)

    monkeypatch.setattr(os, "open", refusing_open)
    with pytest.raises(ExportError) as caught:
        write_atomic(tmp_path / "plan.json", "{}")
    assert "Permission denied" in str(caught.value)
    assert caught.value.hint == "choose a folder you can write to"
    assert listing(tmp_path) == []


def test_a_failed_write_keeps_the_old_file_whole_and_removes_the_temporary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "plan.json"
    target.write_text('{"old": true}\n', "utf-8")

    def failing_fsync(fd: int) -> None:
        raise OSError(errno.EIO, "Input/output error")

    monkeypatch.setattr(os, "fsync", failing_fsync)
    with pytest.raises(ExportError) as caught:
        write_atomic(target, '{"new": true}\n' * 1000)
    assert "Input/output error" in str(caught.value) and str(target) in str(caught.value)
    monkeypatch.undo()
    assert target.read_text("utf-8") == '{"old": true}\n'
    assert listing(tmp_path) == ["plan.json"]
    write_atomic(target, "é\n")
    assert target.read_bytes() == "é\n".encode()
    assert listing(tmp_path) == ["plan.json"]


def test_a_new_file_gets_ordinary_permissions(tmp_path: Path) -> None:
    path = write_atomic(tmp_path / "plan.md", "# plan\n")
    mask = os.umask(0)
    os.umask(mask)
    assert path.stat().st_mode & 0o777 == 0o666 & ~mask


# ---- the constraints as a rules file


def test_the_exported_rules_stand_alone_and_give_the_sessions_decision(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    session = edited_session()
    decision = session.decide()
    path = write_constraints_rules(session, tmp_path / "my-mobile.rules")
    text = path.read_text("utf-8")
    assert text.startswith("mcm rules 1\n# Exported by mcm-tui")
    assert "mobile.rules" in text.splitlines()[1]
    assert "removed: power_w" in text and "changed: latency_ms < 80 ms" in text
    assert "include" not in text and "\ntest " not in text
    assert "require   latency_ms < 80 ms" in text and "prefer    memory_mb <= 512 MB" in text
    assert "require   model_size_mb < 12.345678901 MB" in text
    scenario_block = text.split("scenario mobile", 1)[1].split("}", 1)[0]
    assert "power_w <" not in scenario_block and "core      model_size_mb, power_w" in scenario_block

    ruleset = load_rules(path)
    assert list(ruleset.scenarios) == ["mobile"]
    assert list(ruleset.techniques) == list(session.ruleset.techniques)
    alone = Advisor(ruleset).advise(
        measured=session.measured, env=session.env, data=session.data
    )  # no constraints given: they are the file's
    assert without_positions(alone.to_dict()) == without_positions(decision.to_dict())
    assert {c.source for c in alone.constraints} == {"scenario"}

    args = session.cli_args(rules_file=path)
    assert args[0] == str(path) and "--constraint" not in args
    cli = json.loads(cli_out(capsys, [*args, "--format", "json"]))
    assert without_positions(cli) == without_positions(decision.to_dict())
    # and with only --set, as a user would run it
    sets = [a for pair in zip(args[3::2], args[4::2], strict=True) for a in pair if pair[0] == "--set"]
    cli_sets = json.loads(cli_out(capsys, [str(path), *sets, "--format", "json"]))
    assert cli_sets["constraints"] == cli["constraints"]


@pytest.mark.parametrize("scenario", ["general", "video", "cloud", "edge", "iot"])
def test_every_shipped_scenario_exports_unchanged_to_the_same_decision(tmp_path: Path, scenario: str) -> None:
    session = Session([RULES])
    session.choose(scenario)
    session.set_measured("latency_ms", "120 ms")
    session.set_measured("model_size_mb", "98 MB")
    session.set_measured("accuracy", "0.9")
    session.set_env("nvidia_gpu", "false")
    decision = session.decide()
    path = write_constraints_rules(session, tmp_path / f"{scenario}.rules")
    assert "(none: the scenario's own)" in path.read_text("utf-8")
    alone = Advisor.from_files(path).advise(measured=session.measured, env=session.env, data=session.data)
    assert without_positions(alone.to_dict()) == without_positions(decision.to_dict())
    assert [t.table for t in alone.trace] == [t.table for t in decision.trace]


def test_the_export_never_overwrites_a_rules_file_it_reads(tmp_path: Path) -> None:
    rules = tmp_path / "rules"
    shutil.copytree(ROOT / "rules", rules, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    session = edited_session(str(rules))
    before = (rules / "mobile.rules").read_text("utf-8")
    for target in (
        rules / "mobile.rules",
        rules / "techniques.rules",
        rules / ".." / "rules" / "mobile.rules",
    ):
        with pytest.raises(ExportError, match="inputs are never modified"):
            write_constraints_rules(session, target)
    decision = session.decide()
    for kind in ("json_path", "markdown_path"):  # nor does the plan, in either form
        with pytest.raises(ExportError, match="inputs are never modified"):
            kwargs: dict[str, Any] = {kind: rules / "mobile.rules"}
            export_all(session, decision, **kwargs)
    assert (rules / "mobile.rules").read_text("utf-8") == before


def test_export_all_writes_every_file_or_none(tmp_path: Path) -> None:
    session = edited_session()
    decision = session.decide()
    (tmp_path / "busy.md").mkdir()
    with pytest.raises(ExportError, match="it is a directory"):
        export_all(session, decision, json_path=tmp_path / "p.json", markdown_path=tmp_path / "busy.md")
    assert listing(tmp_path) == ["busy.md"]
    with pytest.raises(ExportError, match="named for two exports"):
        export_all(session, decision, json_path=tmp_path / "same", markdown_path=tmp_path / "same")
    written = export_all(
        session,
        decision,
        json_path=tmp_path / "p.json",
        markdown_path=tmp_path / "p.md",
        rules_path=tmp_path / "c.rules",
    )
    assert [p.name for p in written] == ["p.json", "p.md", "c.rules"]
    assert json.loads((tmp_path / "p.json").read_text("utf-8")) == decision.to_dict()


def test_export_all_told_not_to_overwrite_writes_nothing_over_an_existing_file(tmp_path: Path) -> None:
    session = edited_session()
    decision = session.decide()
    (tmp_path / "p.md").write_text("old")
    json_path, markdown_path = tmp_path / "p.json", tmp_path / "p.md"
    assert existing_files([json_path, markdown_path, ""]) == [markdown_path]
    with pytest.raises(ExportError, match=r"p\.md: already exists"):
        export_all(session, decision, json_path=json_path, markdown_path=markdown_path, overwrite=False)
    assert listing(tmp_path) == ["p.md"] and (tmp_path / "p.md").read_text() == "old"
    export_all(session, decision, json_path=json_path, markdown_path=markdown_path)
    assert (tmp_path / "p.md").read_text("utf-8").startswith("# mcm advise")


def test_a_missing_folder_is_named_and_created_only_when_asked_to(tmp_path: Path) -> None:
    assert folder_to_create(tmp_path) is None
    new = tmp_path / "a" / "b"
    assert folder_to_create(new) == new and not new.exists()  # naming it creates nothing
    assert create_folder(new) == new and new.is_dir()
    (tmp_path / "file").write_text("")
    with pytest.raises(ExportError, match="is not a folder"):
        folder_to_create(tmp_path / "file")
    with pytest.raises(ExportError, match="cannot create the folder"):
        create_folder(tmp_path / "file" / "below")


def test_check_targets_refuses_before_anything_is_written(tmp_path: Path) -> None:
    session = edited_session()
    (tmp_path / "d").mkdir()
    with pytest.raises(ExportError, match="it is a directory"):
        check_targets(session, [tmp_path / "ok.json", tmp_path / "d"])
    with pytest.raises(ExportError, match="named for two exports"):
        check_targets(session, [tmp_path / "x", tmp_path / "x"])
    assert listing(tmp_path) == ["d"]


@pytest.mark.skipif(os.name != "posix", reason="POSIX permissions")
def test_an_existing_file_keeps_its_permissions(tmp_path: Path) -> None:
    target = tmp_path / "private.json"
    target.write_text("old")
    target.chmod(0o600)
    write_atomic(target, "new")
    assert target.read_text() == "new" and oct(target.stat().st_mode & 0o777) == "0o600"


def test_a_rules_file_edited_since_loading_is_caught_before_writing(tmp_path: Path) -> None:
    rules = tmp_path / "rules"
    shutil.copytree(ROOT / "rules", rules, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    session = edited_session(str(rules))
    techniques = rules / "techniques.rules"
    techniques.write_text(techniques.read_text("utf-8").replace("difficulty 2", "difficulty 3", 1), "utf-8")
    with pytest.raises(ExportError, match="techniques differ") as caught:
        write_constraints_rules(session, tmp_path / "out.rules")
    assert caught.value.hint is not None and "reload" in caught.value.hint
    assert not (tmp_path / "out.rules").exists()
    session.reload()
    write_constraints_rules(session, tmp_path / "out.rules")
    assert "difficulty 3" in (tmp_path / "out.rules").read_text("utf-8")


def test_braces_and_quotes_inside_strings_and_comments_are_copied_whole(tmp_path: Path) -> None:
    source = tmp_path / "tricky.rules"
    source.write_text(
        "mcm rules 1\n"
        '# a comment with a brace } and a quote "\n'
        'scenario s "a \\"quoted\\" {label}" {\n'
        "  core latency_ms\n"
        "  require latency_ms < 100 ms  # } not the end\n"
        "}\n"
        'technique t "T {x}" { effect latency_ms /= 2x  requires env.nvidia_gpu because "needs } a \\\\ GPU" }\n'
        "technique u { effect model_size_mb /= 2 }\n"
        "decide for s policy first {\n"
        '  rule r: when measured.latency_ms > constraint.latency_ms then recommend t because "slow {"\n'
        '  otherwise recommend none because "fine }"\n'
        "}\n"
        'test "t" { given measured.latency_ms = 200 ms, env.nvidia_gpu = true  expect recommend t }\n',
        "utf-8",
    )
    session = Session([source])
    assert session.error is None, session.error
    session.choose("s")
    session.set_constraint("latency_ms", "<", "50 ms")
    session.set_measured("latency_ms", "70 ms")
    session.set_env("nvidia_gpu", "true")
    text = constraints_rules_text(session)
    assert 'technique t "T {x}" {' in text and 'because "needs } a \\\\ GPU" }' in text
    assert 'scenario s "a \\"quoted\\" {label}" {' in text
    exported = tmp_path / "out.rules"
    exported.write_text(text, "utf-8")
    alone = Advisor.from_files(exported).advise(measured=session.measured, env=session.env)
    assert without_positions(alone.to_dict()) == without_positions(session.decide().to_dict())
    assert alone.recommended == ("t",)


def test_exporting_needs_a_chosen_scenario_and_loaded_rules(tmp_path: Path) -> None:
    session = Session([RULES])
    with pytest.raises(SessionError, match="choose a scenario"):
        write_constraints_rules(session, tmp_path / "x.rules")
    broken = tmp_path / "broken.rules"
    broken.write_text("mcm rules 1\nscenario {\n", "utf-8")
    with pytest.raises(SessionError, match="did not load"):
        constraints_rules_text(Session([broken]))
    assert listing(tmp_path) == ["broken.rules"]
