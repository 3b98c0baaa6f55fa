"""A dependency-free PNG scatter of the candidates: relative latency (x), accuracy (y), size (dot area).

No plotting library and no font files: the text (title, axis titles, tick labels, a label beside each dot, the
legend) is drawn with the small built-in bitmap font of :mod:`mcm.optimize.bitmap_font`, and the PNG is written
with ``zlib``. The output depends only on the points: the same points give the same bytes."""

from __future__ import annotations

import functools
import math
import re
import struct
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from mcm.files import write_atomic
from mcm.optimize.bitmap_font import GLYPH_H, LINE_H, draw_text, text_width, to_ascii

W, H = 860, 500
PLOT_L, PLOT_R, PLOT_T, PLOT_B = (
    84,
    620,
    48,
    438,
)  # the data area: x from PLOT_L to PLOT_R, y from PLOT_T down to PLOT_B
LEGEND_X = 640
TITLE = "Candidates: accuracy vs latency vs model size"
X_TITLE = "latency vs ONNX Runtime FP32 (lower is faster)"
Y_TITLE = "accuracy"
LABEL_CHARS = 28  # a dot's label is abbreviated to at most this many characters

RGB = tuple[int, int, int]
WHITE: RGB = (255, 255, 255)
BLACK: RGB = (0, 0, 0)
TEXT: RGB = (40, 40, 40)
GRID: RGB = (232, 232, 232)
COLOURS = {
    "baseline": (120, 120, 120),
    "kept": (30, 150, 60),
    "rejected": (210, 50, 40),
    "chosen": (30, 80, 220),
}
LABEL_ORDER = ("chosen", "baseline", "kept", "rejected")  # who gets a label first when labels collide


@dataclass(frozen=True)
class Point:
    x: float  # latency relative to ONNX Runtime FP32 (1 = same)
    y: float  # accuracy
    size: float  # model size (MB)
    kind: str  # a key of COLOURS
    name: str = ""  # the candidate's name, drawn (abbreviated) beside its dot; "" draws no label


def ranges(points: Sequence[Point]) -> tuple[tuple[float, float], tuple[float, float]]:
    """The x and y ranges drawn, padded by 10%."""

    def pad(lo: float, hi: float) -> tuple[float, float]:
        span = (hi - lo) or max(abs(hi), 1e-3)
        return lo - 0.1 * span, hi + 0.1 * span

    return pad(min(p.x for p in points), max(p.x for p in points)), pad(
        min(p.y for p in points), max(p.y for p in points)
    )


def ticks(lo: float, hi: float, target: int = 5) -> list[tuple[float, str]]:
    """About ``target`` nicely rounded values (steps of 1, 2 or 5 × 10^k) inside [lo, hi], with their labels."""
    span = hi - lo
    if not span > 0 or not math.isfinite(span):
        return [(lo, f"{lo:.3g}")]
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
        out.append((v, f"{v:.{digits}f}"))
    return out


def abbreviate(name: str, limit: int = LABEL_CHARS) -> str:
    """``name`` in ASCII, shortened to at most ``limit`` characters: " + " becomes "+", then every word (a run
    of letters and digits) is cut to 5, 4 or 3 characters, and as a last resort the end is cut off."""
    text = to_ascii(name).strip()
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


