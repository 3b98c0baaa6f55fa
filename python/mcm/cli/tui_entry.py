"""Entry point of `mcm-tui` (the guided Textual session arrives with its issue)."""

from __future__ import annotations

import sys


def main() -> int:
    print("mcm-tui: not yet available; use the `mcm` command for now", file=sys.stderr)
    return 2
