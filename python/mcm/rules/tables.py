"""Precomputed LALR tables for the rules grammar, so a command does not rebuild the parser at every start.

Building the parser from ``grammar.lark`` costs a few hundred milliseconds; loading the serialized tables costs
about twenty. The tables are plain JSON data (nothing in them can run code), stamped with the grammar's hash and
lark's version, and used only when both match; otherwise the parser is built from the grammar.
Regenerate after editing the grammar: ``python -m mcm.rules.tables``.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from lark import Lark

GRAMMAR = Path(__file__).with_name("grammar.lark")
TABLES = Path(__file__).with_name("grammar_tables.json")
#: Options that hold live objects; they are supplied again at load time.
_LIVE_OPTIONS = ("postlex", "transformer", "lexer_callbacks", "edit_terminals", "tree_class", "_plugins")


def stamp() -> dict[str, str]:
    """What the tables must have been made from: this grammar text and this lark version."""
    import lark

    digest = hashlib.sha256(GRAMMAR.read_bytes()).hexdigest()
    return {"grammar_sha256": digest, "lark_version": lark.__version__}


def serialize(parser: Lark) -> dict[str, Any]:
    """The tables of a built parser as JSON-ready data, with the stamp."""
    from lark.grammar import Rule
    from lark.lexer import TerminalDef

    data, memo = parser.memo_serialize([TerminalDef, Rule])
    data["options"] = {k: v for k, v in data["options"].items() if k not in _LIVE_OPTIONS}
    return {**stamp(), "data": data, "memo": memo}


def _int_keys(d: dict[str, Any]) -> dict[Any, Any]:
    # JSON turns lark's integer keys (memo ids, parser states) into strings; no other key is all digits.
    return {int(k) if k.isdigit() else k: v for k, v in d.items()}


def load(**live: Any) -> Lark | None:
    """The parser from the stored tables with the live options (transformer, postlex), or None if stale/absent."""
    try:
        stored = json.loads(TABLES.read_text(encoding="utf-8"), object_hook=_int_keys)
    except (OSError, ValueError):
        return None
    if {k: stored.get(k) for k in ("grammar_sha256", "lark_version")} != stamp():
        return None
    return from_dict(stored["data"], stored["memo"], **live)


def from_dict(data: dict[str, Any], memo: dict[Any, Any], **live: Any) -> Lark:
    """A parser from serialized tables (plain data), with the live options.

    lark has no public loader that reads plain data and takes live options: ``Lark.load`` deserializes Python
    objects from a file (which can run code), and given a dict it takes no transformer and no postlex; lark's own
    parser cache deserializes objects too. ``Lark._load_from_dict`` is the private loader lark's standalone
    generator uses; it reads the dict as data only. This is the one place it is used, and
    ``tests/rules/test_tables.py`` fails loudly when lark renames or changes it (the stamp's lark version makes
    stale tables fall back to building the parser, but would not catch a changed loader).
    """
    from lark import Lark

    parser: Lark = Lark._load_from_dict(data, memo, **live)  # type: ignore[no-untyped-call]
    return parser


def write(parser: Lark) -> None:
    """Store the tables of ``parser`` next to the grammar (atomically)."""
    text = json.dumps(serialize(parser), sort_keys=True, separators=(",", ":"))
    from mcm.files.write import write_atomic

    write_atomic(TABLES, text + "\n")


if __name__ == "__main__":
    from mcm.rules.parser import build_parser

    write(build_parser())
    print(f"wrote {TABLES}")
