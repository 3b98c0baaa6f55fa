"""The bundled demo: a small CNN trained on scikit-learn's 8×8 handwritten digits (1,797 images, 10 classes).

``mcm measure demo`` measures ``digits.onnx`` on the held-out ``eval.npz``. The files, rebuilt deterministically by
``examples/demo/make_demo.py``:

- ``digits.onnx``: the trained CNN, input ``x: float32[batch,1,8,8]`` (pixels scaled to [0, 1]), output ``logits``;
- ``weights.pt``: its state dict (weights only), loaded by the entry point ``mcm.demo.model:build``;
- ``eval.npz``: the held-out eval set (``x``, ``y``), 20% of the images, stratified;
- ``calib.npz``: a calibration subset of the training set (``x``), for static quantization;
- ``train.npz``: the training set (``x``, ``y``).
"""

from __future__ import annotations

from pathlib import Path

HERE = Path(__file__).resolve().parent
ONNX_PATH = HERE / "digits.onnx"
WEIGHTS_PATH = HERE / "weights.pt"
EVAL_PATH = HERE / "eval.npz"
CALIB_PATH = HERE / "calib.npz"
TRAIN_PATH = HERE / "train.npz"
#: The entry point that builds the demo CNN in PyTorch with the bundled weights.
ENTRY_POINT = "mcm.demo.model:build"

__all__ = ["CALIB_PATH", "ENTRY_POINT", "EVAL_PATH", "HERE", "ONNX_PATH", "TRAIN_PATH", "WEIGHTS_PATH"]
