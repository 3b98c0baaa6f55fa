"""Helpers for the engine tests (a unique module name: test folders have no __init__.py)."""

from __future__ import annotations

from pathlib import Path

from mcm.advisor import Advisor

FIXTURES = Path(__file__).parent / "fixtures"

#: The reference's worked example: measured facts and user constraints (cheat sheet, steps 1 and 2).
WORKED_MEASURED = {"latency_ms": "120 ms", "model_size_mb": "98 MB", "accuracy": 0.945}
WORKED_CONSTRAINTS = ["latency_ms < 50 ms", "model_size_mb < 20 MB", "accuracy >= 0.90"]


def rules(body: str) -> Advisor:
    """An advisor for a rules text (the header is added), parsed and checked by the real loader."""
    return Advisor.from_text("mcm rules 1\n" + body, "test.rules")
