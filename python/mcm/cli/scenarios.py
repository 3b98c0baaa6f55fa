"""`mcm scenarios [RULES]`: the quick-decision table — which metrics each scenario watches, and its limits.

Labels and file names come from the rules files: every cell is shown through :func:`mcm.sanitize.inline`."""

from __future__ import annotations

import argparse
from collections.abc import Iterable

from mcm import metrics
from mcm.present.language import Lang, default_lang, label
from mcm.present.terminal import Style, table
from mcm.rulebook import add_rules_argument, default_rules
from mcm.rules.ast import Ident
from mcm.sanitize import inline


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_rules_argument(parser)
    parser.add_argument("--lang", choices=("en", "zh"), default=None)


def run(args: argparse.Namespace) -> int:
    from mcm.rules import load_rules

    paths = args.rules or default_rules()
    lang: Lang = "zh" if (args.lang or default_lang()) == "zh" else "en"
    ruleset = load_rules(*paths)
    style = Style.for_stream()
    heads = (
        ["scenario", "核心指标", "次要指标", "可忽略", "约束", "file"]
        if lang == "zh"
        else ["scenario", "core", "secondary", "ignored", "constraints", "file"]
    )

    def names(idents: Iterable[Ident]) -> str:
        return ", ".join(label(i.name, lang) for i in idents) or "—"

    rows = []
    for s in ruleset.scenarios.values():
        limits = "; ".join(
            f"{c.metric} {c.op} {metrics.format_value(c.metric, c.value.value)}"
            + ("" if c.hard else " (prefer)")
            for c in s.constraints
        )
        title = f"{s.name}" + (f" ({s.label})" if s.label else "")
        rows.append([title, names(s.core), names(s.secondary), names(s.ignore), limits or "—", s.pos.file])
    print(table(heads, [[inline(cell) for cell in row] for row in rows], style))
    return 0
