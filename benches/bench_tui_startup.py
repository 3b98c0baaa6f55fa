"""Start-up of `mcm-tui` to its first screen painted, against a minimal Textual app, measured in the same run.

    python benches/bench_tui_startup.py [--rounds N]

Each app runs headless in a fresh process; the time is from just before the process is started to Textual's
``Ready`` event (the DOM is ready and the first frame is drawn), taken in the child with the wall clock the parent
read. The two apps are interleaved and their medians compared. Target (issue 6): McmApp at most 1.5x the minimal
app (an ``App`` with one ``Static``); exits 1 if it is slower. McmApp loads the rules just after the first frame,
so the time until the scenarios are listed is printed too (for information: it has no target).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MINIMAL = """
import sys, time
from textual.app import App
from textual.widgets import Static
class Minimal(App[None]):
    def compose(self):
        yield Static("hello")
    def on_ready(self):
        print(time.time() - float(sys.argv[1]))
        self.exit()
Minimal().run(headless=True, size=(80, 24))
"""
MCM = """
import sys, time
from mcm.tui.app import McmApp
class FirstScreen(McmApp):
    def on_ready(self):
        print(time.time() - float(sys.argv[1]))
    def _rules_loaded(self):
        super()._rules_loaded()
        print(time.time() - float(sys.argv[1]))
        self.exit()
FirstScreen(lang="en").run(headless=True, size=(80, 24))
"""
COMMANDS = {
    "minimal Textual app (one Static)": [sys.executable, "-c", MINIMAL],
    "mcm-tui, scenario screen": [sys.executable, "-c", MCM],
}


def startup(cmd: list[str]) -> list[float]:
    """Seconds from the launch to each time the child printed (first frame; then scenarios listed)."""
    launched = time.time()
    done = subprocess.run([*cmd, repr(launched)], cwd=ROOT, capture_output=True, text=True, check=True)
    return [float(line) for line in done.stdout.split()]


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=15)
    rounds = parser.parse_args().rounds
    times: dict[str, list[float]] = {name: [] for name in COMMANDS}
    listed: list[float] = []
    for cmd in COMMANDS.values():  # warm the file cache once
        startup(cmd)
    for _ in range(rounds):
        for name, cmd in COMMANDS.items():
            marks = startup(cmd)
            times[name].append(marks[0])
            listed += marks[1:]
    base, tui = (statistics.median(t) for t in times.values())
    ratio = tui / base
    for name, t in times.items():
        print(
            f"{name:36s} first frame, median {statistics.median(t) * 1e3:6.0f} ms  (min {min(t) * 1e3:.0f} ms)"
        )
    print(
        f"{'mcm-tui, scenarios listed':36s} median {statistics.median(listed) * 1e3:6.0f} ms  (for information)"
    )
    ok = ratio <= 1.5
    print(f"{'PASS' if ok else 'FAIL'}  mcm-tui / minimal app = {ratio:.2f} (target <= 1.5)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
