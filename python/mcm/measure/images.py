"""An image folder as data: class sub-folders of images, read with a declared preprocessing into the ``.npz`` form
every data path of mcm takes (``x``: the images, ``y``: the class index of each, sub-folders in sorted order).

``--preprocess`` is a preset (``imagenet``: shorter side to 256, centre crop 224, RGB scaled to [0, 1] and
normalized with ImageNet's mean and std, NCHW float32) or ``key=value`` pairs over a preset or the defaults:
``resize=256,crop=224,mean=0.485/0.456/0.406,std=0.229/0.224/0.225,layout=nchw|nhwc,dtype=float32|uint8``
(uint8 keeps raw pixels: no scaling or normalization).

Image files are untrusted: only regular files with an image suffix are read, each with Pillow's decompression-bomb
limit (:data:`MAX_PIXELS`), at most :data:`MAX_IMAGES` of them, and the decoded arrays are held to the data limit
(:data:`mcm.measure.inputs.MAX_DATA_BYTES`) before any is decoded.
"""

from __future__ import annotations

import math
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from mcm.exceptions import InputError
from mcm.measure.inputs import MAX_DATA_BYTES

SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".gif", ".webp", ".tif", ".tiff"})
MAX_IMAGES = 50_000
#: The most pixels one image may decode to (Pillow refuses more: a decompression bomb).
MAX_PIXELS = 64 * 1024 * 1024


@dataclass(frozen=True)
class Preprocess:
    """How images become an input array."""

    resize: int = 256  # the shorter side, before the crop
    crop: int = 224  # the centre square's side
    mean: tuple[float, float, float] = (0.485, 0.456, 0.406)
    std: tuple[float, float, float] = (0.229, 0.224, 0.225)
    layout: Literal["nchw", "nhwc"] = "nchw"
    dtype: Literal["float32", "uint8"] = "float32"

    def describe(self) -> str:
        scale = (
            "raw uint8 pixels"
            if self.dtype == "uint8"
            else f"RGB/255 normalized with mean {'/'.join(f'{m:g}' for m in self.mean)}, "
            f"std {'/'.join(f'{s:g}' for s in self.std)}"
        )
        return f"shorter side to {self.resize}, centre crop {self.crop}, {scale}, {self.layout.upper()}"


PRESETS = {"imagenet": Preprocess()}
_FORM = (
    "resize=256,crop=224,mean=0.485/0.456/0.406,std=0.229/0.224/0.225,layout=nchw|nhwc,dtype=float32|uint8"
)


def parse_preprocess(text: str) -> Preprocess:
    """A preset name, or ``key=value`` pairs (over ``imagenet`` or a preset named first: ``imagenet,crop=192``)."""
    parts = [p.strip() for p in text.split(",") if p.strip()]
    spec = PRESETS["imagenet"]
    if parts and "=" not in parts[0]:
        if parts[0] not in PRESETS:
            raise InputError(
                f"--preprocess {text}: unknown preset '{parts[0]}' (presets: {', '.join(PRESETS)})"
            )
        spec = PRESETS[parts.pop(0)]
    for part in parts:
        key, _, value = part.partition("=")
        spec = _set(spec, key.strip(), value.strip(), text)
    return spec


def _set(spec: Preprocess, key: str, value: str, text: str) -> Preprocess:
    bad = InputError(f"--preprocess {text}: cannot read {key}={value}")
    bad.hint = _FORM
    try:
        if key == "resize":
            return replace(spec, resize=_side(value))
        if key == "crop":
            return replace(spec, crop=_side(value))
        if key == "mean":
            return replace(spec, mean=_triple(value, positive=False))
        if key == "std":
            return replace(spec, std=_triple(value, positive=True))
        if key == "layout" and value in ("nchw", "nhwc"):
            return replace(spec, layout="nchw" if value == "nchw" else "nhwc")
        if key == "dtype" and value in ("float32", "uint8"):
            return replace(spec, dtype="float32" if value == "float32" else "uint8")
    except ValueError:
        raise bad from None
    raise bad


def _side(value: str) -> int:
    n = int(value)
    if not 1 <= n <= 4096:
        raise ValueError(value)
    return n


