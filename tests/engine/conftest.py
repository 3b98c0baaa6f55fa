"""Shared fixtures for the engine tests: rules parsed by the real loader."""

from __future__ import annotations

import pytest
from engine_helpers import FIXTURES

from mcm.advisor import Advisor


@pytest.fixture(scope="session")
def worked() -> Advisor:
    """The reference's step-3 decision logic over its technique table."""
    return Advisor.from_files(FIXTURES / "worked_example.rules")


@pytest.fixture(scope="session")
def shipped_like() -> Advisor:
    """A ruleset the size of the shipped one: 10 techniques, 5 scenarios."""
    return Advisor.from_files(FIXTURES / "shipped_like.rules")
