"""An SVG scatter of the candidates: paired speed-up over ONNX Runtime FP32 (x), accuracy (y), model size (dot
area), status (colour). Without accuracy (no ``--eval`` data) the y axis is the model size instead.

Plain SVG 1.1 text, no plotting library: every label is escaped (technique names come from rules files) and
placed so that no two overlap. The output depends only on the points: the same points give the same text."""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from xml.sax.saxutils import escape, quoteattr

from mcm import metrics, units
from mcm.sanitize import inline

W, H = 860, 500
PLOT_L, PLOT_R, PLOT_T, PLOT_B = (
    84,
    620,
    48,
    438,
)  # the data area: x from PLOT_L to PLOT_R, y from PLOT_T down
LEGEND_X = 640
FONT = 12  # px, monospace: a character is about CHAR_W wide
CHAR_W = 0.6 * FONT
LINE_H = FONT + 4
LABEL_CHARS = 28  # a dot's label is abbreviated to at most this many characters
X_TITLE = "speed-up over ONNX Runtime FP32, paired (higher is faster)"

TEXT, GRID, EDGE = "#282828", "#e8e8e8", "#bebebe"
COLOURS = {"baseline": "#787878", "kept": "#1e963c", "rejected": "#d23228", "chosen": "#1e50dc"}
OTHER = "#000000"  # a status without a colour of its own
LABEL_ORDER = ("chosen", "baseline", "kept", "rejected")  # who gets a label first when labels collide


@dataclass(frozen=True)
class Point:
    speedup: float  # paired speed-up over ONNX Runtime FP32 (1 = same)
    size_mb: float  # model size
    kind: str  # a key of COLOURS
    name: str = ""  # the candidate's name, written (abbreviated) beside its dot; "" writes no label
    accuracy: float | None = None  # a fraction; None when not measured


@dataclass(frozen=True)
class Axes:
    """What the y axis shows: accuracy when every point has it, else the model size."""

    y_metric: str
    x: tuple[float, float]
    y: tuple[float, float]

    @classmethod
    def of(cls, points: Sequence[Point]) -> Axes:
        metric = "accuracy" if all(p.accuracy is not None for p in points) else "model_size_mb"
        return cls(metric, pad([p.speedup for p in points]), pad([y_value(p, metric) for p in points]))

    @property
    def by_accuracy(self) -> bool:
        return self.y_metric == "accuracy"

    def px(self, v: float) -> float:
        return PLOT_L + (v - self.x[0]) / (self.x[1] - self.x[0]) * (PLOT_R - PLOT_L)

    def py(self, v: float) -> float:
        return PLOT_B - (v - self.y[0]) / (self.y[1] - self.y[0]) * (PLOT_B - PLOT_T)


def y_value(p: Point, metric: str) -> float:
    return p.accuracy if metric == "accuracy" and p.accuracy is not None else p.size_mb


def pad(values: Sequence[float]) -> tuple[float, float]:
    """The range drawn for ``values``, padded by 10%."""
    lo, hi = min(values), max(values)
    span = (hi - lo) or max(abs(hi), 1e-3)
    return lo - 0.1 * span, hi + 0.1 * span


def ticks(lo: float, hi: float, target: int = 5) -> list[float]:
    """About ``target`` nicely rounded values (steps of 1, 2 or 5 × 10^k) inside [lo, hi]."""
    span = hi - lo
    if not span > 0 or not math.isfinite(span):
        return [lo]
    raw = span / target
    mag = 10.0 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 5, 10) if m * mag >= raw * (1 - 1e-9))
    digits = max(0, -math.floor(math.log10(step) + 1e-9))
    first = math.ceil(lo / step - 1e-9)
    out = []
    for k in range(first, first + 2 * target + 3):
        v = round(k * step, digits + 6)
        if v > hi + step * 1e-9:
            break
        out.append(v)
    return out


def speedup_text(v: float) -> str:
    """A speed ratio (not a catalogue metric) as the report writes ratios: ``1.25x``."""
    return units.format_quantity(v, "x", 3)


def abbreviate(name: str, limit: int = LABEL_CHARS) -> str:
    """``name`` on one line (:func:`mcm.sanitize.inline`), shortened to at most ``limit`` characters: " + "
    becomes "+", then every word (a run of letters and digits) is cut to 5, 4 or 3 characters, and as a last
    resort the end is cut off."""
    text = inline(name).strip()
    if len(text) <= limit:
        return text
    text = re.sub(r"\s*\+\s*", "+", text)
    for keep in (5, 4, 3):
        if len(text) <= limit:
            return text
        short = re.sub(r"[A-Za-z0-9]+", functools.partial(_cut, keep=keep), text)
        if len(short) <= limit:
            return short
    return text[: max(limit - 2, 1)] + ".."


