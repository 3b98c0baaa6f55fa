"""The rule trace as a tree: decision table → rule (verdict, file:line) → explanation; then why-not per technique.

Each node's data is the ``file:line:col`` it points at (or None); selecting a node posts :class:`TraceTree.Jump`.
"""

from __future__ import annotations

from pathlib import Path

from rich.text import Text
from textual.message import Message
from textual.widgets import Tree
from textual.widgets.tree import TreeNode

from mcm.engine.decision import Decision
from mcm.present.language import Lang
from mcm.sanitize import inline
from mcm.tui.i18n import t

_MARK = {"fired": "✓", "not_fired": "·", "skipped": "-", "error": "!", "inapplicable": "×"}
_STYLE = {
    "fired": "bold green",
    "error": "bold red",
    "inapplicable": "yellow",
    "not_fired": "",
    "skipped": "dim",
}


def short_pos(pos: str) -> str:
    """``/long/path/rules/mobile.rules:20:8`` → ``mobile.rules:20:8`` (the full position opens on enter)."""
    return Path(pos).name if pos else pos


class TraceTree(Tree[str | None]):
    """Why (the rules that fired, and those that did not) and why not (each technique left out)."""

    class Jump(Message):
        """The user asked to see the rule at ``pos`` (``file:line:col``)."""

        def __init__(self, pos: str) -> None:
            super().__init__()
            self.pos = pos

    DEFAULT_CSS = """
    TraceTree { height: auto; max-height: 24; }
    """

    def __init__(self, lang: Lang, *, id: str | None = None) -> None:
        super().__init__(Text(t("rec.trace", lang)), id=id)
        self.lang = lang
        self.show_root = True

    def show_decision(self, decision: Decision) -> None:
        self.clear()
        tables: dict[str, TreeNode[str | None]] = {}
        for entry in decision.trace:
            parent = tables.get(entry.table)
            if parent is None:
                parent = self.root.add(Text(f"{entry.table} ({entry.policy})"), expand=True)
                tables[entry.table] = parent
            head = Text(f"{_MARK[entry.status]} {entry.rule} ", style=_STYLE.get(entry.status, ""))
            head.append(t(f"trace.{entry.status}", self.lang))
            head.append(f"  {inline(short_pos(entry.pos))}", style="dim")
            node = parent.add(head, data=entry.pos, expand=entry.status in ("fired", "error", "inapplicable"))
            if entry.explanation:
                node.add_leaf(Text(inline(entry.explanation)), data=entry.pos)
            if entry.recommend:
                node.add_leaf(Text(inline(f"→ {', '.join(entry.recommend)}: {entry.reason}")), data=entry.pos)
            if entry.note:
                node.add_leaf(Text(inline(entry.note), style="yellow"), data=entry.pos)
        if decision.why_not:
            why = self.root.add(Text(t("rec.why_not", self.lang)), expand=True)
            for w in decision.why_not:
                head = Text(f"{w.technique}: ", style="bold")
                head.append(inline(w.message))
                node = why.add(head, data=w.pos, expand=False)
                if w.pos:
                    node.add_leaf(Text(short_pos(w.pos), style="dim"), data=w.pos)
                if w.detail:
                    node.add_leaf(Text(inline(w.detail)), data=w.pos)
        self.root.expand()

    def on_tree_node_selected(self, event: Tree.NodeSelected[str | None]) -> None:
        if event.node.data:
            event.stop()
            self.post_message(self.Jump(event.node.data))


__all__ = ["TraceTree"]
