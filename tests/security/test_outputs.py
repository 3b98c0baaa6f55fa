"""What mcm writes (mcm.files, `mcm measure --out`, `mcm optimize --out`): regular files only, never over an input,
never through a device, FIFO or link, atomically, following the umask, and two runs on one --out lose neither."""

from __future__ import annotations

import json
import os
import shutil
import socket
import stat
import subprocess
import sys
import textwrap
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from mcm import demo
from mcm.cli.main import main
from mcm.exceptions import McmError, OptimizeError
from mcm.files import OutputError, check_target, staged_directory, write_all, write_atomic

ROOT = Path(__file__).resolve().parents[2]
RULES = ROOT / "rules"
FAST = ("--min-time", "0.05", "--min-count", "5", "--batch", "1")
Snapshot = dict[str, tuple[str, Any, int]]
RunCli = Callable[[Sequence[str]], tuple[int, str, str]]


def snapshot(directory: Path) -> Snapshot:
    """Every entry under ``directory``: its kind, its bytes (files) or link target (links), and its mode."""
    found: Snapshot = {}
    for folder, dirs, files in os.walk(directory):
        for name in [*dirs, *files]:
            path = Path(folder, name)
            st = path.lstat()
            if stat.S_ISLNK(st.st_mode):
                found[str(path)] = ("link", os.readlink(path), st.st_mode)
            elif stat.S_ISREG(st.st_mode):
                found[str(path)] = ("file", path.read_bytes(), st.st_mode)
            else:
                found[str(path)] = (oct(stat.S_IFMT(st.st_mode)), None, st.st_mode)
    return found


def mode(path: Path) -> int:
    return path.lstat().st_mode & 0o777


@pytest.fixture
def model(tmp_path: Path) -> Path:
    """A copy of the demo model in ``tmp_path``."""
    return Path(shutil.copyfile(demo.ONNX_PATH, tmp_path / "model.onnx"))


@pytest.fixture
def no_measuring(monkeypatch: pytest.MonkeyPatch) -> None:
    """A refusal must come before the measurement, not after it."""
    import mcm.measure

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("measured before refusing --out")

    monkeypatch.setattr(mcm.measure, "measure_model", refuse)


@pytest.fixture
def umask() -> Iterator[Callable[[int], None]]:
    """Set this process's umask for the test; the old one comes back after it."""
    old = os.umask(0o022)
    os.umask(old)
    try:
        yield lambda mask: os.umask(mask) and None
    finally:
        os.umask(old)


def refused(rc: int, err: str, *words: str) -> None:
    assert rc == 2, err
    assert "Traceback" not in err and err.startswith("mcm: error: "), err
    for word in words:
        assert word in err, err


# ---- mcm measure --out: never an input, never anything but a regular file


def test_measure_out_is_never_the_model(
    tmp_path: Path, model: Path, run_cli: RunCli, no_measuring: None
) -> None:
    before = snapshot(tmp_path)
    rc, out, err = run_cli(["measure", str(model), *FAST, "--out", str(model)])
    refused(rc, err, f"refused to write {model}: it is the model being measured", "hint: ")
    assert out == "" and snapshot(tmp_path) == before


def test_measure_out_is_never_a_link_to_the_model(
    tmp_path: Path, model: Path, run_cli: RunCli, no_measuring: None
) -> None:
    (tmp_path / "soft.txt").symlink_to(model)
    os.link(model, tmp_path / "hard.txt")
    before = snapshot(tmp_path)
    rc, _, err = run_cli(["measure", str(model), *FAST, "--out", str(tmp_path / "soft.txt")])
    refused(rc, err, "it is a symbolic link to the model being measured")
    rc, _, err = run_cli(["measure", str(model), *FAST, "--out", str(tmp_path / "hard.txt")])
    refused(rc, err, "it is a hard link to the model being measured")
    # nor the model named through a link: the same file is refused whatever path leads to it
    rc, _, err = run_cli(["measure", str(tmp_path / "soft.txt"), *FAST, "--out", str(model)])
    refused(rc, err, "it is the model being measured")
    assert snapshot(tmp_path) == before


