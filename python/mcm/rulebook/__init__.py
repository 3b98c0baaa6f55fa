"""The shipped rules: the reference's scenarios (mobile, video, cloud, edge, iot), its technique table and its
decision steps, as ``.rules`` files installed with the package (``rules/`` in a checkout links here)."""

from __future__ import annotations

from pathlib import Path

DIRECTORY = Path(__file__).resolve().parent


def default_rules() -> list[str]:
    """What to load when the user names no rules: ``./rules`` when it holds ``.rules`` files, else the shipped ones."""
    local = Path("rules")
    return ["rules"] if local.is_dir() and any(local.glob("*.rules")) else [str(DIRECTORY)]


__all__ = ["DIRECTORY", "default_rules"]
