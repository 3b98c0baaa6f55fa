"""Session-wide test setup: caches go to a private temporary directory, never to the user's ~/.cache."""

from __future__ import annotations

import os
import shutil
import tempfile

import pytest

_CACHE = tempfile.mkdtemp(prefix="mcm-test-cache-")


def pytest_configure(config: pytest.Config) -> None:
    os.environ["MCM_CACHE_DIR"] = _CACHE


def pytest_unconfigure(config: pytest.Config) -> None:
    shutil.rmtree(_CACHE, ignore_errors=True)
