"""The candidates plot: valid SVG 1.1 with escaped text, labels that do not overlap, deterministic text."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from mcm.optimize import plot

SVG = "{http://www.w3.org/2000/svg}"

# the numbers of a real `mcm optimize` run on the demo model (speed-up over ONNX Runtime FP32, size, accuracy)
POINTS = [
    plot.Point(1.0, 0.07533, "baseline", "onnxruntime fp32", 0.99722),
    plot.Point(1.8804, 0.02250, "kept", "int8_static", 0.99444),
    plot.Point(0.9628, 0.06151, "rejected", "int8_dynamic", 0.99722),
    plot.Point(1.1070, 0.03898, "rejected", "fp16", 0.99722),
    plot.Point(1.8709, 0.02248, "rejected", "pruning + int8_static", 0.99722),
    plot.Point(2.7510, 0.00956, "chosen", "structured_pruning + int8_static", 0.98889),
    plot.Point(2.7716, 0.00419, "rejected", "structured_pruning + distillation + int8_static", 0.97222),
    plot.Point(2.5119, 0.00956, "rejected", "structured_pruning + int8_static + ort_graph_opt", 0.98889),
]
NO_ACCURACY = [plot.Point(p.speedup, p.size_mb, p.kind, p.name) for p in POINTS]


def parse(points: list[plot.Point]) -> ET.Element:
    root = ET.fromstring(plot.render(points).encode("utf-8"))
    assert root.tag == f"{SVG}svg" and root.get("version") == "1.1"
    assert (root.get("width"), root.get("height")) == (str(plot.W), str(plot.H))
    return root


def texts(root: ET.Element) -> list[str]:
    return [t.text or "" for t in root.iter(f"{SVG}text")]


def test_svg_is_valid_and_has_title_axes_ticks_and_legend() -> None:
    words = texts(parse(POINTS))
    assert "Candidates: speed-up vs accuracy vs model size" in words
    assert plot.X_TITLE in words and "accuracy" in words
    assert "99 %" in words or "98 %" in words  # accuracy ticks, as the catalogue shows accuracy
    assert any(w.endswith("x") and w[:-1].replace(".", "").isdigit() for w in words)  # speed-up ticks
    assert {"colour: status", "dot area: model size", *plot.COLOURS} <= set(words)


def test_dots_carry_the_status_colours() -> None:
    fills = {c.get("fill") for c in parse(POINTS).iter(f"{SVG}circle")}
    assert set(plot.COLOURS.values()) <= fills


def test_without_accuracy_the_y_axis_is_the_model_size() -> None:
    root = parse(NO_ACCURACY)
    words = texts(root)
    assert "Candidates: speed-up vs model size" in words and "dot area: model size" not in words
    assert any(w.endswith(" MB") for w in words)
    assert "model size (" in plot.caption(NO_ACCURACY) and "accuracy (" in plot.caption(POINTS)


def test_same_points_same_text() -> None:
    assert plot.render(POINTS) == plot.render(list(POINTS))
    assert plot.render(POINTS) != plot.render(POINTS[:-1])


def test_labels_are_escaped_and_sanitized() -> None:
    hostile = [
        plot.Point(1.0, 0.1, "baseline", "a<b>&\"c'", 0.9),
        plot.Point(2.0, 0.05, "odd-status", "x\x1b[31m\x00y", 0.8),
    ]
    text = plot.render(hostile)
    assert "a&lt;b&gt;&amp;" in text and "\x1b" not in text and "\x00" not in text
    words = texts(ET.fromstring(text.encode("utf-8")))
    assert any(w.startswith("a<b>&") for w in words)


def test_a_label_sits_beside_its_dot() -> None:
    """Alone, a dot's label goes just to its right, in the dot's colour; without a name, no label."""
    one = [plot.Point(2.0, 1.0, "kept", "fp16", 0.9), plot.Point(1.0, 1.0, "baseline", "", 0.8)]
    axes = plot.Axes.of(one)
    dots = [(p, axes.px(p.speedup), axes.py(plot.y_value(p, axes.y_metric)), 18.0) for p in one]
    (label,) = plot.place_labels(dots, (plot.PLOT_L, plot.PLOT_T, plot.LEGEND_X, plot.PLOT_B))
    x, y, text, colour = label
    assert text == "fp16" and colour == plot.COLOURS["kept"]
    assert dots[0][1] < x <= dots[0][1] + 18 + 6 and abs(y - dots[0][2]) < plot.FONT


def test_labels_do_not_overlap_each_other() -> None:
    dots = [(p, 300.0 + 3 * i, 200.0, 6.0) for i, p in enumerate(POINTS)]  # all piled up
    placed = plot.place_labels(dots, (plot.PLOT_L, plot.PLOT_T, plot.LEGEND_X, plot.PLOT_B))
    boxes = [(x, y - plot.FONT, x + plot.text_width(t), y) for x, y, t, _ in placed]
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
    assert plot.abbreviate("fp16 × 2") == "fp16 × 2"  # SVG text is Unicode


def test_ticks_are_round() -> None:
    assert plot.ticks(0.29, 1.11) == [0.4, 0.6, 0.8, 1.0]
    assert plot.ticks(0.9697, 0.9997) == [0.97, 0.98, 0.99]
    assert plot.ticks(0, 100) == [0, 20, 40, 60, 80, 100]
    assert len(plot.ticks(1.0, 1.0)) == 1


def test_degenerate_inputs_render() -> None:
    for points in (
        [plot.Point(1.0, 0.0, "baseline", "onnxruntime fp32", 0.99)],  # one point, no size
        [plot.Point(1.0, 0.1, "odd-status", "é→ü", 0.99)],  # an unknown status, non-ASCII name
        [plot.Point(1.0, 0.0, "baseline", "onnxruntime fp32")],  # no accuracy, no size
    ):
        assert "é→ü" in texts(parse(points)) or points[0].name == "onnxruntime fp32"
