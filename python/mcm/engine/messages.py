"""The engine's texts for people, as messages: an id and parameters, English by default, other languages by
catalogue (the Chinese one is :mod:`mcm.present.messages_zh`; faces render with :mod:`mcm.present.messages`).

A :class:`Message` *is* its English text (a ``str`` subclass), so the Decision's fields, its JSON form
(``mcm.decision/2``) and every caller that reads text are unchanged; a face that knows a language renders the
same message from its id and parameters with :func:`render`. Plain strings (reasons and caveats written in rules
files, names, positions) pass through :func:`render` as written.

Templates are ``str.format`` strings over named fields. A parameter may be

- a number (formatted by the template's spec, e.g. ``{percent:+.1f}``) or a plain string (shown as it is);
- another :class:`Message`, rendered in the same language;
- a tuple of strings or messages, joined by the field's format spec (``{parts:; }``, ``{names:, }``);
- a lazy object with ``render_in(catalogue) -> str`` (a condition's explanation, re-explained in the language).

Messages are made where the engine writes text; on hot paths (one per rule and call) the engine defers making
them until the text is read (see :class:`mcm.engine.decision.TraceEntry`).
"""

from __future__ import annotations

import string
from collections.abc import Mapping
from typing import NamedTuple, Protocol


class Catalogue(NamedTuple):
    """The templates of one language, by message id."""

    lang: str
    templates: Mapping[str, str]


class Lazy(Protocol):
    """A parameter written only when rendered, in the catalogue's language."""

    def render_in(self, catalogue: Catalogue) -> str: ...


#: The English templates, by id. Every id has a Chinese template in :mod:`mcm.present.messages_zh` with the same
#: fields (tests check it).
TEMPLATES: dict[str, str] = {
    # values and words inside condition explanations (mcm.engine.evaluate)
    "value.true": "true",
    "value.false": "false",
    "value.unknown": "unknown",
    "explain.not_given": "{path} (not given)",
    "explain.not_evaluated": "({source}: not evaluated)",
    "explain.error": "{source} → error: {reason}",
    "explain.outcome": "{outcome}",
    "explain.skipped": "{source} (not evaluated)",
    "outcome.unknown": "unknown: {facts:, }",
    "outcome.fact_not_given": "fact {fact} not given",
    "kind.flag": "a flag",
    "kind.text": "a text",
    "kind.number": "a number",
    "kind.unknown": "unknown",
    "eval.not_a_condition": "a condition must be true or false, got {kind}",
    "eval.needs_numbers": "{what} needs numbers, got {kind}",
    "eval.needs_flag": "'{what}' needs true or false, got {kind}",
    "eval.compares": "'{op}' compares {left} with {right}",
    "eval.division_by_zero": "division by zero",
    "eval.not_finite": "the result is not a finite number",
    # decision tables (mcm.engine.decide)
    "trace.skipped_first": "skipped (policy first): rule {rule} fired",
    "trace.rule_error": "{pos}: rule {rule} could not be evaluated: {problem}",
    "trace.none_usable": "none of its techniques can be used here: {refused:; }",
    "trace.refusals": "{refused:; }",
    "trace.refused": "{technique}: {why}",
    "trace.otherwise_rule_fired": "skipped: rule {rule} fired",
    "trace.otherwise_held": "skipped: a rule's condition held",
    "trace.otherwise_unknown": "skipped: {rules:, } could not be evaluated (give the missing facts)",
    "trace.otherwise_fired": "no rule's condition held",
    # techniques (mcm.engine.techniques)
    "technique.unmet": "requirement unmet: {outcome}",
    "technique.because": "{text} ({reason})",
    "technique.caveat_applies": "caveat when {condition} applies",
    "technique.caveat_may_apply": "caveat when {condition} may apply ({missing:, } not given)",
    "technique.caveat_error": "{technique}: caveat at {pos} cannot be evaluated: {reason}",
    "technique.assumes": "assumes {fact} = {value} (not given): {reason}",
    "technique.combined": "with {technique} earlier in the plan",
    "technique.caveat_mixed": "a caveat mixes a factor with a shift on one metric; the unknown case was left out",
    # facts and the engine (mcm.engine.facts, mcm.engine.engine)
    "facts.better_side": "constraint {constraint} bounds the better side of {metric}",
    "facts.never_holds": "constraint {constraint} can never hold: {why}",
    "facts.unknown_value": "{fact} = {value} is not a known value ({known:, })",
    "engine.may_not_apply": "recommended {technique} may not apply: {note}",
    "engine.unchecked": "hard constraint {constraint} cannot be checked: measured.{metric} not given",
    "engine.truncated": "plan search stopped after {plans} plans; later ones were not considered",
    "engine.too_many_candidates": "plan search takes at most {most} techniques that may help, the first in step"
    " order: {left:, } were not considered",
    # constraint checks (mcm.engine.checks)
    "check.unknown": "{constraint}: unknown (measured.{metric} not given)",
    "check.met": "{metric} {value} {op} {limit}: met",
    "check.violated": "{metric} {value} {op} {limit}: violated",
    "check.ratio": "{text} ({ratio:.3g}× the limit)",
    # why not (mcm.engine.explain)
    "why_not.excluded": "excluded by {blocker}, which is in the top plan",
    "why_not.nothing_to_improve": (
        "nothing to improve: every constraint with a value is met and no core metric is measured"
    ),
    "why_not.no_gain": "does not improve any violated or core metric ({targets:, })",
    "why_not.target_down": "{metric} down",
    "why_not.target_up": "{metric} up",
    "why_not.not_needed": "not needed: the top plan ({plan}) meets every hard constraint without it",
    "why_not.ranked": "its best plan ({plan}) ranks #{rank}",
    "why_not.cut_short": "not in any ranked plan: the search was cut short",
    "why_not.no_plan_keeps": "not in any ranked plan: no plan within the step limit keeps it",
    "plan.no_change": "no change",
    "plan.steps": "{techniques: + }",
    # infeasibility (mcm.engine.explain)
    "infeasible.parts": "{parts:; }",
    "infeasible.none": "no plan meets every hard constraint in the pessimistic case",
    "infeasible.measure": "measure {metrics:, } (hard constraints without a measured value)",
    "infeasible.supply": "give {fact}: with it a plan would meet them ({techniques:, } wait for it)",
    "infeasible.smallest": "smallest relaxation: {relax:; } (with {plan})",
    "infeasible.relax": "relax {metric} {op} {old} to {op} {new} ({percent:+.1f} %)",
    "corner.accuracy": "accuracy",
    "corner.latency": "latency",
    "corner.resources": "resources",
    "corners.and": "{corners: and }",
    "triangle.pair_accuracy_latency": "high accuracy + low latency needs more resources (a bigger GPU)",
    "triangle.pair_accuracy_resources": "high accuracy + low resources makes latency grow",
    "triangle.pair_latency_resources": "low latency + low resources makes accuracy drop",
    "triangle.pair": "impossible triangle (accuracy, latency, resources: pick two): {pair}",
    "triangle.gives_up": (
        "impossible triangle (accuracy, latency, resources: pick two): all three are held; "
        "the smallest relaxation gives up {corner}, since {pair}"
    ),
    "triangle.loosens": (
        "impossible triangle (accuracy, latency, resources: pick two): all three are held; "
        "the smallest relaxation loosens {dropped} and keeps {kept}"
    ),
    "triangle.relax_one": (
        "impossible triangle (accuracy, latency, resources: pick two): all three are held; relax one"
    ),
    "triangle.none": (
        "not a triangle trade-off (held: {held:, }): the known techniques do not reach the limit; "
        "a lighter architecture or other hardware may"
    ),
    "triangle.held_none": "none",
    # issue #12: advice an expert would sign (mcm.engine.plan, mcm.engine.explain, mcm.engine.engine)
    "why_not.ranked_worse": "its best plan ({plan}) ranks #{rank}: it makes {metrics:, } worse",
    "infeasible.none_without_regression": (
        "no plan meets every hard constraint in the pessimistic case without making a core or violated metric "
        "worse ({plan} meets them, but makes {metrics:, } worse)"
    ),
    "plan.left_out": "not in plan {rank}: {why}",
    "plan.left_out_give": "not in plan {rank}: {why}; give {options: }",
    "engine.unread_fact": "{fact} is read by no rule of these rules: giving it changes nothing",
}