def test_measure_out_is_never_the_demo_model(tmp_path: Path, run_cli: RunCli, no_measuring: None) -> None:
    before = snapshot(demo.HERE)
    for path in (demo.ONNX_PATH, demo.EVAL_PATH):
        rc, _, err = run_cli(["measure", "demo", *FAST, "--out", str(path)])
        refused(rc, err, "refused to write", "inputs are never modified")
    assert snapshot(demo.HERE) == before


@pytest.mark.parametrize(
    ("flag", "source", "role"),
    [
        ("--data", demo.EVAL_PATH, "the --data file"),
        ("--reference", demo.ONNX_PATH, "the --reference model"),
    ],
)
def test_measure_out_is_never_the_data_or_the_reference(
    tmp_path: Path, model: Path, run_cli: RunCli, no_measuring: None, flag: str, source: Path, role: str
) -> None:
    other = Path(shutil.copyfile(source, tmp_path / f"other{source.suffix}"))
    before = snapshot(tmp_path)
    rc, _, err = run_cli(["measure", str(model), *FAST, flag, str(other), "--out", str(other)])
    refused(rc, err, f"it is {role}")
    assert snapshot(tmp_path) == before


def test_measure_out_is_never_a_file_the_model_is_made_of(tmp_path: Path, run_cli: RunCli) -> None:
    import onnx

    model = tmp_path / "external.onnx"
    onnx.save(
        onnx.load(str(demo.ONNX_PATH)),
        str(model),
        save_as_external_data=True,
        all_tensors_to_one_file=True,
        location="weights.bin",
        size_threshold=1024,
    )
    before = snapshot(tmp_path)
    rc, out, err = run_cli(["measure", str(model), *FAST, "--out", str(tmp_path / "weights.bin")])
    refused(rc, err, "it is a file of the model being measured")
    assert out == "" and snapshot(tmp_path) == before


def test_measure_out_never_goes_through_a_fifo(tmp_path: Path, run_cli: RunCli, no_measuring: None) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    before = snapshot(tmp_path)
    rc, _, err = run_cli(["measure", "demo", *FAST, "--out", str(fifo)])
    refused(rc, err, f"cannot write {fifo}: it is a FIFO, not a regular file", "hint: choose a regular file")
    assert stat.S_ISFIFO(fifo.lstat().st_mode) and snapshot(tmp_path) == before


