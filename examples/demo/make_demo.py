"""Rebuild the bundled demo (python/mcm/demo/) from scikit-learn's 8×8 handwritten digits, deterministically.

    python examples/demo/make_demo.py [--out DIR] [--epochs N]

1. Split the 1,797 images into training (80%) and held-out eval (20%) sets, stratified, with a fixed seed;
   pixels are scaled from 0..16 to [0, 1] and shaped N×1×8×8 (float32), labels int64.
2. Train ``mcm.demo.model.DigitsCNN`` with Adam for a few seconds on one CPU thread (seeded, deterministic).
3. Save its state dict (``weights.pt``), export it to ONNX with a dynamic batch dimension in one file
   (``digits.onnx``: ``dynamo=True``, ``external_data=False``, the exporter's per-node stack traces removed),
   and save ``train.npz``, ``eval.npz`` and a calibration subset of the training set (``calib.npz``).
4. Print the eval accuracy in torch and in ONNX Runtime (they must agree).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import numpy.typing as npt
import onnxruntime as ort
import torch
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

from mcm import demo
from mcm.demo.model import DigitsCNN
from mcm.optimize.export import to_onnx
from mcm.optimize.finetune import fine_tune

SEED = 0
CALIBRATION_SIZE = 128


def data() -> tuple[
    npt.NDArray[np.float32], npt.NDArray[np.int64], npt.NDArray[np.float32], npt.NDArray[np.int64]
]:
    digits = load_digits()
    x = (digits.images / 16.0).astype(np.float32)[:, None, :, :]
    y = digits.target.astype(np.int64)
    x_train, x_eval, y_train, y_eval = train_test_split(x, y, test_size=0.2, random_state=SEED, stratify=y)
    return x_train, y_train, x_eval, y_eval


def train(x: npt.NDArray[np.float32], y: npt.NDArray[np.int64], epochs: int) -> DigitsCNN:
    torch.manual_seed(SEED)
    model = DigitsCNN()
    trained: DigitsCNN = fine_tune(model, torch.from_numpy(x), torch.from_numpy(y), epochs=epochs, lr=3e-3)
    return trained


def accuracy(logits: npt.NDArray[np.float32], y: npt.NDArray[np.int64]) -> float:
    return float((logits.argmax(axis=1) == y).mean())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--out", type=Path, default=demo.HERE, help="where to write the files (default: the package)"
    )
    parser.add_argument("--epochs", type=int, default=15)
    args = parser.parse_args()
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    x_train, y_train, x_eval, y_eval = data()
    t0 = time.perf_counter()
    model = train(x_train, y_train, args.epochs)
    print(f"trained {args.epochs} epochs on {len(x_train)} images in {time.perf_counter() - t0:.1f} s")

    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    torch.save(model.state_dict(), out / demo.WEIGHTS_PATH.name)
    to_onnx(model, torch.from_numpy(x_eval[:2]), out).replace(out / demo.ONNX_PATH.name)
    pick = np.random.default_rng(SEED).choice(len(x_train), CALIBRATION_SIZE, replace=False)
    np.savez_compressed(out / demo.TRAIN_PATH.name, x=x_train, y=y_train)
    np.savez_compressed(out / demo.EVAL_PATH.name, x=x_eval, y=y_eval)
    np.savez_compressed(out / demo.CALIB_PATH.name, x=x_train[np.sort(pick)])

    with torch.inference_mode():
        torch_acc = accuracy(model(torch.from_numpy(x_eval)).numpy(), y_eval)
    session = ort.InferenceSession(str(out / demo.ONNX_PATH.name), providers=["CPUExecutionProvider"])
    ort_acc = accuracy(session.run(None, {"x": x_eval})[0], y_eval)
    print(f"eval accuracy ({len(x_eval)} held-out images): torch {torch_acc:.2%}, ONNX Runtime {ort_acc:.2%}")
    sizes = {p.name: p.stat().st_size for p in sorted(out.iterdir()) if p.suffix in {".onnx", ".pt", ".npz"}}
    print("files: " + ", ".join(f"{n} {b / 1024:.0f} KiB" for n, b in sizes.items()))


if __name__ == "__main__":
    main()
