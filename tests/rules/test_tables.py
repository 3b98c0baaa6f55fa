"""The stored parser tables must match the grammar, or every command start pays for a parser build."""

from __future__ import annotations

import json

from mcm.rules import tables


def test_stored_tables_are_fresh() -> None:
    stored = json.loads(tables.TABLES.read_text(encoding="utf-8"))
    assert {k: stored[k] for k in ("grammar_sha256", "lark_version")} == tables.stamp(), (
        "grammar.lark changed: run `python -m mcm.rules.tables`"
    )


def test_stored_tables_load_and_parse() -> None:
    from mcm.rules import parser

    assert tables.load() is not None
    parser._parser.cache_clear()
    assert parser._parser().options.parser == "lalr"
