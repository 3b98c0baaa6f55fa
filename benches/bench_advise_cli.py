"""Cold start of `mcm advise`, against the cost of merely importing lark, measured in the same run.

    python benches/bench_advise_cli.py [--rounds N]

Both commands run as fresh processes, interleaved, and the median of each is compared. Target (issue 3):
`mcm advise rules/iot.rules --set ...` takes at most 4x `python -c "import lark"`. Exits 1 if it does not.
"""

from __future__ import annotations

import argparse
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


def wall(cmd: list[str]) -> float:
    t = time.perf_counter()
    subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    return time.perf_counter() - t


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=15)
    rounds = parser.parse_args().rounds
    times: dict[str, list[float]] = {name: [] for name in COMMANDS}
    for cmd in COMMANDS.values():  # warm the file cache once
        wall(cmd)
    for _ in range(rounds):
        for name, cmd in COMMANDS.items():
            times[name].append(wall(cmd))
    base, advise = (statistics.median(t) for t in times.values())
    ratio = advise / base
    for name, t in times.items():
        print(f"{name:40s} median {statistics.median(t) * 1e3:6.0f} ms  (min {min(t) * 1e3:.0f} ms)")
    ok = ratio <= 4
    print(f"{'PASS' if ok else 'FAIL'}  cold advise / import lark = {ratio:.2f} (target <= 4)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
