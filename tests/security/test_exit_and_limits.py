"""Exit statuses a pipeline can rely on (the same for every command), SIGINT and SIGTERM, and the limits on what
mcm reads: threads, .npz expansion, non-regular files, --baseline size and depth, per-call inputs."""

from __future__ import annotations

import json
import os
import pty
import select
import signal
import stat
import subprocess
import sys
import time
import tracemalloc
import zipfile
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import numpy as np
import pytest

from mcm.cli.main import VERBS, main
from mcm.exceptions import EXIT_STATUS_HELP, ExitStatus, McmError, Terminated
from mcm.files.read import (
    InputFileError,
    json_depth,
    json_limited,
    read_bytes_limited,
    regular_file,
)
from mcm.measure import inputs
from mcm.measure.inputs import BatchSizeError, InputSpec
from mcm.tui import main as tui_entry

ROOT = Path(__file__).resolve().parents[2]
RULES = ROOT / "rules"
RunCli = Callable[[Sequence[str]], tuple[int, str, str]]
Listing = dict[str, tuple[int, int]]


def listing(directory: Path) -> Listing:
    """Every entry under ``directory`` with its mode and size: what a command must leave as it was."""
    found: Listing = {}
    for folder, dirs, files in os.walk(directory):
        for name in [*dirs, *files]:
            st = Path(folder, name).lstat()
            found[str(Path(folder, name).relative_to(directory))] = (st.st_mode, st.st_size)
    return found


