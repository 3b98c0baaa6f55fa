"""Ctrl-C keeps what was measured: a real `mcm measure` subprocess, a real SIGINT, a partial report on disk."""

from __future__ import annotations

import json
import os
import pty
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_sigint_keeps_a_partial_report(tmp_path: Path) -> None:
    out = tmp_path / "partial.json"
    master, slave = pty.openpty()  # a terminal for stderr, so the progress line shows when timing starts
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "mcm.cli.main",
            "measure",
            "demo",
            "--format",
            "json",
            "--out",
            str(out),
            "--min-time",
            "30",
            "--max-time",
            "60",
        ],
        stdout=subprocess.DEVNULL,
        stderr=slave,
        cwd=ROOT,
    )
    os.close(slave)
    seen = b""
    deadline = time.monotonic() + 30
    try:
        while b"timing batch 1" not in seen and time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 0.2)
            if ready:
                seen += os.read(master, 4096)
        assert b"timing batch 1" in seen, seen
        time.sleep(0.3)  # let some calls be timed
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
        os.close(master)
    assert proc.returncode == 130
    d = json.loads(out.read_text())
    assert d["partial"] is True and d["stop_reason"] == "interrupted"
    assert d["latency"]["by_batch"]["1"]["stop_reason"] == "interrupted"
    assert d["latency"]["by_batch"]["1"]["samples"] > 0 and "latency_ms" in d["metrics"]
    assert d["unavailable"]["accuracy"].startswith("the run stopped before evaluation")
    assert any("interrupted" in w for w in d["warnings"])
    assert [p.name for p in tmp_path.iterdir()] == ["partial.json"]
