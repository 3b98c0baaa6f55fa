"""Cold start of `mcm advise`, against the cost of merely importing lark, measured in the same run.

    python benches/bench_advise_cli.py [--rounds N]

Both commands run as fresh processes, interleaved, and the median of each is compared. Target (issue 3):
`mcm advise rules/iot.rules --set ...` takes at most 4x `python -c "import lark"`. Exits 1 if it does not.
The gate uses the parse cache as a user's second run finds it (warmed once); the same command with the cache off
(`MCM_RULES_CACHE=off`: a first run, or a changed file) is timed alongside and printed, not gated.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ADVISE = [
    "advise", str(ROOT / "rules" / "iot.rules"),
    "--set", "model_size_mb=14MB", "--set", "memory_mb=300MB", "--set", "power_w=2W",
]  # fmt: skip
COMMANDS = {
    "python -c 'import lark'": [sys.executable, "-c", "import lark"],
    "mcm advise rules/iot.rules --set ...": [
        sys.executable,
        "-c",
        f"import sys; from mcm.cli.main import main; sys.exit(main({ADVISE!r}))",
    ],
}
UNCACHED = "  the same, rules cache off"
ENV = {UNCACHED: {**os.environ, "MCM_RULES_CACHE": "off"}}


def wall(cmd: list[str], env: dict[str, str] | None = None) -> float:
    t = time.perf_counter()
    subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False, env=env)
    return time.perf_counter() - t


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=15)
    rounds = parser.parse_args().rounds
    commands = {**COMMANDS, UNCACHED: COMMANDS["mcm advise rules/iot.rules --set ..."]}
    times: dict[str, list[float]] = {name: [] for name in commands}
    for name, cmd in commands.items():  # warm the OS file cache and the rules cache once
        wall(cmd, ENV.get(name))
    for _ in range(rounds):
        for name, cmd in commands.items():
            times[name].append(wall(cmd, ENV.get(name)))
    base, advise, _ = (statistics.median(t) for t in times.values())
    ratio = advise / base
    for name, t in times.items():
        print(f"{name:40s} median {statistics.median(t) * 1e3:6.0f} ms  (min {min(t) * 1e3:.0f} ms)")
    ok = ratio <= 4
    print(f"{'PASS' if ok else 'FAIL'}  cold advise / import lark = {ratio:.2f} (target <= 4)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
