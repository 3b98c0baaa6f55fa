"""The command palette (ctrl+p): explain a technique, jump to a rule, reload the rules, export, go to a step,
help. Every command is an app action, so the palette adds no behaviour of its own."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import partial
from typing import TYPE_CHECKING, cast

from textual.command import DiscoveryHit, Hit, Hits, Provider

from mcm.exceptions import McmError
from mcm.tui.i18n import t
from mcm.tui.widgets.steps import STEPS

if TYPE_CHECKING:
    from mcm.tui.app import McmApp


class McmCommands(Provider):
    """Commands built from the loaded rules and the app's actions."""

    def _commands(self) -> Iterator[tuple[str, Callable[[], object], str]]:
        app = cast("McmApp", self.app)
        lang = app.lang
        yield t("cmd.reload", lang), app.action_reload, "ctrl+r"
        yield t("cmd.export", lang), partial(app.action_goto, "export"), "F6"
        yield t("cmd.help", lang), app.action_help, "F1"
        for i, step in enumerate(STEPS):
            yield (
                t("cmd.goto", lang, name=t("step." + step, lang)),
                partial(app.action_goto, step),
                f"F{i + 2}",
            )
        try:
            ruleset = app.session.ruleset
        except McmError:
            return
        for name, technique in ruleset.techniques.items():
            yield (
                t("cmd.explain", lang, name=name),
                partial(app.action_explain, name),
                technique.label or "",
            )
        for table in ruleset.decisions.values():
            for rule in table.rules:
                pos = str(rule.pos)
                yield (
                    t("cmd.rule", lang, name=f"{table.name}.{rule.name}"),
                    partial(app.action_show_rule, pos),
                    pos,
                )

    async def discover(self) -> Hits:
        for text, action, help_text in self._commands():
            yield DiscoveryHit(text, action, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for text, action, help_text in self._commands():
            score = matcher.match(text)
            if score > 0:
                yield Hit(score, matcher.highlight(text), action, help=help_text)


__all__ = ["McmCommands"]