def _cut(m: re.Match[str], keep: int) -> str:
    word = m.group()
    return word if len(word) <= keep + 1 else word[:keep]


def text_width(text: str) -> float:
    return len(text) * CHAR_W


def radius(size: float, biggest: float) -> float:
    return 3 + 15 * math.sqrt(max(size, 0.0) / biggest)


Box = tuple[float, float, float, float]  # x0, y0, x1, y1
Dot = tuple[Point, float, float, float]  # the point, its centre and radius
Label = tuple[float, float, str, str]  # the text's left end, its baseline, the text, its colour


def _overlaps(a: Box, b: Box) -> bool:
    return a[0] <= b[2] and b[0] <= a[2] and a[1] <= b[3] and b[1] <= a[3]


def _hits_disc(box: Box, cx: float, cy: float, r: float) -> bool:
    nx, ny = min(max(cx, box[0]), box[2]), min(max(cy, box[1]), box[3])
    return (nx - cx) ** 2 + (ny - cy) ** 2 <= (r + 1) ** 2


def _spots(cx: float, cy: float, r: float, w: float) -> list[tuple[float, float]]:
    """Where a label's box (top-left corner) may go, best first: right of the dot, left, above, below, then a
    line higher or lower."""
    g, h = r + 4, FONT
    spots = [(cx + g, cy - h / 2), (cx - g - w, cy - h / 2), (cx - w / 2, cy - g - h), (cx - w / 2, cy + g)]
    for shift in (1, 2):
        for sign in (-1, 1):
            dy = sign * shift * LINE_H
            spots += [(cx + g, cy - h / 2 + dy), (cx - g - w, cy - h / 2 + dy)]
        spots += [(cx - w / 2, cy - g - h - shift * LINE_H), (cx - w / 2, cy + g + shift * LINE_H)]
        spots += [(cx - w, cy + g + (shift - 1) * LINE_H), (cx, cy + g + (shift - 1) * LINE_H)]
    return spots


def place_labels(dots: Sequence[Dot], area: Box) -> list[Label]:
    """Each dot's label beside it where it overlaps no other label, no other dot and stays inside ``area`` (at
    worst overlapping other dots); a label with no such place is left out. The chosen candidate and the
    baselines are labelled first."""
    order = sorted(
        (i for i, d in enumerate(dots) if d[0].name.strip()),
        key=lambda i: (
            LABEL_ORDER.index(dots[i][0].kind) if dots[i][0].kind in LABEL_ORDER else len(LABEL_ORDER),
            i,
        ),
    )
    placed: list[Box] = []
    out: list[Label] = []
    for i in order:
        p, cx, cy, r = dots[i]
        text = abbreviate(p.name)
        w = text_width(text)
        # keep a label that would stick out of the area inside it (the dot test below still applies)
        spots = [
            (min(max(x, area[0] + 1), area[2] - w), min(max(y, area[1] + 1), area[3] - FONT))
            for x, y in _spots(cx, cy, r, w)
        ]
        for strict in (True, False):
            boxes = [(x - 1, y - 1, x + w, y + FONT) for x, y in spots]
            free = [
                b
                for b in boxes
                if area[0] <= b[0] and b[2] <= area[2] and area[1] <= b[1] and b[3] <= area[3]
                and not any(_overlaps(b, o) for o in placed)
                and not any(_hits_disc(b, *d[1:]) for j, d in enumerate(dots) if strict or j == i)
            ]  # fmt: skip
            if free:
                placed.append(free[0])
                out.append((free[0][0] + 1, free[0][3] - 2, text, COLOURS.get(p.kind, OTHER)))
                break
    return out


def _text(x: float, y: float, text: str, *, size: int = FONT, anchor: str = "start", extra: str = "") -> str:
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" text-anchor="{anchor}"{extra}>'
        f"{escape(inline(text))}</text>"
    )


def _line(x0: float, y0: float, x1: float, y1: float, colour: str) -> str:
    return f'<line x1="{x0:.1f}" y1="{y0:.1f}" x2="{x1:.1f}" y2="{y1:.1f}" stroke="{colour}"/>'


def _circle(cx: float, cy: float, r: float, fill: str, opacity: float = 0.8) -> str:
    return (
        f'<circle cx="{cx:.1f}" cy="{cy:.1f}" r="{r:.1f}" fill="{fill}" fill-opacity="{opacity}" '
        'stroke="#000000" stroke-opacity="0.4"/>'
    )


