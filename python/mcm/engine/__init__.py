"""The engine (DESIGN.md §5): facts in, an explained :class:`Decision` out.

Modules, one job each: ``facts`` (typed facts, user input, constraints), ``evaluate`` (conditions compiled to
closures, explanations), ``techniques`` (applicability, caveats, derived effects, stages), ``decide`` (decision
tables under ``first``/``collect``), ``checks`` (constraint checks), ``plan`` (plan search and ranking),
``explain`` (why-not, relaxation, the impossible triangle), ``decision`` (the result and its JSON schema),
``compiled`` (the per-RuleSet cache), ``engine`` (one call end to end), ``ruletests`` (a rules file's own tests).
Embedders use :class:`mcm.advisor.Advisor`.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mcm.engine.decision import SCHEMA, Decision
    from mcm.engine.engine import Engine
    from mcm.engine.facts import Facts, Limit, make_facts, parse_constraint, parse_constraints
    from mcm.engine.plan import Bounds
    from mcm.engine.ruletests import TestReport, run_tests

#: Loaded on first use, so that importing one module (``mcm.engine.facts``) does not load them all.
_LAZY = {
    "SCHEMA": "decision",
    "Decision": "decision",
    "Engine": "engine",
    "Facts": "facts",
    "Limit": "facts",
    "make_facts": "facts",
    "parse_constraint": "facts",
    "parse_constraints": "facts",
    "Bounds": "plan",
    "TestReport": "ruletests",
    "run_tests": "ruletests",
}


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module 'mcm.engine' has no attribute {name!r}")
    return import_module(f"mcm.engine.{_LAZY[name]}").__dict__[name]


__all__ = [
    "SCHEMA",
    "Bounds",
    "Decision",
    "Engine",
    "Facts",
    "Limit",
    "TestReport",
    "make_facts",
    "parse_constraint",
    "parse_constraints",
    "run_tests",
]
