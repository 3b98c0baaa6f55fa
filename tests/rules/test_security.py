"""Rules are data: no code runs, no Python object is reachable from a rule, names are only names."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

from rules_helpers import GOOD, HEADER, PACKAGE, codes_of, walk

import mcm.metrics
import mcm.units
from mcm.rules import ast, load_rules

SOURCES = [
    *PACKAGE.glob("*.py"),
    *PACKAGE.glob("*.lark"),
    Path(mcm.metrics.__file__),
    Path(mcm.units.__file__),
]
FORBIDDEN = re.compile(
    r"(?<![.\w])(eval|exec|compile|getattr|setattr|delattr|globals|locals|vars|__import__)\s*\("
    r"|\b(importlib|import_module|pickle|marshal)\b|cache\s*=\s*True"
)
LEAVES = (str, int, float, bool, type(None))


def test_no_dynamic_code_in_the_rules_package() -> None:
    for path in SOURCES:
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            assert not FORBIDDEN.search(line.split("#")[0]), f"{path.name}:{number}: {line.strip()}"


def test_ast_holds_only_plain_data() -> None:
    ruleset = load_rules(GOOD / "complete.rules")
    for rules_file in ruleset.files:
        for node in walk(rules_file):
            assert type(node).__module__ == ast.__name__
            for field in dataclasses.fields(node):
                value = getattr(node, field.name)
                assert isinstance(value, (*LEAVES, tuple)) or dataclasses.is_dataclass(value), (
                    node,
                    field.name,
                )
                assert not callable(value) or dataclasses.is_dataclass(value)


def test_hostile_names_are_just_unknown_names() -> None:
    text = HEADER + (
        "technique __import__ {\n  effect latency_ms /= 2\n  requires env.__class__ and data.__dict__\n}\n"
        "scenario s {\n  require __builtins__ < 1 ms\n}\n"
        "decide for s policy first {\n  rule r: when measured.__init__ > 1 ms then recommend os because \"__import__('os')\"\n}\n"
    )
    assert codes_of(text) == ["E033", "E034", "E034", "E041", "E033"]


def test_rule_names_cannot_reach_parser_callbacks() -> None:
    """Grammar rule names (start, header, ...) are callback names; as rule text they are plain names."""
    text = HEADER + "technique start {\n  effect latency_ms /= 2\n  excludes header, _parser, __init__\n}\n"
    assert codes_of(text) == ["E041", "E041", "E041"]
