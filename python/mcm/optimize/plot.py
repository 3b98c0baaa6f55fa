"""A dependency-free PNG scatter of the candidates: relative latency (x), accuracy (y), size (dot radius).

No fonts: the axes' ranges and the colours are stated in the Markdown report beside the image."""

from __future__ import annotations

import math
import struct
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

W, H, MARGIN = 640, 420, 40
COLOURS = {
    "baseline": (120, 120, 120),
    "kept": (30, 150, 60),
    "rejected": (210, 50, 40),
    "chosen": (30, 80, 220),
}


@dataclass(frozen=True)
class Point:
    x: float  # latency relative to ONNX Runtime FP32 (1 = same)
    y: float  # accuracy
    size: float  # model size (MB)
    kind: str  # a key of COLOURS


def ranges(points: Sequence[Point]) -> tuple[tuple[float, float], tuple[float, float]]:
    """The x and y ranges drawn, padded by 10%."""

    def pad(lo: float, hi: float) -> tuple[float, float]:
        span = (hi - lo) or max(abs(hi), 1e-3)
        return lo - 0.1 * span, hi + 0.1 * span

    return pad(min(p.x for p in points), max(p.x for p in points)), pad(
        min(p.y for p in points), max(p.y for p in points)
    )


def render(points: Sequence[Point]) -> bytes:
    """The PNG bytes of the scatter."""
    img = bytearray(b"\xff" * (W * H * 3))

    def dot(px: int, py: int, rgb: tuple[int, int, int]) -> None:
        if 0 <= px < W and 0 <= py < H:
            i = 3 * (py * W + px)
            img[i : i + 3] = bytes(rgb)

    for px in range(MARGIN, W - MARGIN):  # axes
        dot(px, H - MARGIN, (0, 0, 0))
    for py in range(MARGIN, H - MARGIN):
        dot(MARGIN, py, (0, 0, 0))
    (x0, x1), (y0, y1) = ranges(points)
    biggest = max(p.size for p in points) or 1.0
    for p in sorted(points, key=lambda q: -q.size):
        cx = MARGIN + int((p.x - x0) / (x1 - x0) * (W - 2 * MARGIN))
        cy = H - MARGIN - int((p.y - y0) / (y1 - y0) * (H - 2 * MARGIN))
        r = 3 + int(15 * math.sqrt(p.size / biggest))
        for dy in range(-r, r + 1):
            for dx in range(-r, r + 1):
                if dx * dx + dy * dy <= r * r:
                    dot(cx + dx, cy + dy, COLOURS.get(p.kind, (0, 0, 0)))
    rows = b"".join(b"\x00" + bytes(img[y * W * 3 : (y + 1) * W * 3]) for y in range(H))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", W, H, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows, 9))
        + chunk(b"IEND", b"")
    )


def write(points: Sequence[Point], path: Path) -> str:
    """Write the PNG to ``path``; returns the caption (axes' ranges and colours) for the report."""
    path.write_bytes(render(points))
    (x0, x1), (y0, y1) = ranges(points)
    return (
        f"x: latency relative to ONNX Runtime FP32 at the measured batch ({x0:.2f} → {x1:.2f}, lower is faster); "
        f"y: accuracy ({y0:.4f} → {y1:.4f}); dot area: model size; grey baseline, green kept, red rejected, "
        "blue chosen"
    )