class _Canvas:
    """An RGB raster, white to start with; pixels outside it are ignored."""

    def __init__(self, width: int, height: int) -> None:
        self.width, self.height = width, height
        self.pixels = bytearray(b"\xff" * (width * height * 3))

    def set(self, x: int, y: int, rgb: RGB) -> None:
        if 0 <= x < self.width and 0 <= y < self.height:
            i = 3 * (y * self.width + x)
            self.pixels[i : i + 3] = bytes(rgb)

    def rect(self, x0: int, y0: int, x1: int, y1: int, rgb: RGB) -> None:
        """Fill the rectangle with corners (x0, y0) and (x1, y1), both included."""
        for y in range(y0, y1 + 1):
            for x in range(x0, x1 + 1):
                self.set(x, y, rgb)

    def frame(self, x0: int, y0: int, x1: int, y1: int, rgb: RGB) -> None:
        """A one-pixel outline of that rectangle."""
        self.rect(x0, y0, x1, y0, rgb)
        self.rect(x0, y1, x1, y1, rgb)
        self.rect(x0, y0, x0, y1, rgb)
        self.rect(x1, y0, x1, y1, rgb)

    def disc(self, cx: int, cy: int, r: int, fill: RGB, edge: RGB) -> None:
        """A filled circle of radius ``r`` with a one-pixel ``edge``."""
        for dy in range(-r, r + 1):
            for dx in range(-r, r + 1):
                d = dx * dx + dy * dy
                if d <= r * r:
                    self.set(cx + dx, cy + dy, edge if d > (r - 1) * (r - 1) else fill)

    def text(self, x: int, y: int, text: str, rgb: RGB, scale: int = 1, *, halo: bool = False) -> None:
        """Text with its top-left corner at (x, y); ``halo`` first draws it in white one pixel around, so that
        it stays legible over dots and grid lines."""
        if halo:
            for dx, dy in ((-1, -1), (0, -1), (1, -1), (-1, 0), (1, 0), (-1, 1), (0, 1), (1, 1)):
                draw_text(self, x + dx, y + dy, text, WHITE, scale)
        draw_text(self, x, y, text, rgb, scale)

    def png(self) -> bytes:
        w = self.width * 3
        rows = b"".join(b"\x00" + bytes(self.pixels[y * w : (y + 1) * w]) for y in range(self.height))

        def chunk(kind: bytes, data: bytes) -> bytes:
            return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

        header = struct.pack(">IIBBBBB", self.width, self.height, 8, 2, 0, 0, 0)
        return (
            b"\x89PNG\r\n\x1a\n"
            + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(rows, 9))
            + chunk(b"IEND", b"")
        )


def _dark(rgb: RGB, f: float = 0.6) -> RGB:
    return (int(rgb[0] * f), int(rgb[1] * f), int(rgb[2] * f))


def _radius(size: float, biggest: float) -> int:
    return 3 + int(15 * math.sqrt(max(size, 0.0) / biggest))


def _size_label(mb: float) -> str:
    return f"{mb:.0f} MB" if mb >= 10 else f"{mb:.2g} MB"


Box = tuple[int, int, int, int]  # x0, y0, x1, y1, all included


def _overlaps(a: Box, b: Box) -> bool:
    return a[0] <= b[2] and b[0] <= a[2] and a[1] <= b[3] and b[1] <= a[3]


def _hits_disc(box: Box, cx: int, cy: int, r: int) -> bool:
    nx, ny = min(max(cx, box[0]), box[2]), min(max(cy, box[1]), box[3])
    return (nx - cx) ** 2 + (ny - cy) ** 2 <= (r + 1) ** 2


