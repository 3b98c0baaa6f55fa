"""A read-only popup over the current step: one scrolling text, the footer, escape (or q) closes."""

from __future__ import annotations

from typing import ClassVar

from rich.console import RenderableType
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Footer, Static

from mcm.present.language import Lang
from mcm.tui.i18n import localize_bindings


class Popup(ModalScreen[None]):
    """Subclasses name their ``BOX`` (the CSS ids ``BOX-box`` and ``BOX-text``) and draw :meth:`content`."""

    BOX: ClassVar[str] = "popup"
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape,q", "close", "Close")]

    def __init__(self, lang: Lang) -> None:
        super().__init__()
        self.lang = lang
        localize_bindings(self, lang)

    def content(self) -> RenderableType:
        raise NotImplementedError

    def compose(self) -> ComposeResult:
        with VerticalScroll(id=f"{self.BOX}-box"):
            yield Static(self.content(), id=f"{self.BOX}-text", markup=False)
        yield Footer()

    def action_close(self) -> None:
        self.dismiss(None)


__all__ = ["Popup"]