ENGLISH = Catalogue("en", TEMPLATES)


class Message(str):
    """An engine text: the English string itself, plus the ``id`` and ``params`` to write it in another language.

    ``Message("why_not.excluded", blocker="int8_static")`` == ``"excluded by int8_static, which is in the top
    plan"``. Copies and pickles are plain strings.
    """

    id: str
    params: Mapping[str, object]

    def __new__(cls, id: str, /, **params: object) -> Message:
        self = super().__new__(cls, _format(TEMPLATES[id], params, ENGLISH))
        self.id = id
        self.params = params
        return self

    @classmethod
    def written(cls, english: str, id: str, /, **params: object) -> Message:
        """The message whose English text is already known (``english``: what the template gives)."""
        self = super().__new__(cls, english)
        self.id = id
        self.params = params
        return self

    def render_in(self, catalogue: Catalogue) -> str:
        """The message in ``catalogue``'s language (English where the catalogue lacks the id)."""
        if catalogue.lang == "en":
            return str.__str__(self)
        template = catalogue.templates.get(self.id)
        return str.__str__(self) if template is None else _format(template, self.params, catalogue)

    def __reduce__(self) -> tuple[type[str], tuple[str]]:
        return (str, (str.__str__(self),))


class _Joined:
    """A tuple parameter: its items, each rendered, joined by the field's format spec (default ``", "``)."""

    __slots__ = ("items",)

    def __init__(self, items: tuple[str, ...]) -> None:
        self.items = items

    def __format__(self, spec: str) -> str:
        return (spec or ", ").join(self.items)


def render(text: str | None, catalogue: Catalogue) -> str:
    """``text`` in ``catalogue``'s language: a :class:`Message` from its id and parameters, anything else as it
    is (a reason from a rules file, a name); None is the empty string."""
    if text is None:
        return ""
    if isinstance(text, Message):
        return text.render_in(catalogue)
    return text


def _value(value: object, catalogue: Catalogue) -> object:
    kind = type(value)
    if kind is str or kind is float or kind is int:
        return value
    if isinstance(value, str):
        return value.render_in(catalogue) if isinstance(value, Message) else value
    if isinstance(value, tuple):
        return _Joined(tuple(str(_value(v, catalogue)) for v in value))
    render_in = getattr(value, "render_in", None)
    return render_in(catalogue) if render_in is not None else value


def _format(template: str, params: Mapping[str, object], catalogue: Catalogue) -> str:
    if not params:
        return template
    return template.format_map({k: _value(v, catalogue) for k, v in params.items()})


def fields(template: str) -> frozenset[str]:
    """The named fields of a template (for the catalogue tests)."""
    return frozenset(name for _, name, _, _ in string.Formatter().parse(template) if name)


__all__ = ["ENGLISH", "TEMPLATES", "Catalogue", "Lazy", "Message", "fields", "render"]
