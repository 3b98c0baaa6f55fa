"""The embedding API: load rules once, advise many times, get typed, explained decisions.

    from mcm.advisor import Advisor

    advisor = Advisor.from_files("rules/")                       # or Advisor(ruleset)
    decision = advisor.advise(
        "mobile",
        measured={"latency_ms": "120 ms", "model_size_mb": 98, "accuracy": "94.5 %"},
        constraints=["latency_ms < 50 ms", "model_size_mb < 20 MB", "accuracy >= 0.90"],
        env={"nvidia_gpu": True},
    )
    decision.recommendations[0].technique, decision.meets_constraints, decision.to_dict()
    advisor.run_tests().coverage.percent

Numbers are canonical (ms, MB, fractions for accuracy); strings carry units (``"120 ms"``, ``"94.5 %"``).
Constraints take a mapping (``{"latency_ms": 50}``: at most for lower-is-better metrics, at least otherwise) or
strings (``"latency_ms<50ms"``, ``"prefer accuracy >= 90 %"``); they override the scenario's on the same metric.
``baseline`` defaults to ``measured``. Bad input raises :class:`mcm.exceptions.FactsError` (an ``McmError``).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping

from mcm.engine.decision import Decision
from mcm.engine.engine import Engine
from mcm.engine.facts import ConstraintsInput, FactInput, make_facts
from mcm.engine.plan import Bounds
from mcm.engine.ruletests import TestReport, run_tests
from mcm.rules.ast import RuleSet

StrPath = str | os.PathLike[str]


class Advisor:
    """A loaded, compiled ruleset; :meth:`advise` may be called any number of times (and from several threads)."""

    def __init__(
        self, ruleset: RuleSet, *, max_steps: int = 3, max_plans: int = 3, max_nodes: int = 4096
    ) -> None:
        self._engine = Engine(ruleset)
        self._bounds = Bounds(max_steps=max_steps, max_plans=max_plans, max_nodes=max_nodes)

    @classmethod
    def from_files(cls, paths: StrPath | Iterable[StrPath], **options: int) -> Advisor:
        """Load and check rules files (a directory stands for its ``*.rules``); raises ``RulesError``."""
        from mcm.rules import load_rules

        listed = (paths,) if isinstance(paths, (str, os.PathLike)) else tuple(paths)
        return cls(load_rules(*listed), **options)

    @classmethod
    def from_text(cls, text: str, filename: str = "<string>", **options: int) -> Advisor:
        """Load and check rules from a string (no includes); raises ``RulesError``."""
        from mcm.rules import load_text

        return cls(load_text(text, filename), **options)

    @property
    def ruleset(self) -> RuleSet:
        return self._engine.ruleset

    @property
    def engine(self) -> Engine:
        """The compiled engine underneath (for callers that build :class:`~mcm.engine.Facts` themselves)."""
        return self._engine

    @property
    def scenarios(self) -> tuple[str, ...]:
        """The scenario names, in file order."""
        return tuple(self.ruleset.scenarios)

    def advise(
        self,
        scenario: str | None = None,
        *,
        measured: Mapping[str, FactInput] | None = None,
        constraints: ConstraintsInput | None = None,
        env: Mapping[str, FactInput] | None = None,
        data: Mapping[str, FactInput] | None = None,
        baseline: Mapping[str, FactInput] | None = None,
        detected: Mapping[str, FactInput] | None = None,
    ) -> Decision:
        """Decide for ``scenario`` (None: the only one) on these facts; see the module docstring for the forms.
        ``detected``: ``env`` facts a measurement established (``env`` wins; no warning that a rule ignores one)."""
        chosen = self._engine.scenario(scenario)
        facts = make_facts(
            chosen,
            measured=measured,
            baseline=baseline,
            constraints=constraints,
            env=env,
            data=data,
            detected=detected,
        )
        return self._engine.decide(facts, chosen, self._bounds)

    def run_tests(self) -> TestReport:
        """Run the rules' own ``test`` blocks; the report has per-test results and rule coverage."""
        return run_tests(self._engine)


__all__ = ["Advisor", "StrPath"]
