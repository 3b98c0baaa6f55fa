"""The rule trace as a tree: decision table → rule (verdict, file:line) → explanation; then why-not per technique.

Each node's data is the ``file:line:col`` it points at (or None); selecting a node posts :class:`TraceTree.Jump`.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

from rich.text import Text
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.widgets import Tree
from textual.widgets.tree import NodeID, TreeNode, UnknownNodeID

from mcm.engine.decision import Decision
from mcm.present.language import Lang
from mcm.present.messages import render
from mcm.sanitize import inline
from mcm.tui.i18n import localize_bindings, t

MIN_WIDTH = 24
"""The fewest cells a trace line wraps to; a narrower tree scrolls sideways, a page at a time."""

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
    """Why (the rules that fired, and those that did not) and why not (each technique left out).

    Every entry wraps to the tree's width, so no text is cut: a leaf goes on over more lines, a long heading ends
    in "…" and goes on as the first lines under it. The tree is rebuilt when its width changes; what the user
    expanded or collapsed, and the cursor, are kept by entry (the rule or technique), so they survive a rebuild and
    a new decision.
    """

    class Jump(Message):
        """The user asked to see the rule at ``pos`` (``file:line:col``)."""

        def __init__(self, pos: str) -> None:
            super().__init__()
            self.pos = pos

    DEFAULT_CSS = """
    TraceTree { height: auto; max-height: 24; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "select_cursor", "Show rule"),
        Binding("space", "toggle_node", "Expand"),
        Binding("right", "page_right", "Scroll", key_display="→ ←"),
        Binding("left", "page_left", "Scroll", show=False),
        Binding("j", "cursor_down", "Down", show=False),
        Binding("k", "cursor_up", "Up", show=False),
    ]

    def __init__(self, lang: Lang, *, id: str | None = None) -> None:
        super().__init__(Text(t("rec.trace", lang)), id=id)
        self.lang = lang
        self.show_root = True
        localize_bindings(self, lang)
        self._decision: Decision | None = None
        self._width = 0  # the text width the tree was built for
        self._keys: dict[NodeID, str] = {}  # node id → the entry it shows
        self._open: dict[str, bool] = {}  # entry → expanded, as the user left it
        self._cursor: str | None = None  # the entry under the cursor

    def show_decision(self, decision: Decision) -> None:
        self._decision = decision
        self._rebuild()

    def _text_width(self) -> int:
        """Cells a label may take at depth 0: the width less a vertical scrollbar (kept free: the tree is often
        taller than its 24 lines), never below :data:`MIN_WIDTH` (then the tree scrolls sideways)."""
        width = self.content_region.width or self.app.size.width - 6
        return max(MIN_WIDTH, width - self.styles.scrollbar_size_vertical)

    def _rebuild(self) -> None:
        decision = self._decision
        if decision is None:
            return
        self._width = self._text_width()
        cursor = self._cursor
        self.clear()
        self._keys = {self.root.id: ""}
        tables: dict[str, TreeNode[str | None]] = {}
        for entry in decision.trace:
            parent = tables.get(entry.table)
            if parent is None:
                parent = self._add(
                    self.root, entry.table, Text(f"{entry.table} ({entry.policy})"), None, True
                )
                tables[entry.table] = parent
            head = Text(f"{_MARK[entry.status]} {entry.rule} ", style=_STYLE.get(entry.status, ""))
            head.append(t(f"trace.{entry.status}", self.lang))
            head.append(f"  {inline(short_pos(entry.pos))}", style="dim")
            expand = entry.status in ("fired", "error", "inapplicable")
            node = self._add(parent, f"{entry.table}/{entry.rule}", head, entry.pos, expand)
            if entry.explanation:
                self._leaf(node, Text(inline(render(entry.explanation, self.lang))), entry.pos)
            if entry.recommend:
                self._leaf(node, Text(inline(f"→ {', '.join(entry.recommend)}: {entry.reason}")), entry.pos)
            if entry.note:
                self._leaf(node, Text(inline(render(entry.note, self.lang)), style="yellow"), entry.pos)
        if decision.why_not:
            why = self._add(self.root, "why-not", Text(t("rec.why_not", self.lang)), None, True)
            for w in decision.why_not:
                head = Text(f"{w.technique}: ", style="bold")
                head.append(inline(render(w.message, self.lang)))
                node = self._add(why, f"why-not/{w.technique}", head, w.pos, False)
                if w.pos:
                    self._leaf(node, Text(short_pos(w.pos), style="dim"), w.pos)
                if w.detail:
                    self._leaf(node, Text(inline(render(w.detail, self.lang))), w.pos)
        self.root.expand()
        if cursor is not None:
            self.call_after_refresh(self._restore_cursor, cursor)

    def _room(self, parent: TreeNode[str | None]) -> int:
        """Cells left for a label under ``parent``: the width less the guides and the expand icon."""
        depth = 1 + sum(1 for _ in _ancestors(parent))
        return max(MIN_WIDTH // 2, self._width - depth * self.guide_depth - 2)

    def _wrap(self, text: Text, width: int) -> list[Text]:
        return list(text.wrap(self.app.console, width, overflow="fold")) or [Text()]

    def _add(
        self, parent: TreeNode[str | None], key: str, text: Text, data: str | None, expand: bool
    ) -> TreeNode[str | None]:
        """An entry with children: its first line here, ending in "…" when it goes on in the first lines below."""
        first = self._wrap(text, self._room(parent) - 1)[0]
        cut = len(first.plain)
        rest = text[cut + len(text.plain[cut:]) - len(text.plain[cut:].lstrip()) :]
        if rest.plain:
            first.append("…")
        node = parent.add(first, data=data, expand=self._open.get(key, expand))
        self._keys[node.id] = key
        for i, line in enumerate(self._wrap(rest, self._room(node) + 2) if rest.plain else ()):
            leaf = node.add_leaf(line, data=data)
            self._keys[leaf.id] = f"{key}/~{i}"
        return node

    def _leaf(self, parent: TreeNode[str | None], text: Text, data: str | None) -> None:
        """A leaf over as many lines as it needs, the lines after the first indented by two cells."""
        key = self._keys.get(parent.id, "")
        n = len(parent.children)
        for i, line in enumerate(
            self._wrap(text, self._room(parent))
        ):  # a leaf has no icon: 2 cells to indent
            leaf = parent.add_leaf(line if i == 0 else Text("  ").append_text(line), data=data)
            self._keys[leaf.id] = f"{key}/{n}.{i}"

    def _restore_cursor(self, key: str) -> None:
        nodes = {k: node_id for node_id, k in self._keys.items()}
        while key and key not in nodes:
            key = key.rpartition("/")[0]
        node = self.get_node_by_id(nodes[key]) if key in nodes else None
        if node is not None and node.line >= 0:
            self.move_cursor(node, animate=False)

    def on_resize(self) -> None:
        if self._decision is not None and self._text_width() != self._width:
            self._rebuild()

    def _key(self, node: TreeNode[str | None]) -> str | None:
        """The entry ``node`` shows; None for a node of an earlier build (its message came after a rebuild)."""
        try:
            current = self.get_node_by_id(node.id) is node
        except UnknownNodeID:
            return None
        return self._keys.get(node.id) if current else None

    def on_tree_node_highlighted(self, event: Tree.NodeHighlighted[str | None]) -> None:
        key = self._key(event.node)
        if key is not None:
            self._cursor = key

    def on_tree_node_expanded(self, event: Tree.NodeExpanded[str | None]) -> None:
        self._remember(event.node, True)

    def on_tree_node_collapsed(self, event: Tree.NodeCollapsed[str | None]) -> None:
        self._remember(event.node, False)

    def _remember(self, node: TreeNode[str | None], expanded: bool) -> None:
        key = self._key(node)
        if key:
            self._open[key] = expanded

    def on_tree_node_selected(self, event: Tree.NodeSelected[str | None]) -> None:
        if event.node.data:
            event.stop()
            self.post_message(self.Jump(event.node.data))


def _ancestors(node: TreeNode[str | None]) -> Iterator[TreeNode[str | None]]:
    parent = node.parent
    while parent is not None:
        yield parent
        parent = parent.parent


__all__ = ["TraceTree"]
