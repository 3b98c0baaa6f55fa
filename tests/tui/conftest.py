"""TUI tests run from the repository root, so that rule positions read ``rules/mobile.rules:20:8``."""

from __future__ import annotations

import pytest
from tui_helpers import ROOT


@pytest.fixture(autouse=True)
def _repo_root(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
