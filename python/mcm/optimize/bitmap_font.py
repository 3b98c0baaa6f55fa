"""A built-in 5x9 bitmap font for printable ASCII, so that the plots need no font library.

Each glyph is 5 pixels wide and 9 tall: capitals and digits fill rows 0-6, lower case sits on rows 2-6 and
descenders (g j p q y , ;) use rows 7-8. A glyph is stored as 9 rows of 5 bits, two hex digits a row, the
leftmost pixel in the highest bit. Characters outside printable ASCII map to an ASCII fallback ("×" → "x",
"→" → "->", "é" → "e") or, failing that, to "?"."""

from __future__ import annotations

import unicodedata
from typing import Protocol

GLYPH_W, GLYPH_H = 5, 9
ADVANCE = GLYPH_W + 1  # one blank column between characters
LINE_H = GLYPH_H + 2
FIRST, LAST = 32, 126

_TABLE = (
    "000000000000000000 040404040400040000 0a0a0a000000000000 0a0a1f0a1f0a0a0000 040f140e051e040000 "  #   ! " # $
    "181902040813030000 0c12140815120d0000 040408000000000000 020408080804020000 080402020204080000 "  # % & ' ( )
    "0004150e1504000000 0004041f0404000000 00000000000c0c0408 0000001f0000000000 00000000000c0c0000 "  # * + , - .
    "010102040810100000 0e11131519110e0000 040c040404040e0000 0e11010204081f0000 1f02040201110e0000 "  # / 0 1 2 3
    "02060a121f02020000 1f101e0101110e0000 0608101e11110e0000 1f0102040808080000 0e11110e11110e0000 "  # 4 5 6 7 8
    "0e11110f01020c0000 000c0c000c0c000000 000c0c000c0c040800 020408100804020000 00001f001f00000000 "  # 9 : ; < =
    "080402010204080000 0e1101020400040000 0e11010d15150e0000 0e11111f1111110000 1e11111e11111e0000 "  # > ? @ A B
    "0e11101010110e0000 1c12111111121c0000 1f10101e10101f0000 1f10101e1010100000 0e11101711110f0000 "  # C D E F G
    "1111111f1111110000 0e04040404040e0000 0702020202120c0000 111214181412110000 1010101010101f0000 "  # H I J K L
    "111b15151111110000 111119151311110000 0e11111111110e0000 1e11111e1010100000 0e11111115120d0000 "  # M N O P Q
    "1e11111e1412110000 0f10100e01011e0000 1f0404040404040000 1111111111110e0000 11111111110a040000 "  # R S T U V
    "1111111515150a0000 11110a040a11110000 11110a040404040000 1f01020408101f0000 0e08080808080e0000 "  # W X Y Z [
    "101008040201010000 0e02020202020e0000 040a11000000000000 000000000000001f00 080400000000000000 "  # \ ] ^ _ `
    "00000e010f110f0000 1010161911111e0000 00000e1010110e0000 01010d1311110f0000 00000e111f100e0000 "  # a b c d e
    "0609081c0808080000 00000f1111110f010e 101016191111110000 04000c0404040e0000 02000602020202120c "  # f g h i j
    "101012141814120000 0c04040404040e0000 00001a151515150000 000016191111110000 00000e1111110e0000 "  # k l m n o
    "00001e1111111e1010 00000f1111110f0101 000016191010100000 00000f100e011e0000 08081c080809060000 "  # p q r s t
    "0000111111130d0000 00001111110a040000 0000111115150a0000 0000110a040a110000 0000111111110f010e "  # u v w x y
    "00001f0204081f0000 020404080404020000 040404040404040400 080404020404080000 000008150200000000"  # z { | } ~
)
_DATA = _TABLE.split()

GLYPHS: dict[str, tuple[int, ...]] = {
    chr(FIRST + i): tuple(int(h[j : j + 2], 16) for j in range(0, 2 * GLYPH_H, 2))
    for i, h in enumerate(_DATA)
}

FALLBACK = {
    "×": "x",
    "÷": "/",
    "→": "->",
    "←": "<-",
    "↑": "^",
    "↓": "v",
    "—": "-",
    "–": "-",
    "−": "-",
    "µ": "u",
    "μ": "u",
    "≥": ">=",
    "≤": "<=",
    "≈": "~",
    "±": "+-",
    "…": "...",
    "°": "o",
    "·": ".",
    "•": "*",
    "‘": "'",
    "’": "'",
    "“": '"',
    "”": '"',
    "\u00a0": " ",
    "\t": " ",
}


class Canvas(Protocol):
    """What ``draw_text`` draws on: anything that can set one pixel (out-of-range pixels are ignored)."""

    def set(self, x: int, y: int, rgb: tuple[int, int, int]) -> None: ...


def to_ascii(text: str) -> str:
    """``text`` with every character the font lacks replaced by an ASCII fallback, or "?"."""
    out = []
    for ch in text:
        if ch in GLYPHS:
            out.append(ch)
        elif ch in FALLBACK:
            out.append(FALLBACK[ch])
        else:
            base = "".join(c for c in unicodedata.normalize("NFKD", ch) if c in GLYPHS)
            out.append(base or "?")
    return "".join(out)


def text_width(text: str, scale: int = 1) -> int:
    """The width in pixels of ``text`` drawn at ``scale`` (no trailing gap)."""
    n = len(to_ascii(text))
    return max(0, (n * ADVANCE - 1) * scale)


def text_height(scale: int = 1) -> int:
    """The height in pixels of one line of text, descenders included."""
    return GLYPH_H * scale


def draw_text(
    canvas: Canvas,
    x: int,
    y: int,
    text: str,
    color: tuple[int, int, int],
    scale: int = 1,
    *,
    vertical: bool = False,
) -> tuple[int, int]:
    """Draw ``text`` with its bounding box's top-left corner at (x, y); returns the box's (width, height).

    ``vertical`` turns the text 90° anticlockwise, reading bottom to top (a y-axis title): the box is then
    ``text_height(scale)`` wide and ``text_width(text, scale)`` tall."""
    text = to_ascii(text)
    width, height = text_width(text, scale), text_height(scale)
    for k, ch in enumerate(text):
        rows = GLYPHS[ch]
        for r, bits in enumerate(rows):
            for c in range(GLYPH_W):
                if not bits >> (GLYPH_W - 1 - c) & 1:
                    continue
                for sy in range(scale):
                    for sx in range(scale):
                        px, py = (k * ADVANCE + c) * scale + sx, r * scale + sy
                        if vertical:
                            canvas.set(x + py, y + width - 1 - px, color)
                        else:
                            canvas.set(x + px, y + py, color)
    return (height, width) if vertical else (width, height)
