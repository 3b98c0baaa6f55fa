"""A one-line progress display on a terminal: the phase, ``[step/steps]``, a bar for timed phases, elapsed time.

A background thread redraws the line four times a second (each redraw is a few microseconds, negligible against
the timing loop's own work); nothing is drawn unless the stream is a TTY. The label is shown through
:func:`mcm.sanitize.inline`: a phase may name an input or a file.
"""

from __future__ import annotations

import threading
import time
from typing import TextIO

from mcm.sanitize import inline

_SPIN = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"
WIDTH = 24


class TerminalProgress:
    """Callable as :data:`mcm.measure.Progress`; :meth:`close` clears the line."""

    def __init__(self, stream: TextIO, interval: float = 0.25) -> None:
        self._stream = stream
        self._interval = interval
        self._lock = threading.Lock()
        self._state = (0, 0, "starting", 0.0, time.perf_counter())
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="mcm-progress", daemon=True)
        self._ticks = 0
        self._thread.start()

    def __call__(self, step: int, steps: int, label: str, seconds: float) -> None:
        with self._lock:
            self._state = (step, steps, inline(label), seconds, time.perf_counter())
        self._draw()

    def close(self) -> None:
        self._stop.set()
        self._thread.join()
        self._stream.write("\r\033[K")
        self._stream.flush()

    def _loop(self) -> None:
        while not self._stop.wait(self._interval):
            self._draw()

    def _draw(self) -> None:
        with self._lock:
            step, steps, label, seconds, since = self._state
        elapsed = time.perf_counter() - since
        self._ticks += 1
        if seconds > 0:
            filled = int(min(1.0, elapsed / seconds) * WIDTH)
            bar = "━" * filled + "─" * (WIDTH - filled)
        else:
            bar = _SPIN[self._ticks % len(_SPIN)].ljust(WIDTH)
        count = f"[{step}/{steps}] " if steps else ""
        self._stream.write(f"\r\033[K{count}{label}  {bar}  {elapsed:4.1f} s")
        self._stream.flush()


__all__ = ["TerminalProgress"]
