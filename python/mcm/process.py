"""What a command's process does around its work, for `mcm` and `mcm-tui` alike: signals, the exit status of
each outcome, what is said on stderr, and crash reports.

SIGTERM raises :class:`~mcm.exceptions.Terminated` so that every cleanup Ctrl-C gets runs too. An internal error is
one line on stderr and its traceback goes to a private file under ``$XDG_STATE_HOME/mcm`` (``~/.local/state/mcm``);
a traceback reaches the terminal only with ``--debug``.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
import time
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from types import FrameType
from typing import Any, NoReturn, TextIO

from mcm.exceptions import ExitStatus, McmError, Terminated


class StopOnSignals:
    """From construction to :meth:`restore`, in the main thread, SIGTERM raises :class:`Terminated` and SIGINT
    KeyboardInterrupt (as Python's default handler does, but under an asyncio loop too, which would otherwise
    cancel its task quietly), so both run the same cleanups: a staged output removed, a partial report kept. A
    signal the process ignores stays ignored; other threads change nothing (Python runs handlers in the main one).
    """

    def __init__(self) -> None:
        self.terminated = False
        self._previous: dict[signal.Signals, Callable[[int, FrameType | None], Any] | int | None] = {}
        if threading.current_thread() is not threading.main_thread():
            return
        for signum in (signal.SIGINT, signal.SIGTERM):
            if signal.getsignal(signum) != signal.SIG_IGN:
                self._previous[signum] = signal.signal(signum, self._raise)

    def _raise(self, signum: int, frame: FrameType | None) -> NoReturn:
        if signum == signal.SIGTERM:
            self.terminated = True
            raise Terminated("terminated by SIGTERM")
        raise KeyboardInterrupt

    def status(self, status: int) -> int:
        """``status``, except that a run that stopped early on SIGTERM (130, a partial result) exits 143."""
        return ExitStatus.TERMINATED if status == ExitStatus.INTERRUPTED and self.terminated else status

    def restore(self) -> None:
        """Give each signal back the handler it had."""
        for signum, previous in self._previous.items():
            signal.signal(signum, signal.SIG_DFL if previous is None else previous)
        self._previous.clear()


def reported(lead: str, error: McmError, debug: bool) -> int:
    """Say an McmError on stderr (``LEAD: message``, then ``hint: ...``, both sanitized; the traceback first with
    ``debug``) and return its exit status."""
    from mcm.sanitize import terminal

    if debug:
        import traceback

        traceback.print_exception(error)
    print(f"{lead}: {terminal(str(error))}", file=sys.stderr)
    if error.hint:
        print(f"hint: {terminal(error.hint)}", file=sys.stderr)
    return error.exit_code


def interrupted(prog: str, terminated: bool) -> int:
    """Say that ``prog`` stopped on a signal: 143 when it was SIGTERM (even if some code turned the
    :class:`Terminated` it raised into a plain KeyboardInterrupt), else 130."""
    print(f"{prog}: {'terminated' if terminated else 'interrupted'}", file=sys.stderr)
    return ExitStatus.TERMINATED if terminated else ExitStatus.INTERRUPTED


def show_warning(
    message: Warning | str,
    category: type[Warning],
    filename: str,
    lineno: int,
    file: TextIO | None = None,
    line: str | None = None,
) -> None:
    """Python's warning display with the text sanitized: a model's own code (a TorchScript ``warnings.warn``)
    or a library quoting a file can put escape sequences in a warning."""
    from mcm.sanitize import terminal

    text = warnings.formatwarning(message, category, filename, lineno, line)
    with contextlib.suppress(OSError, ValueError):
        (file or sys.stderr).write(terminal(text))


def reader_gone() -> int:
    """Stop quietly when the output's reader has gone (``mcm ... | head``): stdout is pointed at the null
    device so that the interpreter's last flush cannot fail again; exits 141 as a process killed by SIGPIPE."""
    with contextlib.suppress(OSError, ValueError):  # stdout may be no real file (a test's capture)
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    return ExitStatus.BROKEN_PIPE


#: OS errors that name a path: bad input when nothing turned them into an McmError where they were raised.
_PATH_ERRORS = (FileNotFoundError, FileExistsError, IsADirectoryError, NotADirectoryError, PermissionError)


def failed(prog: str, error: Exception, command: Sequence[str], debug: bool) -> int:
    """Report an exception that is no McmError. An OS error about a named path is bad input (2), a last resort:
    such errors should become McmErrors where they are raised. Anything else is an internal error (70): one line,
    and the traceback in a private file (or, with ``debug``, on stderr)."""
    import traceback

    from mcm.sanitize import terminal

    if debug:
        traceback.print_exception(error)
    if isinstance(error, _PATH_ERRORS) and error.filename is not None:
        print(
            f"{prog}: error: {terminal(str(error.filename))}: {terminal(error.strerror or str(error))}",
            file=sys.stderr,
        )
        return ExitStatus.BAD_INPUT
    lines = str(error).strip().splitlines()
    summary = type(error).__name__ + (f": {lines[0]}" if lines else "")
    print(f"{prog}: internal error: {terminal(summary)}", file=sys.stderr)
    if not debug:
        try:
            path = crash_report(prog, error, command)
        except Exception as e:  # the report of a failure must not fail: say so and exit 70 all the same
            print(
                f"{prog}: could not save the details ({type(e).__name__}: {terminal(str(e))}); "
                "run with --debug to see the traceback here",
                file=sys.stderr,
            )
        else:
            print(
                f"details: {terminal(str(path))} (run with --debug to see the traceback here)",
                file=sys.stderr,
            )
    return ExitStatus.INTERNAL_ERROR


def crash_report(prog: str, error: BaseException, command: Sequence[str]) -> Path:
    """Write ``error``'s traceback, the command and the versions to a new private file (mode 0600, in a folder
    made 0700) under ``$XDG_STATE_HOME/mcm`` (``~/.local/state/mcm`` when unset or relative); return its path."""
    import platform
    import traceback

    from mcm import __version__

    state = os.environ.get("XDG_STATE_HOME", "")
    folder = (Path(state) if os.path.isabs(state) else Path.home() / ".local" / "state") / "mcm"
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%dT%H%M%S")
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
    for n in range(100):
        path = folder / f"crash-{stamp}-{os.getpid()}{f'-{n}' if n else ''}.txt"
        try:
            fd = os.open(path, flags, 0o600)
        except FileExistsError:
            continue
        with os.fdopen(fd, "w", encoding="utf-8", errors="backslashreplace") as f:
            f.write(f"{prog} {__version__}, Python {platform.python_version()}, {platform.platform()}\n")
            f.write(f"command: {' '.join(command)}\n\n")
            traceback.print_exception(error, file=f)
        return path
    raise FileExistsError(f"no free name for a crash report in {folder}")