@pytest.fixture
def state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private XDG_STATE_HOME, where crash reports go."""
    folder = tmp_path / "state"
    monkeypatch.setenv("XDG_STATE_HOME", str(folder))
    return folder


@pytest.fixture
def fifo(tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "pipe"
    os.mkfifo(path)
    yield path


def refused(rc: int, out: str, err: str, *words: str) -> None:
    """Exit 2 with one located ``mcm: error:`` line (a hint may follow) and no traceback."""
    assert rc == ExitStatus.BAD_INPUT, err
    assert out == "" and err.startswith("mcm: error: ") and "Traceback" not in err, err
    assert len([line for line in err.splitlines() if not line.startswith("hint: ")]) == 1, err
    for word in words:
        assert word in err, err


def mcm_subprocess(
    args: Sequence[str], cwd: Path, timeout: float = 60, code: str = ""
) -> subprocess.CompletedProcess[str]:
    """``mcm ARGS`` in a new interpreter, then ``code`` (which sees ``rc``); killed after ``timeout`` seconds."""
    script = f"import sys\nfrom mcm.cli.main import main\nrc = main({list(args)!r})\n{code}\nsys.exit(rc)\n"
    env = dict(os.environ, XDG_STATE_HOME=str(cwd / "state"))
    return subprocess.run(
        [sys.executable, "-c", script], cwd=cwd, capture_output=True, text=True, timeout=timeout, env=env
    )


# ---- the table and the help


def test_the_statuses_are_the_documented_ones() -> None:
    assert [int(s) for s in ExitStatus] == [0, 1, 2, 3, 70, 130, 141, 143]
    for status in ExitStatus:
        assert f"\n  {int(status):<4} " in EXIT_STATUS_HELP
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Exit status", 1)[1].split("\n## ", 1)[0]
    for status in ExitStatus:
        assert f"| {int(status)} |" in section


def test_a_closed_pipe_stops_quietly_with_141(tmp_path: Path) -> None:
    """`mcm measure demo --format json | head -c 0`: no traceback, no crash file, the SIGPIPE status."""
    with subprocess.Popen(
        [
            sys.executable,
            "-m",
            "mcm.cli.main",
            "measure",
            "demo",
            "--batch",
            "1",
            "--min-time",
            "0.05",
            "--format",
            "json",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=tmp_path,
        env=dict(os.environ, XDG_STATE_HOME=str(tmp_path / "state")),
    ) as reader_gone:
        assert reader_gone.stdout is not None and reader_gone.stderr is not None
        reader_gone.stdout.close()
        assert reader_gone.wait(timeout=120) == ExitStatus.BROKEN_PIPE
        assert reader_gone.stderr.read() == b""
    assert not (tmp_path / "state").exists()


@pytest.mark.parametrize("verb", [None, *VERBS])
def test_every_help_lists_the_exit_statuses(verb: str | None, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["--help"] if verb is None else [verb, "--help"])
    assert exit_.value.code == 0
    assert EXIT_STATUS_HELP in capsys.readouterr().out


def test_mcm_tui_help_lists_the_exit_statuses() -> None:
    assert EXIT_STATUS_HELP in tui_entry.parser().format_help()


# ---- internal errors: 70, one line, the traceback in a private file


def fail_with(monkeypatch: pytest.MonkeyPatch, error: BaseException) -> None:
    """Make `mcm scenarios` raise ``error``."""
    import mcm.cli.scenarios

    def run(args: object) -> int:
        raise error

    monkeypatch.setattr(mcm.cli.scenarios, "run", run)


def test_an_internal_error_is_one_line_and_a_private_crash_file(
    monkeypatch: pytest.MonkeyPatch, run_cli: RunCli, state: Path
) -> None:
    fail_with(monkeypatch, RuntimeError("boom\nsecond line"))
    rc, out, err = run_cli(["scenarios"])
    assert rc == ExitStatus.INTERNAL_ERROR and out == ""
    first, second = err.splitlines()
    assert first == "mcm: internal error: RuntimeError: boom" and "Traceback" not in err
    crash = Path(second.removeprefix("details: ").split(" (run with --debug")[0])
    assert second.endswith("(run with --debug to see the traceback here)")
    assert crash.parent == state / "mcm" and crash.name.startswith("crash-")
    assert stat.S_IMODE(crash.stat().st_mode) == 0o600
    assert stat.S_IMODE(crash.parent.stat().st_mode) == 0o700
    text = crash.read_text(encoding="utf-8")
    assert "command: mcm scenarios" in text and "Traceback" in text and "RuntimeError: boom" in text
    rc, _, err = run_cli(["scenarios"])  # a second crash in the same second gets its own file
    assert rc == 70 and len(list(crash.parent.iterdir())) == 2


def test_debug_shows_the_traceback_and_writes_no_file(
    monkeypatch: pytest.MonkeyPatch, run_cli: RunCli, state: Path
) -> None:
    fail_with(monkeypatch, ValueError("boom"))
    rc, _, err = run_cli(["--debug", "scenarios"])
    assert rc == 70 and "Traceback (most recent call last)" in err
    assert err.splitlines()[-1] == "mcm: internal error: ValueError: boom"
    assert not state.exists()


def test_a_crash_file_that_cannot_be_written_is_said_and_the_status_stays_70(
    monkeypatch: pytest.MonkeyPatch, run_cli: RunCli, tmp_path: Path
) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    monkeypatch.setenv("XDG_STATE_HOME", str(blocker))
    fail_with(monkeypatch, RuntimeError("boom"))
    rc, _, err = run_cli(["scenarios"])
    assert rc == 70 and "could not save the details" in err and "--debug" in err and "Traceback" not in err
    assert blocker.read_text() == ""


def test_a_relative_xdg_state_home_is_ignored(
    monkeypatch: pytest.MonkeyPatch, run_cli: RunCli, tmp_path: Path
) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", "relative")
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.chdir(tmp_path)
    fail_with(monkeypatch, RuntimeError("boom"))
    assert run_cli(["scenarios"])[0] == 70
    assert not (tmp_path / "relative").exists()
    assert len(list((tmp_path / ".local" / "state" / "mcm").iterdir())) == 1


def test_an_os_error_about_a_named_path_is_bad_input(
    monkeypatch: pytest.MonkeyPatch, run_cli: RunCli, state: Path
) -> None:
    fail_with(monkeypatch, IsADirectoryError(21, "Is a directory", "some/dir"))
    rc, out, err = run_cli(["scenarios"])
    refused(rc, out, err, "some/dir: Is a directory")
    assert not state.exists()


def test_an_os_error_without_a_path_is_internal(
    monkeypatch: pytest.MonkeyPatch, run_cli: RunCli, state: Path
) -> None:
    fail_with(monkeypatch, OSError(28, "No space left on device"))
    rc, _, err = run_cli(["scenarios"])
    assert rc == 70 and err.startswith("mcm: internal error: OSError: [Errno 28] No space left on device")


@pytest.mark.parametrize(
    ("error", "status", "word"),
    [(KeyboardInterrupt(), 130, "interrupted"), (Terminated("SIGTERM"), 143, "terminated")],
)
def test_interruptions_exit_130_or_143_and_the_handlers_come_back(
    monkeypatch: pytest.MonkeyPatch, run_cli: RunCli, error: BaseException, status: int, word: str
) -> None:
    before = signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)
    fail_with(monkeypatch, error)
    rc, _, err = run_cli(["scenarios"])
    assert (rc, err) == (status, f"mcm: {word}\n")
    assert (signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)) == before


def test_sigterm_is_143_even_when_code_turned_it_into_a_plain_keyboard_interrupt(
    monkeypatch: pytest.MonkeyPatch, run_cli: RunCli
) -> None:
    import mcm.cli.scenarios

    def run(args: object) -> int:
        try:
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(5)  # the handler raises Terminated here
        except Terminated:
            raise KeyboardInterrupt from None  # as the optimize loop does on a measurement stopped by a signal
        raise AssertionError("no SIGTERM")

    monkeypatch.setattr(mcm.cli.scenarios, "run", run)
    assert run_cli(["scenarios"]) == (143, "", "mcm: terminated\n")
    fail_with(monkeypatch, KeyboardInterrupt())  # and the next run starts afresh
    assert run_cli(["scenarios"])[0] == 130


def test_mcm_tui_maps_internal_errors_the_same_way(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], state: Path
) -> None:
    import mcm.tui.app

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(mcm.tui.app, "McmApp", broken)
    assert tui_entry.main(["--lang", "en"]) == 70
    err = capsys.readouterr().err
    assert err.startswith("mcm-tui: internal error: RuntimeError: boom\ndetails: ") and "Traceback" not in err
    assert len(list((state / "mcm").iterdir())) == 1


# ---- signals: SIGTERM is Ctrl-C with its own status


def wait_for(master: int, needle: bytes, seconds: float) -> bytes:
    """Read the pty ``master`` until ``needle`` shows (or ``seconds`` pass); what was read."""
    seen = b""
    deadline = time.monotonic() + seconds
    while needle not in seen and time.monotonic() < deadline:
        if select.select([master], [], [], 0.2)[0]:
            try:
                seen += os.read(master, 65536)
            except OSError:
                break
    return seen


def drain(master: int) -> bytes:
    out = b""
    while select.select([master], [], [], 0.5)[0]:
        try:
            chunk = os.read(master, 65536)
        except OSError:
            break
        if not chunk:
            break
        out += chunk
    return out


def test_sigterm_during_measure_exits_143_promptly_with_the_partial_report_only(tmp_path: Path) -> None:
    out = tmp_path / "partial.json"
    master, slave = pty.openpty()  # a terminal for stderr, so the progress line shows when timing starts
    proc = subprocess.Popen(
        [sys.executable, "-m", "mcm.cli.main", "measure", "demo", "--min-time", "30", "--out", str(out)],
        stdout=subprocess.DEVNULL,
        stderr=slave,
        cwd=tmp_path,
        env=dict(os.environ, XDG_STATE_HOME=str(tmp_path / "state")),
    )
    os.close(slave)
    try:
        seen = wait_for(master, b"timing batch 1", 60)
        assert b"timing batch 1" in seen, seen
        sent = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
        waited = time.monotonic() - sent
        seen += drain(master)
    finally:
        if proc.poll() is None:
            proc.kill()
        os.close(master)
    assert proc.returncode == ExitStatus.TERMINATED, seen
    assert waited < 15 and b"Traceback" not in seen
    d = json.loads(out.read_text())
    assert d["partial"] is True and d["stop_reason"] == "interrupted"
    assert [p.name for p in tmp_path.iterdir()] == ["partial.json"]


@pytest.mark.parametrize(("signum", "status"), [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_mcm_tui_restores_the_terminal_on_sigterm_and_sigint(
    signum: int, status: int, tmp_path: Path
) -> None:
    master, slave = pty.openpty()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys; from mcm.tui.main import main; sys.exit(main(['--lang', 'en']))",
        ],
        stdin=slave,
        stdout=slave,
        stderr=slave,
        cwd=ROOT,
        env=dict(os.environ, TERM="xterm-256color", XDG_STATE_HOME=str(tmp_path / "state")),
    )
    os.close(slave)
    try:
        seen = wait_for(master, b"\x1b[?1049h", 60)  # the alternate screen: the app is up
        assert b"\x1b[?1049h" in seen, seen
        seen += drain(master)  # until the first screen is drawn
        proc.send_signal(signum)
        proc.wait(timeout=30)
        after = drain(master)
    finally:
        if proc.poll() is None:
            proc.kill()
        os.close(master)
    assert proc.returncode == status, after
    assert b"\x1b[?1049l" in after  # back from the alternate screen
    assert after.rstrip().endswith(b"mcm-tui: " + (b"terminated" if status == 143 else b"interrupted"))


@pytest.mark.slow
def test_sigterm_during_optimize_leaves_nothing_beside_out(tmp_path: Path) -> None:
    with subprocess.Popen(
        [sys.executable, "-m", "mcm.cli.main", "optimize", "demo", "--scenario", "mobile", "--out", "out"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        cwd=tmp_path,
        text=True,
        env=dict(os.environ, XDG_STATE_HOME=str(tmp_path / "state")),
    ) as proc:
        assert proc.stderr is not None
        try:
            for line in proc.stderr:
                if (
                    "step 1" in line
                ):  # the staged directory holds the baselines and the first candidate's files
                    assert any(p.name.startswith(".out.tmp-") for p in tmp_path.iterdir())
                    proc.send_signal(signal.SIGTERM)
                    break
            rest = proc.stderr.read()
            proc.wait(timeout=60)
        finally:
            if proc.poll() is None:
                proc.kill()
    assert proc.returncode == ExitStatus.TERMINATED, rest
    assert rest.rstrip().endswith("mcm: terminated") and "Traceback" not in rest
    assert list(tmp_path.iterdir()) == []


# ---- threads


def test_too_many_threads_are_refused_at_once_before_onnxruntime_loads(tmp_path: Path) -> None:
    start = time.monotonic()
    done = mcm_subprocess(
        ["measure", "demo", "--threads", "100000"],
        tmp_path,
        code="print('onnxruntime' in sys.modules, 'torch' in sys.modules)",
    )
    assert time.monotonic() - start < 5
    refused(done.returncode, "", done.stderr, "threads 100000: over the limit of", "usable CPUs")
    assert done.stdout == "False False\n"
    assert list(tmp_path.iterdir()) == []


def test_optimize_refuses_too_many_threads_before_starting(run_cli: RunCli, tmp_path: Path) -> None:
    rc, out, err = run_cli(["optimize", "demo", "--threads", "3000", "--out", str(tmp_path / "o")])
    refused(rc, out, err, "--threads 3000: over the limit of")
    assert list(tmp_path.iterdir()) == []


# ---- non-regular files: refused before anything reads them


@pytest.mark.parametrize("kind", ["fifo", "device", "directory"])
def test_baseline_must_be_a_regular_file(kind: str, tmp_path: Path, fifo: Path) -> None:
    path = {"fifo": fifo, "device": Path("/dev/zero"), "directory": tmp_path}[kind]
    word = {
        "fifo": "is a FIFO (named pipe), not a regular file",
        "device": "is a character device",
        "directory": "directory",
    }
    before = listing(tmp_path)
    done = mcm_subprocess(["advise", str(RULES / "iot.rules"), "--baseline", str(path)], tmp_path, timeout=30)
    refused(done.returncode, done.stdout, done.stderr, f"--baseline {path}: cannot read it", word[kind])
    assert listing(tmp_path) == before


def test_data_must_be_a_regular_file(tmp_path: Path, fifo: Path) -> None:
    done = mcm_subprocess(["measure", "demo", "--data", str(fifo)], tmp_path, timeout=30)
    refused(done.returncode, done.stdout, done.stderr, f"{fifo}: is a FIFO (named pipe), not a regular file")


@pytest.mark.parametrize("flag", ["--calib", "--eval", "--train"])
def test_optimize_data_must_be_regular_files(flag: str, run_cli: RunCli, tmp_path: Path, fifo: Path) -> None:
    before = listing(tmp_path)
    rc, out, err = run_cli(["optimize", "demo", flag, str(fifo), "--out", str(tmp_path / "o")])
    refused(rc, out, err, f"{flag} {fifo}: is a FIFO (named pipe), not a regular file")
    assert listing(tmp_path) == before


def test_the_reading_helpers(tmp_path: Path, fifo: Path) -> None:
    regular = tmp_path / "r.json"
    regular.write_text('{"a": [1, "]]]]"]}')
    assert regular_file(regular) == regular and json_limited(regular) == {"a": [1, "]]]]"]}
    for path, reason in [
        (tmp_path / "missing", "no such data file"),
        (tmp_path, "is a directory, not a data file"),
        (fifo, "is a FIFO (named pipe), not a regular file"),
        (Path("/dev/null"), "is a character device, not a regular file"),
    ]:
        for read in (regular_file, lambda p, what: read_bytes_limited(p, 10, what)):
            with pytest.raises(InputFileError) as e:
                read(path, "data file")
            assert str(e.value) == f"{path}: {reason}" and isinstance(e.value, McmError)
    with pytest.raises(InputFileError, match=r"r.json: 18 B, over the 10 B limit for a file"):
        read_bytes_limited(regular, 10)


# ---- --baseline: size and depth


def test_a_deep_baseline_is_refused_before_parsing(run_cli: RunCli, tmp_path: Path) -> None:
    deep = tmp_path / "deep.json"
    deep.write_text("[" * 200_000 + "]" * 200_000)
    before = listing(tmp_path)
    start = time.monotonic()
    rc, out, err = run_cli(["advise", str(RULES / "iot.rules"), "--baseline", str(deep)])
    assert time.monotonic() - start < 5
    refused(rc, out, err, f"--baseline {deep}: nested 200,000 deep, over the limit of 64")
    assert listing(tmp_path) == before


def test_a_large_baseline_is_refused_without_reading_it(run_cli: RunCli, tmp_path: Path) -> None:
    big = tmp_path / "big.json"
    with big.open("wb") as f:
        f.truncate(17 * 1024**2)  # sparse: nothing is written
    rc, out, err = run_cli(["advise", str(RULES / "iot.rules"), "--baseline", str(big)])
    refused(rc, out, err, f"--baseline {big}: cannot read it: 17 MiB, over the 16 MiB limit for a report")


def test_json_depth_ignores_brackets_in_strings() -> None:
    assert json_depth(b'{"a": "[[[{", "b": [[1], "\\"]]"]}') == 3
    assert json_depth(b"1") == json_depth(b"") == 0
    assert json_depth(b"[" * 65) == 65


# ---- .npz: refused before decompressing


def npy_header(shape: tuple[int, ...], dtype: str = "<f4") -> bytes:
    """An .npy version 1.0 header for ``shape``."""
    text = f"{{'descr': '{dtype}', 'fortran_order': False, 'shape': {shape}, }}"
    text += " " * (-(len(text) + 11) % 64) + "\n"
    return b"\x93NUMPY\x01\x00" + len(text).to_bytes(2, "little") + text.encode("latin1")


def bomb_by_header(path: Path) -> Path:
    """An .npz whose x.npy header declares 1.5 GB of float32 but which holds a few bytes."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("x.npy", npy_header((375_000_000,)) + bytes(64))
    return path