def test_measure_out_never_touches_a_device(
    run_cli: RunCli, no_measuring: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    device = Path("/dev/full")
    if not device.exists() or not stat.S_ISCHR(device.lstat().st_mode):
        pytest.skip("no /dev/full character device here")
    real_open, real_replace = os.open, os.replace

    def guarded_open(path: Any, flags: int, mode: int = 0o777, **kwargs: Any) -> int:
        assert not (str(path).startswith("/dev/") and flags & os.O_CREAT), f"created {path}"
        return real_open(path, flags, mode, **kwargs)

    def guarded_replace(src: Any, dst: Any, **kwargs: Any) -> None:
        assert not str(dst).startswith("/dev/"), f"replaced {dst}"
        real_replace(src, dst, **kwargs)

    monkeypatch.setattr(os, "open", guarded_open)
    monkeypatch.setattr(os, "replace", guarded_replace)
    before = device.lstat()
    rc, _, err = run_cli(["measure", "demo", *FAST, "--out", str(device)])
    refused(rc, err, "cannot write /dev/full: it is a character device, not a regular file")
    after = device.lstat()
    assert (after.st_ino, after.st_mode, after.st_rdev) == (before.st_ino, before.st_mode, before.st_rdev)
    assert not [p for p in Path("/dev").iterdir() if p.name.startswith(".full.")]


def test_measure_out_to_a_directory_under_a_file_or_in_a_missing_folder_is_a_clear_error(
    tmp_path: Path, run_cli: RunCli, no_measuring: None
) -> None:
    (tmp_path / "dir").mkdir()
    (tmp_path / "file").write_text("keep")
    before = snapshot(tmp_path)
    cases = [
        (tmp_path / "dir", "it is a directory", "name a file inside it"),
        (tmp_path / "file" / "r.json", "Not a directory", "part of its path is a file, not a folder"),
        (tmp_path / "missing" / "r.json", "No such file or directory", "its folder does not exist"),
    ]
    for target, message, hint in cases:
        rc, out, err = run_cli(["measure", "demo", *FAST, "--out", str(target)])
        refused(rc, err, f"cannot write {target}: {message}", f"hint: {hint}")
        assert out == "" and len(err.splitlines()) == 2
    assert snapshot(tmp_path) == before


def test_measure_out_keeps_the_mode_of_an_existing_report(tmp_path: Path, run_cli: RunCli) -> None:
    target = tmp_path / "r.json"
    target.write_text("old")
    target.chmod(0o640)
    rc, _, err = run_cli(["measure", "demo", *FAST, "--out", str(target)])
    assert rc == 0, err
    assert json.loads(target.read_text())["schema"] == "mcm.measure/1"
    assert mode(target) == 0o640 and sorted(p.name for p in tmp_path.iterdir()) == ["r.json"]


@pytest.mark.parametrize(("mask", "expected"), [(0o022, 0o644), (0o077, 0o600)])
def test_measure_out_makes_a_new_report_following_the_umask(tmp_path: Path, mask: int, expected: int) -> None:
    target = tmp_path / "r.txt"
    code = textwrap.dedent(
        f"""
        import os, sys
        os.umask({mask})
        from mcm.cli.main import main
        sys.exit(main(["measure", "demo", *{list(FAST)!r}, "--out", {str(target)!r}]))
        """
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert mode(target) == expected
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.txt"]


def test_measure_out_format_follows_format_else_the_suffix(tmp_path: Path, run_cli: RunCli) -> None:
    for name, extra, is_json in (
        ("r.json", [], True),
        ("r.JSON", [], True),
        ("r.txt", [], False),
        ("r.md", [], False),
        ("forced.json", ["--format", "text"], False),
        ("forced.txt", ["--format", "json"], True),
    ):
        rc, out, err = run_cli(["measure", "demo", *FAST, *extra, "--out", str(tmp_path / name)])
        assert rc == 0 and out == "", err
        text = (tmp_path / name).read_text()
        assert text.startswith("{") is is_json, name
        if is_json:
            assert json.loads(text)["schema"] == "mcm.measure/1"


def test_measure_out_help_says_how_the_format_is_chosen(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["measure", "--help"])
    help_text = " ".join(capsys.readouterr().out.split())
    assert ".json" in help_text and "never one of the inputs" in help_text


# ---- the helper: files


def test_a_new_file_follows_the_umask_and_an_existing_one_keeps_its_mode(
    tmp_path: Path, umask: Callable[[int], None]
) -> None:
    for mask, expected in ((0o022, 0o644), (0o077, 0o600), (0o002, 0o664)):
        umask(mask)
        path = write_atomic(tmp_path / f"new-{mask:o}", "x")
        assert mode(path) == expected
    umask(0o077)
    (tmp_path / "old").write_text("old")
    (tmp_path / "old").chmod(0o644)
    write_atomic(tmp_path / "old", b"new")
    assert mode(tmp_path / "old") == 0o644 and (tmp_path / "old").read_bytes() == b"new"


def test_the_target_must_be_absent_or_a_regular_file(tmp_path: Path) -> None:
    (tmp_path / "dir").mkdir()
    (tmp_path / "file").write_text("x")
    (tmp_path / "link").symlink_to(tmp_path / "file")
    (tmp_path / "dangling").symlink_to(tmp_path / "nowhere")
    (tmp_path / "dirlink").symlink_to(tmp_path / "dir")
    os.mkfifo(tmp_path / "fifo")
    sock = socket.socket(socket.AF_UNIX)
    short = Path(f"/tmp/mcm-test-{os.getpid()}.sock")
    sock.bind(str(short))
    try:
        before = snapshot(tmp_path)
        for name, words in (
            ("dir", "it is a directory"),
            ("link", "it is a symbolic link"),
            ("dangling", "it is a symbolic link"),
            ("dirlink", "it is a symbolic link"),
            ("fifo", "it is a FIFO"),
        ):
            with pytest.raises(OutputError, match=words) as caught:
                write_atomic(tmp_path / name, "new")
            assert caught.value.path == str(tmp_path / name) and caught.value.exit_code == 2
            assert caught.value.hint
        with pytest.raises(OutputError, match="it is a socket"):
            check_target(short)
        assert snapshot(tmp_path) == before
        assert check_target("relative-name") == Path.cwd() / "relative-name"
    finally:
        sock.close()
        short.unlink()


def test_an_input_is_refused_by_identity_not_by_name(tmp_path: Path) -> None:
    data = tmp_path / "data.npz"
    data.write_bytes(b"data")
    os.link(data, tmp_path / "hard")
    (tmp_path / "alias.npz").symlink_to(data)
    inputs = {tmp_path / "alias.npz": "the data"}  # the input named through a link
    before = snapshot(tmp_path)
    for target, words in (
        (data, "it is the data"),
        (tmp_path / "sub" / ".." / "data.npz", "it is the data"),
        (tmp_path / "hard", "it is a hard link to the data"),
        (tmp_path / "alias.npz", "it is a symbolic link to the data"),
    ):
        with pytest.raises(OutputError, match=words) as caught:
            write_all({tmp_path / "other": "x", target: "x"}, inputs)
        assert "inputs are never modified" in str(caught.value)
    assert snapshot(tmp_path) == before
    write_atomic(
        tmp_path / "other", "x", {tmp_path / "absent": "gone", **inputs}
    )  # an absent input is no match


def test_write_all_writes_every_file_or_none(tmp_path: Path) -> None:
    (tmp_path / "a").write_text("old a")
    before = snapshot(tmp_path)
    with pytest.raises(OutputError, match="No such file or directory"):
        write_all({tmp_path / "a": "new a", tmp_path / "missing" / "b": "new b"})
    assert snapshot(tmp_path) == before
    assert write_all({tmp_path / "a": "new a", tmp_path / "b": b"new b"}) == [tmp_path / "a", tmp_path / "b"]
    assert (tmp_path / "a").read_text() == "new a" and sorted(os.listdir(tmp_path)) == ["a", "b"]


@pytest.mark.parametrize("where", ["open", "fsync", "replace"])
def test_any_interruption_removes_the_temporaries_and_keeps_the_old_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, where: str
) -> None:
    (tmp_path / "a").write_text("old a")
    (tmp_path / "b").write_text("old b")
    before = snapshot(tmp_path)
    calls = {"n": 0}

    def interrupt(*args: Any, **kwargs: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == 2:  # the second file, so that the first is staged (or written) already
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    real = getattr(os, where)
    monkeypatch.setattr(os, where, interrupt)
    with pytest.raises(KeyboardInterrupt):
        write_all({tmp_path / "a": "new a", tmp_path / "b": "new b"})
    monkeypatch.undo()
    after = snapshot(tmp_path)
    assert sorted(after) == sorted(before)  # no temporary left behind
    if where != "replace":
        assert after == before


# ---- the helper: directories


def test_a_staged_directory_appears_whole_with_the_umask(
    tmp_path: Path, umask: Callable[[int], None]
) -> None:
    for mask, dirs, files in ((0o022, 0o755, 0o644), (0o077, 0o700, 0o600)):
        umask(mask)
        target = tmp_path / f"out-{mask:o}"
        with staged_directory(target) as stage:
            assert stage.parent == tmp_path and stage.name.startswith(f".{target.name}.tmp-")
            assert not target.exists() and (tmp_path / f".{target.name}.mcm-lock").exists()
            (stage / "sub").mkdir()
            write_atomic(stage / "sub" / "report.json", "{}")
        assert mode(target) == dirs and mode(target / "sub") == dirs
        assert mode(target / "sub" / "report.json") == files
    assert sorted(os.listdir(tmp_path)) == ["out-22", "out-77"]


def test_an_empty_directory_is_replaced_and_keeps_its_mode(tmp_path: Path) -> None:
    target = tmp_path / "out"
    target.mkdir()
    target.chmod(0o750)
    with staged_directory(target) as stage:
        (stage / "f").write_text("x")
    assert mode(target) == 0o750 and os.listdir(target) == ["f"]


@pytest.mark.parametrize("error", [KeyboardInterrupt, SystemExit, ValueError])
def test_a_failed_run_leaves_nothing_behind(tmp_path: Path, error: type[BaseException]) -> None:
    with pytest.raises(error), staged_directory(tmp_path / "out") as stage:
        (stage / "half").write_text("x")
        raise error()
    assert os.listdir(tmp_path) == []


def test_a_target_that_is_not_a_new_or_empty_directory_is_refused_before_anything(tmp_path: Path) -> None:
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "mine").write_text("keep")
    (tmp_path / "file").write_text("keep")
    (tmp_path / "link").symlink_to(tmp_path / "empty")
    (tmp_path / "empty").mkdir()
    before = snapshot(tmp_path)
    for name, words in (
        ("full", "already exists and is not empty"),
        ("file", "it is not a directory"),
        ("link", "it is a symbolic link"),
        ("missing/out", "No such file or directory"),
    ):
        with pytest.raises(OutputError, match=words), staged_directory(tmp_path / name):
            raise AssertionError("the block ran")
    assert snapshot(tmp_path) == before


def test_a_second_run_on_the_same_target_fails_at_once_and_the_first_goes_on(tmp_path: Path) -> None:
    target = tmp_path / "out"
    with staged_directory(target) as stage:
        (stage / "first").write_text("1")
        with (
            pytest.raises(OutputError, match="another mcm run is writing it") as caught,
            staged_directory(target),
        ):
            raise AssertionError("the second run started")
        assert caught.value.hint and "choose another directory" in caught.value.hint
        assert (stage / "first").exists()
    assert os.listdir(target) == ["first"] and sorted(os.listdir(tmp_path)) == ["out"]
    with staged_directory(target / ".." / "again") as stage:  # the claim is released
        (stage / "second").write_text("2")
    assert os.listdir(tmp_path / "again") == ["second"]


def test_a_run_whose_target_was_filled_meanwhile_is_kept_beside_it(tmp_path: Path) -> None:
    target = tmp_path / "out"
    with (
        pytest.raises(OutputError, match="a non-empty directory appeared there meanwhile") as caught,
        staged_directory(target) as stage,
    ):
        (stage / "run").write_text("mine")
        target.mkdir()
        (target / "theirs").write_text("theirs")
    kept = [p for p in tmp_path.iterdir() if p.name.startswith("out.kept-")]
    assert len(kept) == 1 and str(kept[0]) in str(caught.value)
    assert (kept[0] / "run").read_text() == "mine" and (target / "theirs").read_text() == "theirs"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out", kept[0].name]


def test_a_crashed_run_leaves_no_claim(tmp_path: Path) -> None:
    target = tmp_path / "out"
    code = f"import os; from mcm.files import staged_directory\nwith staged_directory({str(target)!r}):\n    os._exit(9)"
    assert subprocess.run([sys.executable, "-c", code], timeout=60).returncode == 9
    with staged_directory(target) as stage:  # the lock file is left, but not its lock
        (stage / "f").write_text("x")
    assert os.listdir(target) == ["f"]


# ---- mcm optimize --out


def test_optimize_refuses_an_out_claimed_by_a_live_run_before_starting(
    tmp_path: Path, run_cli: RunCli
) -> None:
    out = tmp_path / "out"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys; from mcm.files import staged_directory\n"
            f"with staged_directory({str(out)!r}):\n    print('ready', flush=True); sys.stdin.read()",
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "ready\n"
        before = snapshot(tmp_path)
        rc, out_text, err = run_cli(["optimize", "demo", "--rules", str(RULES), "--out", str(out)])
        refused(rc, err, f"cannot write {out}: another mcm run is writing it")
        assert out_text == "" and snapshot(tmp_path) == before
    finally:
        holder.communicate("", timeout=60)
    assert holder.returncode == 0 and sorted(os.listdir(tmp_path)) == ["out"]


def test_optimize_output_follows_the_umask(tmp_path: Path, umask: Callable[[int], None]) -> None:
    from mcm.optimize.loop import Options, run

    for mask, dirs, files in ((0o022, 0o755, 0o644), (0o077, 0o700, 0o600)):
        umask(mask)
        out = tmp_path / f"out-{mask:o}"
        opts = Options(
            model="demo",
            rules=(RULES,),
            out=out,
            scenario="mobile",
            budget_s=1e-6,
            min_time=0.03,
            min_count=10,
        )
        run(opts, lambda line: None)
        found = {p: mode(p) for p in [out, *out.rglob("*")]}
        assert {"model.onnx", "report.json", "report.md"} <= {p.name for p in found}
        assert all(m == (dirs if p.is_dir() else files) for p, m in found.items()), found
    assert sorted(os.listdir(tmp_path)) == ["out-22", "out-77"]


def test_optimize_output_errors_are_optimize_errors(tmp_path: Path) -> None:
    from mcm.optimize.loop import Options, run

    (tmp_path / "file").write_text("x")
    with pytest.raises(OptimizeError, match="it is not a directory") as caught:
        run(Options(model="demo", rules=(RULES,), out=tmp_path / "file"), print)
    assert isinstance(caught.value, McmError) and caught.value.hint == "choose a new directory"
    assert sorted(os.listdir(tmp_path)) == ["file"]


@pytest.mark.slow
def test_two_optimize_runs_on_one_out_lose_neither(tmp_path: Path) -> None:
    out = tmp_path / "out"
    command = [
        sys.executable,
        "-c",
        "import sys; from mcm.cli.main import main; sys.exit(main(sys.argv[1:]))",
        "optimize",
        "demo",
        "--rules",
        str(RULES),
        "--scenario",
        "mobile",
        "--budget",
        "20s",
        "--min-time",
        "0.05",
        "--out",
        str(out),
    ]
    runs = [
        subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)
    ]
    results = [(r.wait(timeout=600), *r.communicate()) for r in runs]
    codes = sorted(rc for rc, _, _ in results)
    assert codes[0] in (0, 1) and codes[1] == 2, results
    loser = next(err for rc, _, err in results if rc == 2)
    assert "another mcm run is writing it" in loser and "Traceback" not in loser
    assert {"model.onnx", "report.json", "report.md"} <= set(os.listdir(out))
    assert sorted(os.listdir(tmp_path)) == ["out"]


def test_out_never_replaces_the_reference_models_external_data(tmp_path: Path) -> None:
    """Found by a red-team pass: only the measured model's files were guarded, not the --reference model's."""
    import onnx

    from mcm import demo
    from mcm.cli.main import main

    onnx.save_model(
        onnx.load(str(demo.ONNX_PATH)),
        str(tmp_path / "ref.onnx"),
        save_as_external_data=True,
        all_tensors_to_one_file=True,
        location="ref.data",
        size_threshold=1024,
    )
    data = tmp_path / "ref.data"
    before = data.read_bytes()
    args = [
        "measure",
        "demo",
        "--reference",
        str(tmp_path / "ref.onnx"),
        "--batch",
        "1",
        "--min-time",
        "0.05",
    ]
    assert main([*args, "--out", str(data)]) == 2
    assert data.read_bytes() == before