def _grid(axes: Axes) -> list[str]:
    """Grid lines, tick marks and tick labels, the axes and their titles."""
    out = []
    for v in ticks(*axes.x):
        x = axes.px(v)
        out += [_line(x, PLOT_T, x, PLOT_B, GRID), _line(x, PLOT_B, x, PLOT_B + 4, TEXT)]
        out.append(_text(x, PLOT_B + 18, speedup_text(v), anchor="middle"))
    for v in ticks(*axes.y):
        y = axes.py(v)
        out += [_line(PLOT_L, y, PLOT_R, y, GRID), _line(PLOT_L - 4, y, PLOT_L, y, TEXT)]
        out.append(_text(PLOT_L - 8, y + FONT / 3, metrics.format_value(axes.y_metric, v), anchor="end"))
    out += [_line(PLOT_L, PLOT_B, PLOT_R, PLOT_B, TEXT), _line(PLOT_L, PLOT_T, PLOT_L, PLOT_B, TEXT)]
    out.append(_text((PLOT_L + PLOT_R) / 2, PLOT_B + 40, X_TITLE, anchor="middle"))
    middle = (PLOT_T + PLOT_B) / 2
    y_title = "accuracy" if axes.by_accuracy else "model size (no accuracy: no --eval data)"
    out.append(_text(20, middle, y_title, anchor="middle", extra=f' transform="rotate(-90 20 {middle:.1f})"'))
    return out


def _legend(biggest: float, by_accuracy: bool) -> list[str]:
    x, y = LEGEND_X, float(PLOT_T)
    out = [_text(x + 8, y + FONT + 4, "colour: status")]
    y += LINE_H + 10
    for kind, colour in COLOURS.items():
        out += [_circle(x + 15, y, 5, colour), _text(x + 26, y + FONT / 3, kind)]
        y += LINE_H + 4
    if by_accuracy and biggest > 0:
        out.append(_text(x + 8, y + FONT / 3, "dot area: model size"))
        y += LINE_H
        for frac in (1.0, 0.25, 1 / 16):
            mb = float(f"{biggest * frac:.2g}")
            r = radius(mb, biggest)
            out += [_circle(x + 26, y + r, r, "#e1e1e1", 1.0)]
            out += [_text(x + 50, y + r + FONT / 3, metrics.format_value("model_size_mb", mb, 2))]
            y += 2 * r + 6
    out.append(
        f'<rect x="{x}" y="{PLOT_T}" width="{W - 10 - x}" height="{y - PLOT_T:.1f}" fill="none" stroke="{EDGE}"/>'
    )
    return out


def render(points: Sequence[Point]) -> str:
    """The SVG text of the scatter."""
    axes = Axes.of(points)
    biggest = max(p.size_mb for p in points) or 1.0
    size: Callable[[Point], float] = (
        (lambda p: radius(p.size_mb, biggest)) if axes.by_accuracy else (lambda p: 6)
    )
    dots = [(p, axes.px(p.speedup), axes.py(y_value(p, axes.y_metric)), size(p)) for p in points]
    title = "Candidates: " + (
        "speed-up vs accuracy vs model size" if axes.by_accuracy else "speed-up vs model size"
    )
    body = [
        f'<rect width="{W}" height="{H}" fill="#ffffff"/>',
        _text(W / 2, 30, title, size=18, anchor="middle", extra=' font-weight="bold"'),
        *_grid(axes),
        # the dots, biggest first so that small ones stay visible, then their labels
        *(
            _circle(cx, cy, r, COLOURS.get(p.kind, OTHER))
            for p, cx, cy, r in sorted(dots, key=lambda d: -d[3])
        ),
        *(
            _text(
                x,
                y,
                text,
                extra=f' fill={quoteattr(colour)} stroke="#ffffff" stroke-width="3" paint-order="stroke"',
            )
            for x, y, text, colour in place_labels(dots, (PLOT_L + 3, PLOT_T - 8, LEGEND_X - 8, PLOT_B - 3))
        ),
        *_legend(biggest, axes.by_accuracy),
    ]
    return "\n".join(
        [
            '<?xml version="1.0" encoding="UTF-8"?>',
            f'<svg xmlns="http://www.w3.org/2000/svg" version="1.1" width="{W}" height="{H}" '
            f'viewBox="0 0 {W} {H}" font-family="monospace" fill="{TEXT}">',
            *body,
            "</svg>",
            "",
        ]
    )


def caption(points: Sequence[Point]) -> str:
    """What the plot shows (its axes' ranges and colours), for the report beside it."""
    axes = Axes.of(points)
    x = f"{speedup_text(axes.x[0])} → {speedup_text(axes.x[1])}"
    y0, y1 = (metrics.format_value(axes.y_metric, v) for v in axes.y)
    y = f"accuracy ({y0} → {y1}); dot area: model size" if axes.by_accuracy else f"model size ({y0} → {y1})"
    return (
        f"x: paired speed-up over ONNX Runtime FP32 at the measured batch ({x}, higher is faster); y: {y}; "
        "grey baseline, green kept, red rejected, blue chosen"
    )
