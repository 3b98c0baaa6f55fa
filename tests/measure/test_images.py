"""Image folders as data: class sub-folders read with a declared preprocessing, for measure and optimize."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from conftest import FAST, RunCli
from mcm.exceptions import InputError
from mcm.measure import images

PIL = pytest.importorskip("PIL.Image")


def _folder(root: Path, sizes: tuple[tuple[int, int], ...] = ((300, 200), (64, 96), (256, 256))) -> Path:
    """Two classes ("cat", "dog") of RGB images of mixed sizes and formats; the class is the colour."""
    for label, colour in (("cat", (124, 116, 104)), ("dog", (255, 0, 0))):
        (root / label).mkdir(parents=True)
        for i, size in enumerate(sizes):
            PIL.new("RGB", size, colour).save(root / label / f"{i}.{'png' if i % 2 else 'jpg'}")
    (root / "notes.txt").write_text("not an image")
    return root


def test_imagenet_preprocessing_gives_normalized_nchw_images_and_labels(tmp_path: Path) -> None:
    x, y, classes = images.load_folder(_folder(tmp_path / "imgs"), images.parse_preprocess("imagenet"))
    assert x.shape == (6, 3, 224, 224) and x.dtype == np.float32
    assert classes == ["cat", "dog"] and y.tolist() == [0, 0, 0, 1, 1, 1]
    assert np.abs(x[0]).max() < 0.05  # ImageNet's mean colour normalizes to about 0
    red = (1 - 0.485) / 0.229
    assert x[3, 0].mean() == pytest.approx(red, abs=0.02) and x[3, 1].mean() < -1.9


def test_custom_preprocessing_nhwc_uint8(tmp_path: Path) -> None:
    spec = images.parse_preprocess("resize=40,crop=32,layout=nhwc,dtype=uint8")
    x, _, _ = images.load_folder(_folder(tmp_path / "imgs"), spec)
    assert x.shape == (6, 32, 32, 3) and x.dtype == np.uint8 and abs(int(x[3, 0, 0, 0]) - 255) <= 2


@pytest.mark.parametrize("bad", ["resize=0", "crop=big", "mean=1/2", "std=1/0/1", "layout=chw", "vgg"])
def test_a_bad_preprocessing_is_refused_with_the_form(bad: str) -> None:
    with pytest.raises(InputError, match="--preprocess"):
        images.parse_preprocess(bad)


def test_a_corrupt_image_is_named(tmp_path: Path) -> None:
    folder = _folder(tmp_path / "imgs")
    (folder / "cat" / "broken.png").write_bytes(b"\x89PNG not really")
    with pytest.raises(InputError, match=r"broken\.png: not a readable image"):
        images.load_folder(folder, images.parse_preprocess("imagenet"))


def test_measure_a_torchvision_model_on_an_image_folder(tmp_path: Path, run_cli: RunCli) -> None:
    pytest.importorskip("torchvision")
    folder = _folder(tmp_path / "imgs")
    args = ["measure", "torchvision:resnet18", "--data", str(folder), "--format", "json", *FAST]
    rc, _, err = run_cli(args)
    assert rc == 2 and "an image folder needs --preprocess" in err and "imagenet" in err
    rc, out, err = run_cli([*args, "--preprocess", "imagenet", "--batch", "2"])
    assert rc == 0, err
    report = json.loads(out)
    assert report["accuracy"]["evaluated"] == 6, report["accuracy"]  # labels from the class folders
    assert not list(tmp_path.glob("*.npz")) and not (folder / "imgs.npz").exists()  # nothing left behind
