"""The state of one guided `mcm-tui` session: rules, scenario, edited constraints, facts and decision (no Textual).

Every value is checked as it is typed, by the functions the CLI uses, and :meth:`Session.decide` calls
:meth:`mcm.advisor.Advisor.advise` as `mcm advise` does, so the TUI holds no logic of its own:
:meth:`Session.cli_args` is the equivalent command line and gives the same decision (``to_dict()`` equal).

Constraints: :meth:`Session.choose` fills :attr:`Session.constraints` with the scenario's ``require``/``prefer``
rows, in the scenario's order. A row equal to the scenario's stays the scenario's (its source and position stay
in the decision); a changed or added row is a user constraint (``--constraint``), placed as the engine places
it (an override where the scenario has it, a new metric at the end). Removing a scenario row has no
command-line form (``--constraint`` adds or overrides, never drops): the session then decides on the scenario
without it, and :meth:`Session.cli_args` needs the rules exported by :mod:`mcm.tui.export`.

Numbers are canonical as everywhere in mcm (ms, MB, W, fractions for accuracy). A bare number typed for a value
is canonical too, like ``--set`` (``50`` latency is 50 ms, ``0.85`` accuracy is 85 %); text carries its unit
(``0.2 s``, ``85 %``).
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, cast

from mcm import metrics, units
from mcm.engine.fact_inputs import fact_text
from mcm.engine.facts import bound_op, metric_value, parse_env, parse_metrics
from mcm.exceptions import FactsError, McmError, RulesError
from mcm.present.language import Lang
from mcm.rules.ast import RuleSet, Scenario
from mcm.rules.facts import FACTS, names_in
from mcm.units import describe, did_you_mean

if TYPE_CHECKING:
    from mcm.advisor import Advisor
    from mcm.engine.decision import Decision
    from mcm.measure.report import MeasureReport

#: An ``env.*`` / ``data.*`` value: a flag, a number or a text.
FactValue = bool | float | str


@dataclass(frozen=True)
class FieldProblem:
    """A field whose text is not valid, so that its value is not in the session: the step it is on, what the user
    sees it as (a metric's label, a fact's name) and why."""

    step: str
    field: str
    message: str


#: Enters a screen's valid edits into the session and returns its invalid fields (see :meth:`Session.commit_edits`).
Editor = Callable[[], "list[FieldProblem]"]


class SessionError(McmError):
    """A request the session cannot carry out as it stands (rules not loaded, no scenario chosen, a state the
    command line cannot express); ``hint`` says what to do."""

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.hint = hint


@dataclass(frozen=True)
class ConstraintRow:
    """One constraint as the session shows it: ``metric op value`` (canonical), hard or soft, display unit."""

    metric: str
    op: str
    value: float
    hard: bool
    unit: str

    def text(self) -> str:
        """What ``Advisor.advise(constraints=[...])`` and ``--constraint`` accept, read back exactly:
        ``latency_ms < 100 ms``, ``prefer accuracy >= 85 %``."""
        return f"{'' if self.hard else 'prefer '}{self.metric} {self.op} {metrics.lookup(self.metric).literal(self.value)}"

    @property
    def shown(self) -> str:
        """The limit in the display unit for people (``100 ms``, ``85 %``; 6 significant digits)."""
        return metrics.format_value(self.metric, self.value, units.PRECISE_DIGITS)

    def same_limit(self, other: ConstraintRow) -> bool:
        """Whether both rows state the same limit (the display unit does not count)."""
        return (self.metric, self.op, self.value, self.hard) == (
            other.metric,
            other.op,
            other.value,
            other.hard,
        )


@dataclass(frozen=True)
class ScenarioInfo:
    """A scenario for the chooser: metric lists, default constraints, suggested stack, where it is defined."""

    name: str
    label: str | None
    core: tuple[str, ...]
    secondary: tuple[str, ...]
    ignored: tuple[str, ...]
    constraints: tuple[ConstraintRow, ...]
    stack: tuple[str, ...]
    file: str
    line: int
    #: ``(metric, low, high)`` outcome ranges the scenario promises (canonical units).
    expected: tuple[tuple[str, float, float], ...] = ()


def parse_metric_text(metric: str, text: str, scope: str = "measured") -> tuple[metrics.Metric, float]:
    """``(metric, canonical value)`` from typed text: a bare number is canonical (like ``--set``), anything else
    carries a unit the metric accepts. Raises ``UnknownMetricError`` / ``FactsError`` with a hint."""
    info = metrics.lookup(metric.strip())
    stripped = text.strip()
    if not stripped:
        raise FactsError(f"{scope}.{info.name}: no value", f"{info.name} accepts {describe(info.accepts)}")
    raw: float | str
    try:
        raw = float(stripped)
    except ValueError:
        raw = stripped
    return info, metric_value(info, raw, f"{scope}.{info.name}")


def scenario_rows(scenario: Scenario) -> tuple[ConstraintRow, ...]:
    """A scenario's ``require``/``prefer`` lines as rows, in file order."""
    rows = []
    for c in scenario.constraints:
        info = metrics.lookup(c.metric)
        rows.append(ConstraintRow(info.name, c.op, c.value.value, c.hard, info.display))
    return tuple(rows)


