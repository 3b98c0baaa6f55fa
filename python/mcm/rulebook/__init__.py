"""The shipped rules: the reference's scenarios (mobile, video, cloud, edge, iot), its technique table and its
decision steps, as ``.rules`` files installed with the package (``rules/`` in a checkout links here)."""

from __future__ import annotations

import os
from pathlib import Path

DIRECTORY = Path(__file__).resolve().parent


def default_rules() -> list[str]:
    """What to load when the user names no rules: ``./rules`` when it exists, else the shipped files."""
    return ["rules"] if os.path.isdir("rules") else [str(DIRECTORY)]


__all__ = ["DIRECTORY", "default_rules"]
