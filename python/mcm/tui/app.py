"""``McmApp``: the guided walk from "what am I deploying to?" to a plan, a thin client over :class:`Session`.

    from mcm.tui.app import McmApp
    decision = McmApp(lang="en").run()          # the Decision on screen when the user quit, or None

Each step is a Textual mode (F2–F6, ctrl+n / ctrl+b, escape goes back where it closes or cancels nothing); the screens are imported when first shown, and measurement
(numpy, ONNX Runtime, torch) only when the user measures.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from importlib import import_module
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, cast

from textual.app import App
from textual.binding import Binding, BindingType
from textual.screen import Screen

from mcm.present.language import Lang
from mcm.tui.commands import McmCommands
from mcm.tui.i18n import localize_bindings, t
from mcm.tui.widgets.steps import STEPS

if TYPE_CHECKING:
    from mcm.engine.decision import Decision  # noqa: F401  (named in a string: importing it costs 0.1 s)
    from mcm.tui.session import Session

_SCREENS = {
    "scenario": ("scenario", "ScenarioScreen"),
    "constraints": ("constraints", "ConstraintsScreen"),
    "baseline": ("baseline", "BaselineScreen"),
    "recommendations": ("recommendations", "RecommendationsScreen"),
    "export": ("export", "ExportScreen"),
}


def _lazy(step: str) -> Callable[[], Screen[Any]]:
    module, name = _SCREENS[step]

    def make() -> Screen[Any]:
        cls: type[Screen[Any]] = getattr(import_module(f"mcm.tui.screens.{module}"), name)
        return cls()

    return make


class McmApp(App["Decision | None"]):
    """The mcm TUI; ``run()`` returns the session's last Decision (None when the user never reached a plan).

    The rules load just after the first screen is drawn (the session is made on first use, so a caller that reads
    :attr:`session` first gets it loaded at once); with ``scenario`` they load here, so that an unknown scenario
    raises before the app runs.
    """

    CSS_PATH = str(Path(__file__).with_name("app.tcss"))  # absolute: subclasses may live anywhere
    TITLE = "mcm"
    COMMANDS: ClassVar[set[type[Any] | Callable[[], type[Any]]]] = {McmCommands}
    MODES: ClassVar[dict[str, str | Callable[[], Screen[Any]]]] = {step: _lazy(step) for step in STEPS}
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+q", "quit", "Quit", priority=True),
        Binding("f1", "help", "Help"),
        Binding("question_mark", "help", "Help", show=False),  # a field takes the key first: "?" types there
        Binding("escape", "previous_step", "Back", show=False),  # a popup, a dropdown or a running task first
        Binding("ctrl+b", "previous_step", "Back", priority=True),
        Binding("ctrl+n", "next_step", "Next", priority=True),
        Binding("ctrl+r", "reload", "Reload rules", priority=True, show=False),
        # declared here (Textual adds an English "palette" one otherwise) so that the footer's key is translated
        Binding("ctrl+p", "command_palette", "Commands", priority=True, show=False),
        *(Binding(f"f{i + 2}", f"goto('{step}')", show=False, priority=True) for i, step in enumerate(STEPS)),
    ]

    def __init__(
        self,
        rules: Sequence[str] = (),
        *,
        scenario: str | None = None,
        lang: Lang = "en",
        session: Session | None = None,
        measure_options: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__()
        self.lang: Lang = lang
        self.measure_options: dict[str, Any] = dict(measure_options or {})
        self._rules = tuple(rules)
        self._session = session
        self._start = "scenario"
        if scenario is not None and self.session.error is None:
            self.session.choose(
                scenario
            )  # loads the rules now: an unknown scenario raises before the app runs
            self._start = "constraints"
        self.title = t("title", lang)
        localize_bindings(self, lang)

    @property
    def session(self) -> Session:
        """The session, loading the rules now if they are not loaded yet."""
        if self._session is None:
            from mcm.tui.session import Session

            self._session = Session(self._rules or None, lang=self.lang)
        return self._session

    @property
    def session_ready(self) -> bool:
        return self._session is not None

    def on_mount(self) -> None:
        self.theme = "textual-dark"
        self.switch_mode(self._start)

    def on_ready(self) -> None:
        """The first frame is on screen: load the rules now (~50 ms from the parse cache), on this thread. A worker
        thread would share the interpreter lock with the drawing and finish later (measured: 130-200 ms)."""
        if self._session is None:
            self.session  # noqa: B018  (loads the rules)
            self._rules_loaded()

    def _rules_loaded(self) -> None:
        refresh = getattr(self.screen, "refresh_view", None)
        if callable(refresh):
            refresh()

    @property
    def step(self) -> str:
        return self.current_mode if self.current_mode in STEPS else STEPS[0]

    def action_goto(self, step: str) -> None:
        if step in STEPS and step != self.current_mode:
            self.switch_mode(step)

    def action_next_step(self) -> None:
        take = getattr(self.screen, "take_highlighted", None)
        if callable(take):  # on the first step, ctrl+n takes the highlighted scenario
            take()
        i = STEPS.index(self.step)
        self.action_goto(STEPS[min(i + 1, len(STEPS) - 1)])

    def action_previous_step(self) -> None:
        i = STEPS.index(self.step)
        self.action_goto(STEPS[max(i - 1, 0)])

    def action_help(self) -> None:
        from mcm.tui.screens.help import HelpScreen

        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen(self.lang))

    def action_reload(self) -> None:
        """Reload the rules files; an error is shown on the scenario screen, never raised."""
        self.session.reload()
        if self.session.error is not None:
            self.notify(t("rules.error", self.lang), severity="error")
            self.action_goto("scenario")
        else:
            self.notify(t("rules.reloaded", self.lang))
        refresh = getattr(self.screen, "refresh_view", None)
        if callable(refresh):
            refresh()

    def action_command_palette(self) -> None:
        """Textual's palette, with the search field's placeholder in the app's language."""
        from textual.command import CommandPalette

        if self.use_command_palette and not CommandPalette.is_open(cast("App[object]", self)):
            palette = CommandPalette(id="--command-palette", placeholder=t("cmd.placeholder", self.lang))
            localize_bindings(palette, self.lang)
            self.push_screen(palette)

    def action_help_quit(self) -> None:
        """ctrl+c (Textual's hint that ctrl+q quits), in the app's language."""
        for key, active in self.active_bindings.items():
            if active.binding.action in ("quit", "app.quit"):
                self.notify(
                    t("quit.hint", self.lang, keys=key), title=t("quit.title", self.lang), markup=False
                )
                return

    def action_show_rule(self, pos: str) -> None:
        from mcm.tui.screens.source import SourceScreen

        self.push_screen(SourceScreen(pos, self.lang))

    def action_explain(self, technique: str) -> None:
        from mcm.tui.screens.technique import TechniqueScreen

        ruleset = self.session.ruleset
        if ruleset is not None and technique in ruleset.techniques:
            self.push_screen(TechniqueScreen(ruleset.techniques[technique], self.lang))

    async def action_quit(self) -> None:
        self.exit(self.session.latest())


__all__ = ["McmApp"]