def _place_labels(dots: Sequence[tuple[Point, int, int, int]], area: Box) -> list[tuple[int, int, str, RGB]]:
    """Where each dot's label goes: beside it, to the right if it fits, else left, above, below or a line
    higher or lower; a label is left out when every place would overlap another label, another dot or leave
    ``area``. Labels for the chosen candidate and the baselines are placed first."""
    order = sorted(
        (i for i, d in enumerate(dots) if d[0].name.strip()),
        key=lambda i: (
            LABEL_ORDER.index(dots[i][0].kind) if dots[i][0].kind in LABEL_ORDER else len(LABEL_ORDER),
            i,
        ),
    )
    placed: list[Box] = []
    out = []
    h = GLYPH_H
    for i in order:
        p, cx, cy, r = dots[i]
        text = abbreviate(p.name)
        w = text_width(text)
        g = r + 4
        spots = [
            (cx + g, cy - h // 2),
            (cx - g - w, cy - h // 2),
            (cx - w // 2, cy - g - h),
            (cx - w // 2, cy + g),
        ]
        for shift in (1, 2):
            for sign in (-1, 1):
                dy = sign * shift * LINE_H
                spots += [(cx + g, cy - h // 2 + dy), (cx - g - w, cy - h // 2 + dy)]
            spots += [(cx - w // 2, cy - g - h - shift * LINE_H), (cx - w // 2, cy + g + shift * LINE_H)]
            spots += [(cx - w, cy + g + (shift - 1) * LINE_H), (cx, cy + g + (shift - 1) * LINE_H)]
        # keep a label that would stick out of the area inside it (the dot test below still applies)
        spots = [
            (min(max(x, area[0] + 1), area[2] - w), min(max(y, area[1] + 1), area[3] - h)) for x, y in spots
        ]
        for strict in (True, False):
            spot = None
            for x, y in spots:
                box = (x - 1, y - 1, x + w, y + h)
                if not (area[0] <= box[0] and box[2] <= area[2] and area[1] <= box[1] and box[3] <= area[3]):
                    continue
                if any(_overlaps(box, b) for b in placed):
                    continue
                if any(
                    _hits_disc(box, ox, oy, orad)
                    for j, (_, ox, oy, orad) in enumerate(dots)
                    if strict or j == i
                ):
                    continue
                spot = (x, y, box)
                break
            if spot:
                x, y, box = spot
                placed.append(box)
                out.append((x, y, text, _dark(COLOURS.get(p.kind, BLACK), 0.55)))
                break
    return out


def _legend(c: _Canvas, biggest: float) -> None:
    x, y = LEGEND_X, PLOT_T
    top = y
    c.text(x + 8, y + 6, "colour: status", TEXT)
    y += 6 + LINE_H + 4
    for kind, rgb in COLOURS.items():
        c.disc(x + 15, y + GLYPH_H // 2, 5, rgb, _dark(rgb))
        c.text(x + 26, y, kind, TEXT)
        y += LINE_H + 5
    y += 6
    c.text(x + 8, y, "dot area: model size", TEXT)
    y += LINE_H + 6
    for frac in (1.0, 0.25, 1 / 16) if biggest > 0 else ():
        mb = float(f"{biggest * frac:.2g}")
        r = _radius(mb, biggest)
        grey = COLOURS["baseline"]
        c.disc(x + 26, y + r, r, (225, 225, 225), grey)
        c.text(x + 50, y + r - GLYPH_H // 2, _size_label(mb), TEXT)
        y += 2 * r + 6
    c.frame(x, top, W - 10, y + 2, (190, 190, 190))


def render(points: Sequence[Point]) -> bytes:
    """The PNG bytes of the scatter."""
    c = _Canvas(W, H)
    (x0, x1), (y0, y1) = ranges(points)

    def px(v: float) -> int:
        return PLOT_L + round((v - x0) / (x1 - x0) * (PLOT_R - PLOT_L))

    def py(v: float) -> int:
        return PLOT_B - round((v - y0) / (y1 - y0) * (PLOT_B - PLOT_T))

    c.text((W - text_width(TITLE, 2)) // 2, 12, TITLE, BLACK, 2)
    # grid lines, tick marks and tick labels
    for v, label in ticks(x0, x1):
        x = px(v)
        c.rect(x, PLOT_T, x, PLOT_B - 1, GRID)
        c.rect(x, PLOT_B, x, PLOT_B + 4, BLACK)
        c.text(x - text_width(label) // 2, PLOT_B + 8, label, TEXT)
    for v, label in ticks(y0, y1):
        y = py(v)
        c.rect(PLOT_L + 1, y, PLOT_R, y, GRID)
        c.rect(PLOT_L - 4, y, PLOT_L, y, BLACK)
        c.text(PLOT_L - 8 - text_width(label), y - GLYPH_H // 2 + 1, label, TEXT)
    c.rect(PLOT_L, PLOT_B, PLOT_R, PLOT_B, BLACK)  # axes
    c.rect(PLOT_L, PLOT_T, PLOT_L, PLOT_B, BLACK)
    c.text(PLOT_L + (PLOT_R - PLOT_L - text_width(X_TITLE)) // 2, PLOT_B + 26, X_TITLE, BLACK)
    draw_text(c, 14, PLOT_T + (PLOT_B - PLOT_T - text_width(Y_TITLE)) // 2, Y_TITLE, BLACK, vertical=True)
    # the dots, biggest first so that small ones stay visible, then their labels
    biggest = max(p.size for p in points)
    dots = [(p, px(p.x), py(p.y), _radius(p.size, biggest or 1.0)) for p in points]
    for p, cx, cy, r in sorted(dots, key=lambda d: -d[0].size):
        rgb = COLOURS.get(p.kind, BLACK)
        c.disc(cx, cy, r, rgb, _dark(rgb))
    for x, y, text, rgb in _place_labels(dots, (PLOT_L + 3, PLOT_T - 8, LEGEND_X - 8, PLOT_B - 3)):
        c.text(x, y, text, rgb, halo=True)
    _legend(c, biggest)
    return c.png()


def write(points: Sequence[Point], path: Path) -> str:
    """Write the PNG to ``path`` (atomically); returns the caption (axes' ranges and colours) for the report."""
    write_atomic(path, render(points))
    (x0, x1), (y0, y1) = ranges(points)
    return (
        f"x: latency relative to ONNX Runtime FP32 at the measured batch ({x0:.2f} → {x1:.2f}, lower is faster); "
        f"y: accuracy ({y0:.4f} → {y1:.4f}); dot area: model size; grey baseline, green kept, red rejected, "
        "blue chosen"
    )
