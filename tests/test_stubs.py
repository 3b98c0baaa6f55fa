"""The hand-written `mcm/_core.pyi` must match the built extension."""

from __future__ import annotations

import subprocess
import sys


def test_stub_matches_the_extension() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "mypy.stubtest", "mcm._core"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 0, out.stdout + out.stderr
