"""The stored parser tables must match the grammar, or every command start pays for a parser build."""

from __future__ import annotations

import json
import pickle

import pytest
from lark import Lark

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


def test_the_private_lark_loader_still_loads_plain_data_without_pickle(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """``tables.from_dict`` relies on lark's private ``Lark._load_from_dict`` (no public loader takes plain data
    and live options without pickle): if lark renames or changes it, this fails here, not at a user's start."""
    from mcm.rules import parser
    from mcm.rules.errors import Reporter

    assert callable(getattr(Lark, "_load_from_dict", None)), (
        "lark dropped Lark._load_from_dict: see tables.py"
    )

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("the stored tables must never be unpickled")

    monkeypatch.setattr(pickle, "load", refuse)
    monkeypatch.setattr(pickle, "loads", refuse)
    stored = json.loads(tables.TABLES.read_text(encoding="utf-8"), object_hook=tables._int_keys)
    loaded = tables.from_dict(
        stored["data"], stored["memo"], transformer=parser._Builder(), postlex=parser._PostLex()
    )
    built = parser.build_parser()
    assert loaded.options.parser == built.options.parser == "lalr"
    assert [t.name for t in loaded.terminals] == [t.name for t in built.terminals]
    text = "mcm rules 1\ntechnique t { effect latency_ms /= 2 .. 3 requires not env.npu }\n"
    parsed = []
    for lark_parser in (loaded, built):
        monkeypatch.setattr(parser, "_parser", lambda p=lark_parser: p)
        parsed.append(parser.parse_source(text, "t.rules", Reporter()))
    assert parsed[0] is not None and parsed[0] == parsed[1]
