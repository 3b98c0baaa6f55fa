"""`mcm advise --model M`: measure the model here first, and turn the report into facts for the advisor.

The measured values describe this machine, not necessarily the deployment target: a warning says so, and any
``--env`` given on the command line overrides what was detected here.
"""

from __future__ import annotations

import sys


def measure_for_advice(model: str) -> tuple[dict[str, float], dict[str, bool | float | str]]:
    """``(measured metrics, env facts)`` from measuring ``model`` (a file, an entry point or ``demo``)."""
    from mcm.measure import measure_model

    report = measure_model(model)
    print(
        f"mcm: measured {model} on this machine; pass --env to describe a different target",
        file=sys.stderr,
    )
    return dict(report.metrics), report.env_facts()
