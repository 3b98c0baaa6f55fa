"""A technique explained from its rules block: label, effects as ranges, difficulty and rating, what it requires,
what it excludes, its caveats, and where it is defined."""

from __future__ import annotations

from rich.text import Text

from mcm import units
from mcm.exceptions import McmError
from mcm.present.language import Lang, label
from mcm.rules.ast import Effect, Quantity, Technique
from mcm.sanitize import inline
from mcm.tui.i18n import t
from mcm.tui.screens.popup import Popup


def _quantity(q: Quantity) -> str:
    """A quantity as written: its canonical value back in the unit it was written in."""
    try:
        value = q.value / units.lookup(q.unit).to_base(1.0)
    except McmError:
        value = q.value
    return f"{value:g} {q.unit}".rstrip()


def _effect(effect: Effect, lang: Lang) -> str:
    low, high = _quantity(effect.range.low), _quantity(effect.range.high)
    span = low if low == high else f"{low} .. {high}"
    return f"{label(effect.metric, lang)} {effect.op} {span}"


def explain(technique: Technique, lang: Lang) -> Text:
    """The technique's block, for people; its label, reasons and file escaped (Textual strips only a few C0
    controls)."""
    out = Text(technique.name, style="bold")
    if technique.label:
        out.append(f"  {inline(technique.label)}")
    out.append(f"\n{inline(str(technique.pos))}\n\n", style="dim")
    out.append(t("tech.effects", lang) + "\n", style="bold cyan")
    for e in technique.effects:
        out.append(f"  {_effect(e, lang)}\n")
    if technique.difficulty is not None:
        out.append(f"{t('tech.difficulty', lang)}: {'⭐' * technique.difficulty}\n")
    if technique.rating is not None:
        out.append(f"{t('tech.rating', lang)}: {'⭐' * technique.rating}\n")
    if technique.requires:
        out.append(t("tech.requires", lang) + "\n", style="bold cyan")
        for r in technique.requires:
            out.append(f"  {inline(r.reason or str(r.pos))}\n")
    if technique.excludes:
        out.append(f"{t('tech.excludes', lang)}: {', '.join(i.name for i in technique.excludes)}\n")
    if technique.caveats:
        out.append(t("tech.caveats", lang) + "\n", style="bold cyan")
        for c in technique.caveats:
            out.append(f"  {inline(c.reason or str(c.pos))}\n", style="yellow")
    return out


class TechniqueScreen(Popup):
    """One technique explained; escape closes."""

    BOX = "technique"

    def __init__(self, technique: Technique, lang: Lang) -> None:
        self.technique = technique
        super().__init__(lang)

    def content(self) -> Text:
        return explain(self.technique, self.lang)


__all__ = ["TechniqueScreen", "explain"]
