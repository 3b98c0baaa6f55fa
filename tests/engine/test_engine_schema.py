"""The decision's JSON form against the JSON Schema shipped in the package and the typed view of it."""

from __future__ import annotations

import json
import typing
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from test_engine_corpus import corpus

from mcm.advisor import Advisor
from mcm.cli.main import main
from mcm.engine import decision_json
from mcm.engine.decision import SCHEMA

SHIPPED = Path(__file__).resolve().parents[2] / "rules"


@pytest.fixture(scope="module")
def validator() -> Draft202012Validator:
    schema = decision_json.json_schema()
    Draft202012Validator.check_schema(schema)
    assert schema["properties"]["schema"]["const"] == SCHEMA == "mcm.decision/2"
    return Draft202012Validator(schema)


def test_every_decision_of_the_corpus_matches_the_schema(validator: Draft202012Validator) -> None:
    advisor = Advisor.from_files(SHIPPED)
    seen_infeasible = seen_feasible = False
    for n, (name, facts) in enumerate(corpus(advisor)):
        if n == 300:
            break
        d = advisor.advise(name, **facts)
        data = json.loads(json.dumps(d.to_dict()))  # as a reader of the JSON gets it
        errors = sorted(validator.iter_errors(data), key=str)
        assert not errors, (name, facts, [e.message for e in errors[:3]])
        seen_infeasible |= data["infeasibility"] is not None
        seen_feasible |= data["meets_constraints"]
    assert seen_infeasible and seen_feasible


def test_the_command_line_json_matches_the_schema(
    validator: Draft202012Validator, capsys: pytest.CaptureFixture[str]
) -> None:
    main(
        [
            "advise",
            "--scenario",
            "iot",
            "--set",
            "model_size_mb=14MB",
            "--env",
            "device=mcu",
            "--format",
            "json",
        ]
    )
    assert not list(validator.iter_errors(json.loads(capsys.readouterr().out)))


def test_a_changed_decision_does_not_match(validator: Draft202012Validator) -> None:
    data: dict[str, Any] = json.loads(json.dumps(Advisor.from_files(SHIPPED).advise("mobile").to_dict()))
    data["surprise"] = 1
    assert list(validator.iter_errors(data))


def _properties(schema: dict[str, Any]) -> dict[str, Any]:
    """The object schema inside ``schema`` (through arrays, maps and nullable ``oneOf``)."""
    if "items" in schema:
        return _properties(schema["items"])
    if "properties" not in schema and isinstance(schema.get("additionalProperties"), dict):
        return _properties(schema["additionalProperties"])
    for option in schema.get("oneOf", ()):
        if option.get("type") == "object":
            return _properties(option)
    return schema


def _typed(hint: Any) -> Any:
    """The TypedDict inside a hint (through ``list[...]`` and ``X | None``), or None."""
    if typing.is_typeddict(hint):
        return hint
    for arg in typing.get_args(hint):
        found = _typed(arg)
        if found is not None:
            return found
    return None


def test_the_typed_view_names_exactly_the_schemas_keys() -> None:
    def compare(typed: Any, schema: dict[str, Any], where: str) -> None:
        hints = typing.get_type_hints(typed)
        assert set(hints) == set(schema["properties"]) == set(schema["required"]), where
        for key, hint in hints.items():
            inner = _typed(hint)
            if inner is not None:
                compare(inner, _properties(schema["properties"][key]), f"{where}.{key}")

    compare(decision_json.DecisionJSON, decision_json.json_schema(), "decision")


def test_the_schema_and_the_typed_view_list_the_rules_stages() -> None:
    from mcm.engine.techniques import STAGES

    def stage_enums(node: object) -> list[list[str]]:
        if isinstance(node, dict):
            own = (
                [node["stage"]["enum"]]
                if isinstance(node.get("stage"), dict) and "enum" in node["stage"]
                else []
            )
            return own + [e for v in node.values() for e in stage_enums(v)]
        return [e for v in node for e in stage_enums(v)] if isinstance(node, list) else []

    assert stage_enums(decision_json.json_schema()) == [list(STAGES)]  # the rules' stages, then "other"
    hints = typing.get_type_hints(decision_json.PlanStepJSON)
    assert typing.get_args(hints["stage"]) == STAGES
