"""The shipped rules: the reference's scenarios (mobile, video, cloud, edge, iot), its technique table and its
decision steps, as ``.rules`` files installed with the package (``rules/`` in a checkout links here)."""

from __future__ import annotations

import argparse
from pathlib import Path

DIRECTORY = Path(__file__).resolve().parent


def default_rules() -> list[str]:
    """What to load when the user names no rules: ``./rules`` when it holds ``.rules`` files, else the shipped ones."""
    local = Path("rules")
    return ["rules"] if local.is_dir() and any(local.glob("*.rules")) else [str(DIRECTORY)]


#: What every command that reads rules says of its rules argument.
RULES_HELP = (
    "rules files or directories (default: ./rules when it holds .rules files, else the shipped rules)"
)


def add_rules_argument(parser: argparse.ArgumentParser, name: str = "rules") -> None:
    """The optional positional list of rules files or directories, as every command (`mcm`, `mcm-tui`) takes it."""
    parser.add_argument(name, nargs="*", metavar=name.upper(), help=RULES_HELP)


__all__ = ["DIRECTORY", "RULES_HELP", "add_rules_argument", "default_rules"]
