"""The candidates plot: a valid PNG with readable text (bitmap font), deterministic bytes."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import pytest

from mcm.optimize import bitmap_font, plot

WHITE = (255, 255, 255)

# the numbers of a real `mcm optimize` run on the demo model (x: latency vs ONNX Runtime FP32)
POINTS = [
    plot.Point(1.0, 0.99722, 0.07533, "baseline", "onnxruntime fp32"),
    plot.Point(0.5318, 0.99444, 0.02250, "kept", "int8_static"),
    plot.Point(1.0386, 0.99722, 0.06151, "rejected", "int8_dynamic"),
    plot.Point(0.9033, 0.99722, 0.03898, "rejected", "fp16"),
    plot.Point(0.5345, 0.99722, 0.02248, "rejected", "pruning + int8_static"),
    plot.Point(0.3635, 0.98889, 0.00956, "chosen", "structured_pruning + int8_static"),
    plot.Point(0.3608, 0.97222, 0.00419, "rejected", "structured_pruning + distillation + int8_static"),
    plot.Point(0.3981, 0.98889, 0.00956, "rejected", "structured_pruning + int8_static + ort_graph_opt"),
]


def decode(data: bytes) -> tuple[int, int, list[list[tuple[int, int, int]]]]:
    """Parse the PNG back: check the signature and the chunks' CRCs, return width, height and RGB rows."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, chunks = 8, []
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        (crc,) = struct.unpack(">I", data[pos + 8 + length : pos + 12 + length])
        assert crc == zlib.crc32(kind + body)
        chunks.append((kind, body))
        pos += 12 + length
    assert chunks[0][0] == b"IHDR" and chunks[-1][0] == b"IEND"
    width, height, depth, colour, _, _, _ = struct.unpack(">IIBBBBB", chunks[0][1])
    assert (depth, colour) == (8, 2)
    raw = zlib.decompress(b"".join(b for k, b in chunks if k == b"IDAT"))
    stride = 1 + 3 * width
    assert len(raw) == height * stride
    rows = []
    for y in range(height):
        line = raw[y * stride : (y + 1) * stride]
        assert line[0] == 0  # filter type None
        rows.append([(line[1 + 3 * x], line[2 + 3 * x], line[3 + 3 * x]) for x in range(width)])
    return width, height, rows


def ink(rows: list[list[tuple[int, int, int]]], x0: int, y0: int, x1: int, y1: int) -> int:
    """How many non-white pixels the box (x0, y0)-(x1, y1), ends excluded, holds."""
    return sum(1 for y in range(y0, y1) for x in range(x0, x1) if rows[y][x] != WHITE)


@pytest.fixture(scope="module")
def image() -> tuple[int, int, list[list[tuple[int, int, int]]]]:
    return decode(plot.render(POINTS))


def test_png_is_valid_and_sized(image: tuple[int, int, list[list[tuple[int, int, int]]]]) -> None:
    width, height, rows = image
    assert (width, height) == (plot.W, plot.H)
    assert len(rows) == height and all(len(r) == width for r in rows)


def test_write_returns_the_caption(tmp_path: Path) -> None:
    caption = plot.write(POINTS, tmp_path / "p.png")
    assert "accuracy" in caption and "lower is faster" in caption
    assert (tmp_path / "p.png").read_bytes() == plot.render(POINTS)


def test_same_points_same_bytes() -> None:
    assert plot.render(POINTS) == plot.render(list(POINTS))
    assert plot.render(POINTS) != plot.render(POINTS[:-1])


def test_text_bands_have_ink(image: tuple[int, int, list[list[tuple[int, int, int]]]]) -> None:
    width, height, rows = image
    assert ink(rows, 0, 0, width, plot.PLOT_T - 16) > 200  # the title
    assert ink(rows, plot.PLOT_L, plot.PLOT_B + 24, plot.PLOT_R, height) > 200  # the x-axis title
    assert ink(rows, 0, plot.PLOT_T, 30, plot.PLOT_B) > 50  # the y-axis title, turned on its side
    assert ink(rows, plot.PLOT_L, plot.PLOT_B + 6, plot.PLOT_R, plot.PLOT_B + 18) > 30  # x tick labels
    assert ink(rows, 30, plot.PLOT_T, plot.PLOT_L - 6, plot.PLOT_B) > 30  # y tick labels
    assert ink(rows, plot.LEGEND_X, plot.PLOT_T, width, plot.PLOT_B) > 300  # the legend


def test_legend_shows_the_colours(image: tuple[int, int, list[list[tuple[int, int, int]]]]) -> None:
    _, _, rows = image
    legend = {rows[y][x] for y in range(plot.PLOT_T, plot.PLOT_B) for x in range(plot.LEGEND_X, plot.W)}
    assert set(plot.COLOURS.values()) <= legend


