"""Session-wide test setup: caches and crash reports go to a private temporary directory, never to the user's
~/.cache or ~/.local/state."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable, Sequence

import pytest

_CACHE = tempfile.mkdtemp(prefix="mcm-test-cache-")


def pytest_configure(config: pytest.Config) -> None:
    os.environ["MCM_CACHE_DIR"] = _CACHE
    os.environ["XDG_STATE_HOME"] = os.path.join(_CACHE, "state")


def pytest_unconfigure(config: pytest.Config) -> None:
    shutil.rmtree(_CACHE, ignore_errors=True)


#: ``mcm ARGS`` run in this process -> (exit status, stdout, stderr).
RunCli = Callable[[Sequence[str]], tuple[int, str, str]]


@pytest.fixture
def run_cli(capsys: pytest.CaptureFixture[str]) -> RunCli:
    """``mcm ARGS`` in this process: (exit status, stdout, stderr)."""
    from mcm.cli.main import main

    def run(args: Sequence[str]) -> tuple[int, str, str]:
        rc = main(list(args))
        out, err = capsys.readouterr()
        return rc, out, err

    return run
