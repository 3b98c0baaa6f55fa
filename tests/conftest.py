"""Session-wide test setup: caches and crash reports go to a private temporary directory, never to the user's
~/.cache or ~/.local/state."""

from __future__ import annotations

import os
import shutil
import tempfile

import pytest

_CACHE = tempfile.mkdtemp(prefix="mcm-test-cache-")


def pytest_configure(config: pytest.Config) -> None:
    os.environ["MCM_CACHE_DIR"] = _CACHE
    os.environ["XDG_STATE_HOME"] = os.path.join(_CACHE, "state")


def pytest_unconfigure(config: pytest.Config) -> None:
    shutil.rmtree(_CACHE, ignore_errors=True)