def test_a_label_sits_beside_its_dot() -> None:
    """Alone, a dot's label goes just to its right, in the dot's (darkened) colour; without a name, nothing."""
    one = [plot.Point(0.5, 0.9, 1.0, "kept", "fp16"), plot.Point(1.0, 0.8, 1.0, "baseline")]
    _, _, rows = decode(plot.render(one))
    _, _, bare = decode(plot.render([plot.Point(0.5, 0.9, 1.0, "kept"), one[1]]))
    (x0, x1), (y0, y1) = plot.ranges(one)
    cx = plot.PLOT_L + round((0.5 - x0) / (x1 - x0) * (plot.PLOT_R - plot.PLOT_L))
    cy = plot.PLOT_B - round((0.9 - y0) / (y1 - y0) * (plot.PLOT_B - plot.PLOT_T))
    box = (cx + 19, cy - 8, cx + 19 + 40, cy + 8)  # right of a dot of radius 18
    label_colour = plot._dark(plot.COLOURS["kept"], 0.55)

    def label_pixels(image: list[list[tuple[int, int, int]]]) -> int:
        return sum(image[y][x] == label_colour for y in range(box[1], box[3]) for x in range(box[0], box[2]))

    assert label_pixels(rows) > 20 and label_pixels(bare) == 0


def test_labels_do_not_overlap_each_other() -> None:
    dots = [(p, 300 + 3 * i, 200, 6) for i, p in enumerate(POINTS)]  # all piled up
    placed = plot._place_labels(dots, (plot.PLOT_L, plot.PLOT_T, plot.LEGEND_X, plot.PLOT_B))
    boxes = [(x, y, x + bitmap_font.text_width(t), y + bitmap_font.GLYPH_H) for x, y, t, _ in placed]
    assert boxes and placed[0][2] == plot.abbreviate(POINTS[5].name)  # the chosen one is labelled first
    for i, a in enumerate(boxes):
        for b in boxes[i + 1 :]:
            assert not plot._overlaps(a, b)


def test_abbreviate() -> None:
    assert plot.abbreviate("int8_static") == "int8_static"
    short = plot.abbreviate("structured_pruning + distillation + int8_static")
    assert len(short) <= plot.LABEL_CHARS and short.startswith("stru") and "int8" in short
    assert plot.abbreviate("x" * 100) == "xxxxx"  # words are cut first
    cut = plot.abbreviate(" ".join(["ab"] * 40))  # then the end
    assert len(cut) == plot.LABEL_CHARS and cut.endswith("..")
    assert plot.abbreviate("fp16 × 2") == "fp16 x 2"


def test_ticks_are_round() -> None:
    assert [label for _, label in plot.ticks(0.29, 1.11)] == ["0.4", "0.6", "0.8", "1.0"]
    assert [label for _, label in plot.ticks(0.9697, 0.9997)] == ["0.97", "0.98", "0.99"]
    assert [v for v, _ in plot.ticks(0, 100)] == [0, 20, 40, 60, 80, 100]
    assert len(plot.ticks(1.0, 1.0)) == 1


def test_degenerate_inputs_render() -> None:
    for points in (
        [plot.Point(1.0, 0.99, 0.0, "baseline", "onnxruntime fp32")],  # one point, no size
        [plot.Point(1.0, 0.99, 0.1, "odd-status", "é→ü")],  # an unknown status, non-ASCII name
    ):
        width, height, _ = decode(plot.render(points))
        assert (width, height) == (plot.W, plot.H)


def test_every_glyph_is_5_by_9() -> None:
    assert sorted(bitmap_font.GLYPHS) == [chr(c) for c in range(32, 127)]
    for ch, rows in bitmap_font.GLYPHS.items():
        assert len(rows) == bitmap_font.GLYPH_H, ch
        assert all(0 <= r < 1 << bitmap_font.GLYPH_W for r in rows), ch
        assert ch == " " or any(rows), ch  # every visible character has ink


def test_glyphs_are_distinct() -> None:
    assert len(set(bitmap_font.GLYPHS.values())) == len(bitmap_font.GLYPHS)


class Sheet:
    def __init__(self) -> None:
        self.on: set[tuple[int, int]] = set()

    def set(self, x: int, y: int, rgb: tuple[int, int, int]) -> None:
        self.on.add((x, y))


def test_unknown_characters_fall_back() -> None:
    assert bitmap_font.to_ascii("1.9× → 2 µs — café") == "1.9x -> 2 us - cafe"
    assert bitmap_font.to_ascii("模型") == "??"
    a, b = Sheet(), Sheet()
    bitmap_font.draw_text(a, 0, 0, "×", (0, 0, 0))
    bitmap_font.draw_text(b, 0, 0, "x", (0, 0, 0))
    assert a.on == b.on and a.on


def test_draw_text_box_scale_and_rotation() -> None:
    flat, tall = Sheet(), Sheet()
    assert bitmap_font.draw_text(flat, 10, 20, "Ag", (0, 0, 0), 2) == (22, 18)
    assert all(10 <= x < 32 and 20 <= y < 38 for x, y in flat.on)
    assert bitmap_font.draw_text(tall, 0, 0, "Ag", (0, 0, 0), vertical=True) == (9, 11)
    assert all(0 <= x < 9 and 0 <= y < 11 for x, y in tall.on)
    # turned anticlockwise: the first letter ends up at the bottom
    assert max(y for _, y in tall.on) >= 6 and bitmap_font.text_width("Ag") == 11