def bomb_by_directory(path: Path) -> Path:
    """An .npz whose zip directory says x.npy expands to 1.5 GB (as a real zip bomb's does)."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as z:
        z.writestr("x.npy", npy_header((4,)) + bytes(16))
    data = bytearray(path.read_bytes())
    central = data.index(b"PK\x01\x02")
    data[central + 24 : central + 28] = (1_500_000_000).to_bytes(4, "little")  # uncompressed size
    path.write_bytes(bytes(data))
    return path


@pytest.mark.parametrize("make", [bomb_by_header, bomb_by_directory])
def test_an_npz_bomb_is_refused_before_anything_large_is_allocated(
    make: Callable[[Path], Path], tmp_path: Path
) -> None:
    bomb = make(tmp_path / "data.npz")
    assert bomb.stat().st_size < 1024
    before = listing(tmp_path)
    start = time.monotonic()
    done = mcm_subprocess(
        ["measure", "demo", "--data", str(bomb)],
        tmp_path,
        code="print(next(line.split()[1] for line in open('/proc/self/status') if line.startswith('VmHWM')))",
    )
    assert time.monotonic() - start < 10
    refused(
        done.returncode, "", done.stderr, f"{bomb}: member x.npy expands to 1.4 GiB, over the 1 GiB limit"
    )
    assert int(done.stdout) < 400 * 1024  # peak RSS in KiB: the interpreter and numpy, nothing like the bomb
    assert listing(tmp_path) == before


@pytest.mark.parametrize("make", [bomb_by_header, bomb_by_directory])
def test_an_npz_bomb_is_refused_before_numpy_reads_it(
    make: Callable[[Path], Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_load(*args: object, **kwargs: object) -> None:
        raise AssertionError("np.load reached")

    monkeypatch.setattr(np, "load", no_load)
    with pytest.raises(inputs.InputError, match=r"member x\.npy expands to 1\.4 GiB, over the 1 GiB limit"):
        inputs.load_npz(make(tmp_path / "data.npz"))


def test_npz_members_are_limited_all_together_and_must_be_arrays(tmp_path: Path) -> None:
    path = tmp_path / "d.npz"
    np.savez(path, a=np.zeros((2, 100), np.float32), b=np.zeros((2, 100), np.float32))
    assert set(inputs.load_npz(path).arrays) == {"a", "b"}
    with pytest.raises(
        inputs.InputError, match=r"d.npz: its members expand to 1.\d KiB, over the 1 KiB limit"
    ):
        inputs.load_npz(path, limit=1024)
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("x.npy", npy_header((1000,)) + bytes(16))
    with pytest.raises(inputs.InputError, match=r"member x.npy declares 3.9 KiB of data \(float32\[1000\]\)"):
        inputs.load_npz(path)
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("notes.txt", "hello")
    with pytest.raises(inputs.InputError, match=r"member notes\.txt is not an \.npy array"):
        inputs.load_npz(path)


# ---- synthetic inputs and batch sizes


def test_synthetic_inputs_are_drawn_in_their_own_dtype() -> None:
    spec = InputSpec("x", "float32", ("batch", 1024, 1024))
    plan = inputs.plan([spec], batches=(4,))
    tracemalloc.start()
    try:
        feeds = plan.feeds(4)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert feeds["x"].dtype == np.float32 and feeds["x"].shape == (4, 1024, 1024)
    assert peak < 1.5 * feeds["x"].nbytes  # no float64 copy on the way
    half = inputs.plan([InputSpec("h", "float16", ("batch", 3))], batches=(2,)).feeds(2)["h"]
    assert half.dtype == np.float16 and np.isfinite(half).all()


def test_one_call_is_held_to_the_data_limit() -> None:
    spec = InputSpec("x", "float32", ("batch", 3, 224, 224))
    with pytest.raises(
        inputs.InputError, match=r"one call at batch 100000 takes 56.1 GiB .* over the 1 GiB limit"
    ):
        inputs.plan([spec], batches=(100_000,))


def test_a_fixed_batch_message_does_not_blame_a_flag() -> None:
    with pytest.raises(BatchSizeError) as e:
        inputs.plan([InputSpec("x", "float32", (1, 4))], batches=(1, 32))
    assert "--batch" not in str(e.value) and "cannot run at batch sizes 1,32" in str(e.value)
    assert (e.value.fixed, e.value.asked) == (1, (1, 32))


def fixed_batch_model(path: Path) -> Path:
    import onnx
    from onnx import TensorProto, helper

    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4])
    graph = helper.make_graph([helper.make_node("Relu", ["x"], ["y"])], "g", [x], [y])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.save(model, str(path))
    return path


@pytest.mark.parametrize(
    ("flags", "origin"),
    [
        (("--scenario", "cloud"), "batch 8, the scenario's"),  # judged on throughput: a server's batch
        (("--scenario", "mobile", "--batch", "8"), "--batch 8"),
    ],
)
def test_optimize_says_where_its_batch_sizes_came_from(
    flags: tuple[str, ...], origin: str, run_cli: RunCli, tmp_path: Path
) -> None:
    model = fixed_batch_model(tmp_path / "fixed.onnx")
    before = listing(tmp_path)
    rc, out, err = run_cli(
        [
            "optimize",
            str(model),
            "--rules",
            str(RULES),
            "--out",
            str(tmp_path / "o"),
            *flags,
        ]
    )
    *progress, error, hint = err.splitlines()
    assert rc == 2 and out == "" and all(line.startswith("mcm: ") for line in progress)
    assert error.startswith("mcm: error: the model fixes the batch size at 1 (x: float32[1,4])")
    assert error.endswith(f"(mcm optimize times batch 1 and {origin})") and hint == "hint: give --batch 1"
    assert listing(tmp_path) == before


def test_a_zero_dimension_is_bad_input_not_an_internal_error(run_cli: RunCli) -> None:
    """Found by a red-team pass: --shape x=0x1x8x8 ended in a ZeroDivisionError (exit 70)."""
    rc, out, err = run_cli(["measure", "demo", "--shape", "x=0x1x8x8", "--batch", "1"])
    refused(rc, out, err, "every DIM at least 1")


def test_a_rules_folder_never_reads_through_a_link_out_of_it(tmp_path: Path, run_cli: RunCli) -> None:
    """Found by a red-team pass: rules/zz.rules -> /etc/passwd was read and its first line shown in an error."""
    secret = tmp_path / "secret.rules"
    secret.write_text("SECRET-LINE\n", encoding="utf-8")
    rules = tmp_path / "rules"
    rules.mkdir()
    for shipped in (ROOT / "rules").glob("*.rules"):
        (rules / shipped.name).write_bytes(shipped.read_bytes())
    (rules / "zz.rules").symlink_to(secret)
    rc, out, err = run_cli(["advise", str(rules), "--scenario", "mobile"])
    refused(rc, out, err, "E021", "leads outside")
    assert "SECRET-LINE" not in err