def scenario_info(scenario: Scenario) -> ScenarioInfo:
    return ScenarioInfo(
        name=scenario.name,
        label=scenario.label,
        core=tuple(i.name for i in scenario.core),
        secondary=tuple(i.name for i in scenario.secondary),
        ignored=tuple(i.name for i in scenario.ignore),
        constraints=scenario_rows(scenario),
        stack=tuple(s.technique if s.technique is not None else s.text or "" for s in scenario.stack),
        file=scenario.pos.file,
        line=scenario.pos.line,
        expected=tuple((e.metric, e.low, e.high) for e in scenario.expected),
    )


def merge_rows(
    defaults: Iterable[ConstraintRow], removed: Iterable[str], overrides: Iterable[ConstraintRow]
) -> list[ConstraintRow]:
    """The rows the engine ends up with: the defaults without ``removed``, each override in place of the default
    on its metric or else appended (the order of :func:`mcm.engine.facts.merge_limits`)."""
    gone = set(removed)
    merged = {r.metric: r for r in defaults if r.metric not in gone}
    merged.update((r.metric, r) for r in overrides)
    return list(merged.values())


class Session:
    """One guided session. Plain state: the app shows it and calls the methods; nothing here draws.

    Attributes the app reads (and may assign): ``lang``, ``scenario`` (set it with :meth:`choose`),
    ``constraints``, ``measured`` (canonical), ``env``, ``data``, ``decision`` (the last :meth:`decide`), ``error``
    (the rules error of the last load, kept rather than raised so that it can be shown with its location).
    """

    def __init__(self, rules: Sequence[str | os.PathLike[str]] | None = None, lang: Lang = "en") -> None:
        if rules is None:
            from mcm.rulebook import default_rules

            rules = default_rules()
        elif isinstance(rules, (str, os.PathLike)):
            rules = [cast("str | os.PathLike[str]", rules)]
        self.rules_paths: tuple[str, ...] = tuple(os.fspath(p) for p in rules)
        self.lang: Lang = lang
        self.error: RulesError | None = None
        self.scenario: str | None = None
        self.constraints: list[ConstraintRow] = []
        self.measured: dict[str, float] = {}
        self.env: dict[str, FactValue] = {}
        self.data: dict[str, FactValue] = {}
        self.decision: Decision | None = None
        self._ruleset: RuleSet | None = None
        self._advisor: Advisor | None = None
        self._defaults: tuple[ConstraintRow, ...] = ()
        self._without: dict[frozenset[str], Advisor] = {}
        self._user_env: set[str] = set()
        self._decided = False
        self._cwd = os.getcwd()
        self._editors: dict[str, Editor] = {}
        #: True while a measurement runs (set by the face that runs it): its result is not in yet.
        self.measuring = False
        self.reload()

    # ---- rules

    def reload(self) -> None:
        """Read the rules again. On an error keep everything (``error`` says what is wrong, ``scenarios()`` is
        empty); on success keep the scenario when it still exists, with the edited rows kept and the unedited
        ones following the (possibly changed) file, and drop it otherwise."""
        from mcm.rules import load_rules

        self.decision = None
        self._advisor = None  # compiled on first use: listing the scenarios needs only the rules
        self._without.clear()
        try:
            ruleset = load_rules(*self.rules_paths)
        except RulesError as e:
            self.error, self._ruleset = e, None
            return
        self.error, self._ruleset, self._cwd = None, ruleset, os.getcwd()
        if self.scenario is None:
            return
        found = ruleset.scenarios.get(self.scenario)
        if found is None:
            self.scenario, self.constraints, self._defaults = None, [], ()
            return
        removed, overrides = self.removed_constraints(), self.user_constraints()
        self._defaults = scenario_rows(found)
        self.constraints = merge_rows(self._defaults, removed, overrides)

    @property
    def advisor(self) -> Advisor:
        """The advisor over the loaded rules; raises :class:`SessionError` while they have an error."""
        if self._advisor is None:
            from mcm.advisor import Advisor

            self._advisor = Advisor(self.ruleset)
        return self._advisor

    @property
    def ruleset(self) -> RuleSet:
        """The loaded rules; raises :class:`SessionError` while they have an error."""
        if self._ruleset is None:
            first = (
                self.error.errors[0].render().splitlines()[0] if self.error and self.error.errors else None
            )
            raise SessionError("the rules did not load: fix them and reload", first)
        return self._ruleset

    @property
    def loaded_from(self) -> str:
        """The working directory the rules were loaded from (their paths may be relative to it)."""
        return self._cwd

    def scenarios(self) -> tuple[ScenarioInfo, ...]:
        """The scenarios of the rules, in file order; empty while the rules have an error."""
        if self._ruleset is None:
            return ()
        return tuple(scenario_info(s) for s in self._ruleset.scenarios.values())

    def choose(self, name: str) -> None:
        """Choose a scenario; its constraints become the rows. Unknown name: ``AdviceError`` with a hint."""
        found = self.advisor.engine.scenario(name)
        assert found is not None
        self.scenario = found.name
        self._defaults = scenario_rows(found)
        self.constraints = list(self._defaults)
        self.decision = None

    def scenario_defaults(self) -> tuple[ConstraintRow, ...]:
        """The chosen scenario's own rows (what :meth:`reset_constraints` goes back to)."""
        return self._defaults

    # ---- constraints

    def parse_limit(self, metric: str, text: str) -> tuple[float, str]:
        """``"50 ms"``, ``"50"``, ``"0.2 s"``, ``"85 %"`` → (canonical value, display unit); bad text raises an
        ``McmError`` with a message and a hint (for validating as the user types)."""
        info, value = parse_metric_text(metric, text, "constraint")
        return value, info.display

    def set_constraint(self, metric: str, op: str, text: str, hard: bool = True) -> ConstraintRow:
        """Add or change the constraint on ``metric`` (the engine's order is kept: see the module docstring)."""
        bound = bound_op(op.strip())
        value, unit = self.parse_limit(metric, text)
        row = ConstraintRow(metrics.lookup(metric.strip()).name, bound, value, hard, unit)
        overrides = self.user_constraints()
        at = next((i for i, r in enumerate(overrides) if r.metric == row.metric), None)
        if at is None:
            overrides.append(row)
        else:
            overrides[at] = row
        removed = [m for m in self.removed_constraints() if m != row.metric]
        self.constraints = merge_rows(self._defaults, removed, overrides)
        return row

    def remove_constraint(self, metric: str) -> None:
        """Drop the constraint on ``metric`` (a known metric without one: nothing to do)."""
        name = metrics.lookup(metric.strip()).name
        self.constraints = [r for r in self.constraints if r.metric != name]

    def reset_constraints(self) -> None:
        """Back to the chosen scenario's own constraints."""
        self.constraints = list(self._defaults)

    def user_constraints(self) -> list[ConstraintRow]:
        """The rows that differ from the scenario's (changed or added): what ``--constraint`` passes."""
        defaults = {r.metric: r for r in self._defaults}
        return [
            r for r in self.constraints if not (r.metric in defaults and r.same_limit(defaults[r.metric]))
        ]

    def removed_constraints(self) -> tuple[str, ...]:
        """The metrics whose scenario constraint was removed (no command-line form: see the module docstring)."""
        present = {r.metric for r in self.constraints}
        return tuple(r.metric for r in self._defaults if r.metric not in present)

    # ---- facts

    def set_measured(self, metric: str, text: str) -> float | None:
        """A measured value, checked like ``--set`` (bare number canonical, else with a unit); ``""`` removes it."""
        if not text.strip():
            self.measured.pop(metrics.lookup(metric.strip()).name, None)
            return None
        info, value = parse_metric_text(metric, text, "measured")
        self.measured[info.name] = value
        return value

    def load_baseline(self, path: str | os.PathLike[str]) -> dict[str, float]:
        """Measured values from an ``mcm measure --format json`` report (or a ``{metric: number}`` object), as
        ``--baseline`` reads it; they replace the values of the same metrics. Returns what was read."""
        from mcm.engine.fact_inputs import baseline_metrics

        found = parse_metrics(baseline_metrics(os.fspath(path)), "measured")
        self.measured.update(found)
        return found

    def use_report(self, report: MeasureReport) -> None:
        """Take the metrics of a ``measure_model`` result (they replace the same metrics) and the env facts its
        provenance establishes, except those set with :meth:`set_env` (as ``--env`` wins over ``--model``)."""
        found = parse_metrics(dict(report.metrics), "measured")
        facts = parse_env(report.env_facts(), "env", [])
        self.measured.update(found)
        self.env.update((k, v) for k, v in facts.items() if k not in self._user_env)

    def measure(self, model: Any, **options: Any) -> MeasureReport:
        """Measure ``model`` here (``mcm.measure.measure_model``, imported now) and :meth:`use_report` it."""
        from mcm.measure import measure_model

        report = measure_model(model, **options)
        self.use_report(report)
        return report

    def set_env(self, key: str, text: str) -> FactValue | None:
        """An ``env.*`` fact, checked like ``--env`` (``nvidia_gpu=true``, ``threads=4``); ``""`` removes it."""
        name, value = self._fact("env", key, text)
        if value is None:
            self.env.pop(name, None)
            self._user_env.discard(name)
        else:
            self.env[name] = value
            self._user_env.add(name)
        return value

    def set_data(self, key: str, text: str) -> FactValue | None:
        """A ``data.*`` fact, checked like ``--data`` (``calibration=true``); ``""`` removes it."""
        name, value = self._fact("data", key, text)
        if value is None:
            self.data.pop(name, None)
        else:
            self.data[name] = value
        return value

    def _fact(self, scope: str, key: str, text: str) -> tuple[str, FactValue | None]:
        name = key.strip()
        name = name[len(scope) + 1 :] if name.startswith(f"{scope}.") else name
        fact = FACTS.get(f"{scope}.{name}")
        if fact is None:
            known = names_in(scope)
            hint = did_you_mean(name, known) or f"{scope} facts: {', '.join(known)}"
            raise FactsError(f"unknown fact '{scope}.{name}'", hint)
        stripped = text.strip()
        if not stripped:
            return name, None
        if fact.type == "string":
            from mcm.engine.fact_inputs import typed

            if not isinstance(typed({name: stripped})[name], str):
                values = f"known values: {', '.join(fact.values)}" if fact.values else "write a word"
                raise FactsError(f"{fact.path}: expected text, got {stripped!r}", values)
        return name, parse_env({name: stripped}, scope, [])[name]

    # ---- what the rules read

    def scenario_facts(self) -> tuple[str, ...]:
        """The ``env.*`` / ``data.*`` facts the chosen scenario's rules read, most telling first: the conditions
        of its decision tables, then the requirements and caveats of the techniques they (and its stack)
        recommend. Empty without a scenario or while the rules have an error."""
        if self.scenario is None or self._ruleset is None:
            return ()
        from mcm.engine.compiled import compiled
        from mcm.engine.evaluate import fact_paths

        rules = compiled(self._ruleset)
        paths: list[str] = []
        names: list[str] = []
        for table in rules.tables.get(self.scenario, ()):
            for rule in table.rules:
                paths += fact_paths(rule.condition.expr)
                names += [i.name for i in rule.rule.recommend]
            if table.decide.otherwise is not None:
                names += [i.name for i in table.decide.otherwise.recommend]
        scenario = self._ruleset.scenarios.get(self.scenario)
        if scenario is not None:
            names += [s.technique for s in scenario.stack if s.technique is not None]
        for name in dict.fromkeys(names):
            paths += self._technique_paths(name, caveats=True)
        return tuple(p for p in dict.fromkeys(paths) if p in FACTS)

    def facts_needed(self, technique: str) -> tuple[str, ...]:
        """The ``env.*`` / ``data.*`` facts a technique's requirements read that are not given (what a why-not
        "unknown: fact ... not given" asks for)."""
        given = {f"env.{k}" for k in self.env} | {f"data.{k}" for k in self.data}
        return tuple(p for p in self._technique_paths(technique) if p in FACTS and p not in given)

    def _technique_paths(self, technique: str, *, caveats: bool = False) -> list[str]:
        if self._ruleset is None:
            return []
        from mcm.engine.compiled import compiled
        from mcm.engine.evaluate import fact_paths

        found = compiled(self._ruleset).techniques.get(technique)
        if found is None:
            return []
        conditions = [c for _, c in found.requires] + ([c for _, c in found.caveats] if caveats else [])
        return [p for c in conditions for p in fact_paths(c.expr)]

    # ---- fields being edited

    def add_editor(self, key: str, editor: Editor) -> None:
        """Register (or replace) what enters ``key``'s pending edits: a face calls it for each screen with fields,
        so that a step that reads the session can first take every valid edit and see every invalid one."""
        self._editors[key] = editor

    def remove_editor(self, key: str) -> None:
        self._editors.pop(key, None)

    def commit_edits(self) -> list[FieldProblem]:
        """Enter every valid pending edit; return the fields whose text is invalid (their values are not in the
        session: deciding on the rest would be deciding on what the user did not write)."""
        problems: list[FieldProblem] = []
        for editor in list(self._editors.values()):
            problems += editor()
        return problems

    # ---- deciding

    def latest(self) -> Decision | None:
        """A decision on the session as it is now, if one was asked for before (None otherwise, or when the
        current state cannot be decided): what the app returns on quit, never a plan for superseded inputs."""
        if self.decision is None and not self._decided:
            return None
        try:
            return self.decide()
        except McmError:
            return None

    def decide(self) -> Decision:
        """Decide on the current state (see the module docstring for how the rows are passed); the decision is
        also kept in :attr:`decision`. Bad facts raise ``FactsError``, no scenario among several ``AdviceError``."""
        self.decision, self._decided = None, True
        advisor = self._advisor_for(frozenset(self.removed_constraints()))
        self.decision = advisor.advise(
            self.scenario,
            measured=dict(self.measured),
            constraints=[r.text() for r in self.user_constraints()],
            env={k: v for k, v in self.env.items() if k in self._user_env},
            detected={k: v for k, v in self.env.items() if k not in self._user_env},
            data=dict(self.data),
        )
        return self.decision

    def _advisor_for(self, removed: frozenset[str]) -> Advisor:
        """The loaded advisor, or one whose chosen scenario lacks the ``removed`` constraints."""
        advisor = self.advisor
        if not removed or self.scenario is None:
            return advisor
        found = self._without.get(removed)
        if found is None:
            ruleset = advisor.ruleset
            scenario = ruleset.scenarios[self.scenario]
            kept = tuple(c for c in scenario.constraints if metrics.lookup(c.metric).name not in removed)
            scenarios = dict(ruleset.scenarios)
            scenarios[scenario.name] = dataclasses.replace(scenario, constraints=kept)
            from mcm.advisor import Advisor

            found = Advisor(dataclasses.replace(ruleset, scenarios=MappingProxyType(scenarios)))
            self._without[removed] = found
        return found

    def cli_args(self, rules_file: str | os.PathLike[str] | None = None) -> list[str]:
        """The ``mcm advise`` arguments that give the same decision: rules, ``--scenario``, ``--set`` (canonical
        numbers), ``--constraint`` (changed rows), ``--env``, ``--data``. With ``rules_file`` (the rules exported
        by :func:`mcm.tui.export.write_constraints_rules`) the constraints come from that file instead.

        Raises :class:`SessionError` when a scenario constraint was removed and no ``rules_file`` is given:
        ``--constraint`` can add or override a constraint but not drop one."""
        removed = self.removed_constraints()
        if rules_file is None and removed:
            raise SessionError(
                f"the command line cannot drop the scenario's constraint on {', '.join(removed)}",
                "export the constraints as a rules file and run `mcm advise FILE` with it",
            )
        paths = [os.fspath(rules_file)] if rules_file is not None else list(self.rules_paths)
        args = [os.path.join(".", p) if p.startswith("-") else p for p in paths]
        if self.scenario is not None:
            args += ["--scenario", self.scenario]
        from mcm.present.values import command_value

        for metric, value in self.measured.items():
            args += ["--set", f"{metric}={command_value(metric, value)}"]
        if rules_file is None:
            for row in self.user_constraints():
                args += ["--constraint", row.text()]
        for flag, facts in (("--env", self.env), ("--data", self.data)):
            for key, fact in facts.items():
                args += [flag, f"{key}={fact_text(fact)}"]
        return args


__all__ = [
    "ConstraintRow",
    "Editor",
    "FactValue",
    "FieldProblem",
    "Lang",
    "ScenarioInfo",
    "Session",
    "SessionError",
    "fact_text",
    "merge_rows",
    "parse_metric_text",
    "scenario_info",
    "scenario_rows",
]
