"""The grammar and parser: strict LALR build, one lazily built parser per process, speed, cheap import."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
import time
from collections.abc import Callable

from lark import Token, Tree
from rules_helpers import GOOD, walk

from mcm.rules import parse_text
from mcm.rules.parser import _parser, build_parser


def test_grammar_builds_strictly() -> None:
    """No LALR conflicts and no terminal collisions in any lexer state (needs lark[interegular])."""
    build_parser(strict=True)


def test_parser_is_built_once() -> None:
    assert _parser() is _parser()


def test_every_rule_builds_an_ast_node() -> None:
    """No lark Tree or Token (a str subclass) leaks into the AST: every grammar rule has its callback."""
    rules_file = parse_text((GOOD / "complete.rules").read_text(), "complete.rules")
    for node in walk(rules_file):
        for field in dataclasses.fields(node):
            value = getattr(node, field.name)
            assert not isinstance(value, (Tree, Token)), (node, field.name)


def _two_hundred_lines() -> str:
    block = """
technique t{i} "technique {i}" {{
  effect latency_ms /= 2x .. 4x
  effect accuracy -= 1 pp .. 2 pp
  requires data.calibration and (env.runtime == "onnxruntime" or env.nvidia_gpu)
}}"""
    text = "mcm rules 1\n" + "".join(block.format(i=i) for i in range(40))
    assert text.count("\n") >= 200
    return text


def test_parse_speed() -> None:
    text = _two_hundred_lines()
    parse_text(text)  # the parser is built on first use
    best = min(_timed(lambda: parse_text(text)) for _ in range(5))
    assert best < 0.05, f"a 200-line file took {best * 1000:.1f} ms"


def _timed(work: Callable[[], object]) -> float:
    start = time.perf_counter()
    work()
    return time.perf_counter() - start


def test_import_does_not_load_lark() -> None:
    code = "import sys, mcm.rules, mcm.metrics, mcm.units; assert 'lark' not in sys.modules, 'lark imported'"
    subprocess.run([sys.executable, "-c", code], check=True)