def _triple(value: str, *, positive: bool) -> tuple[float, float, float]:
    a, b, c = (float(v) for v in value.split("/"))  # ValueError unless three numbers
    if not all(math.isfinite(v) and (v > 0 or not positive) for v in (a, b, c)):
        raise ValueError(value)
    return a, b, c


def load_folder(folder: Path, spec: Preprocess) -> tuple[npt.NDArray[Any], npt.NDArray[np.int64], list[str]]:
    """``(images, labels, class names)`` from ``folder``'s class sub-folders (or its own images, all label 0)."""
    classes = sorted(p.name for p in folder.iterdir() if p.is_dir() and not p.name.startswith("."))
    groups = [(i, folder / c) for i, c in enumerate(classes)] or [(0, folder)]
    files = [(i, f) for i, d in groups for f in sorted(d.iterdir()) if _is_image(f)]
    if not files:
        raise InputError(
            f"{folder}: no images ({', '.join(sorted(SUFFIXES))}) in it or its class sub-folders"
        )
    if len(files) > MAX_IMAGES:
        raise InputError(f"{folder}: {len(files):,} images, more than the {MAX_IMAGES:,} read at most")
    need = len(files) * spec.crop * spec.crop * 3 * (1 if spec.dtype == "uint8" else 4)
    if need > MAX_DATA_BYTES:
        raise InputError(
            f"{folder}: {len(files):,} images at {spec.crop}×{spec.crop} take {need / 1024**3:.1f} GiB, over the "
            f"{MAX_DATA_BYTES / 1024**3:.0f} GiB data limit (use a subset)"
        )
    images = np.stack([_read(f, spec) for _, f in files])
    labels = np.array([i for i, _ in files], dtype=np.int64)
    return images, labels, classes or [folder.name]


@contextmanager
def as_npz(path: Path | None, preprocess: str | None, flag: str) -> Iterator[Path | None]:
    """``path`` itself for an ``.npz``; for an image folder, a temporary ``.npz`` of it (``x``, ``y``) read with
    ``preprocess``, removed afterwards. :class:`InputError` for a folder without ``--preprocess``."""
    if path is None or not path.is_dir():
        yield path
        return
    if preprocess is None:
        error = InputError(
            f"{flag} {path}: an image folder needs --preprocess (how to turn images into inputs)"
        )
        error.hint = f"give --preprocess imagenet, or {_FORM}"
        raise error
    images, labels, _ = load_folder(path, parse_preprocess(preprocess))
    with tempfile.TemporaryDirectory(prefix="mcm-images-") as tmp:
        out = Path(tmp) / f"{path.resolve().name or 'images'}.npz"
        np.savez(out, x=images, y=labels)
        yield out


def _is_image(path: Path) -> bool:
    return path.suffix.lower() in SUFFIXES and path.is_file() and not path.name.startswith(".")


def _read(path: Path, spec: Preprocess) -> npt.NDArray[Any]:
    from PIL import Image

    Image.MAX_IMAGE_PIXELS = MAX_PIXELS
    try:
        with Image.open(os.fspath(path)) as opened:
            image = opened.convert("RGB")
    except Exception as e:  # Pillow raises many types for a bad or hostile file
        raise InputError(f"{path}: not a readable image ({type(e).__name__}: {e})") from e
    w, h = image.size
    scale = spec.resize / min(w, h)
    image = image.resize(
        (max(spec.crop, round(w * scale)), max(spec.crop, round(h * scale))), Image.Resampling.BILINEAR
    )
    w, h = image.size
    left, top = (w - spec.crop) // 2, (h - spec.crop) // 2
    pixels: npt.NDArray[Any] = np.asarray(
        image.crop((left, top, left + spec.crop, top + spec.crop)), np.uint8
    )
    if spec.dtype == "float32":
        mean, std = np.array(spec.mean, np.float32), np.array(spec.std, np.float32)
        pixels = ((pixels.astype(np.float32) / 255 - mean) / std).astype(np.float32)
    return pixels.transpose(2, 0, 1) if spec.layout == "nchw" else pixels


__all__ = ["PRESETS", "Preprocess", "as_npz", "load_folder", "parse_preprocess"]
