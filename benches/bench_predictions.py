"""Each technique's predicted range from the shipped rules beside what mcm measures here, on three models.

    python benches/bench_predictions.py [--quick] [--threads N] [--rules DIR]

Models: the bundled demo CNN (``digits.onnx`` and ``mcm.demo.model:build``), a MobileNetV2 (Sandler et al. 2018:
inverted residual blocks, width 1.0, 224x224, 1,000 classes) and a BERT-base-shaped encoder (Devlin et al. 2019:
embeddings + 12 layers, hidden 768, 12 heads, FFN 3,072, vocabulary 30,522; sequence 128), both in plain torch
(``tests/measure/archs.py``) with random weights: speed and size do not depend on them. The torch models are
exported with ``mcm.optimize.export.to_onnx``, as ``mcm optimize`` exports an entry point; its one input is the
token ids, the attention mask (all ones) is made inside the model. MobileNetV2's batch-norm statistics are
re-estimated on its random images, so that activations (and calibration ranges) have realistic scales.

Each technique ``mcm optimize`` can apply on a CPU is applied as its loop applies it
(``mcm.optimize.techniques.apply``), with random but realistic data: ImageNet-normalized images, token ids within
the vocabulary ([CLS] ... [SEP]). Speed is ``mcm.optimize.compare``'s paired comparison against the model's ONNX
Runtime FP32 (same threads; one alternating round per call, so that the rounds' spread can be shown beside their
median) at batch 1, and at batch 8 for the CNNs; size is the ratio of the ONNX files. Rounds: 9 / 7 / 3 for the
demo / MobileNetV2 / BERT (--quick: 5 / 3 / 1, batch 1 only, BERT's unstructured pruning left out).

The prediction is the technique as the shipped rules resolve it on what ``mcm optimize`` gives the advisor: this
machine's facts (``mcm.measure.environment``), ``env.device = "cpu"``, ``env.model_kind`` (cnn or transformer), the
FP32 model's measured size and batch-1 latency, calibration and training data given. The batch-1 speed-up is
1 / the ``latency_ms`` factor (the mean call at batch 1, as ``mcm measure`` defines it), the batch-8 one the
``throughput_qps`` factor, the size the ``model_size_mb`` factor; a metric the technique states no effect on is
predicted unchanged. A row is inside when the range of its paired rounds meets each predicted speed-up range and
its size ratio, which does not vary between runs, lies in the predicted range at the two decimals printed.

A technique mcm could not apply to a model (``mcm optimize`` skips it the same way) or that the rules refuse here
is listed with the reason, and not checked. Exits 1 if a measurement falls outside its prediction.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from mcm import demo
from mcm.advisor import Advisor
from mcm.engine.facts import Facts
from mcm.engine.techniques import Resolved
from mcm.exceptions import McmError
from mcm.measure import environment
from mcm.measure.inputs import load_npz, plan
from mcm.measure.onnx_runner import OnnxRunner
from mcm.optimize import compare, export, techniques, tensorrt
from mcm.optimize.base import Artifact, Context, quiet
from mcm.optimize.loop import build_entry
from mcm.timing import time_callable

ROOT = Path(__file__).resolve().parent.parent
#: Techniques of ``mcm.optimize.techniques.TECHNIQUES`` this bench does not measure, and why.
NOT_MEASURED = {
    "distillation": "trains a new student for 20 epochs (minutes per model on 2 cores); its speed is the "
    "student's design, not a property of the technique this bench can check",
}
IMAGENET_MEAN = np.array([0.485, 0.456, 0.406], dtype=np.float32)[:, None, None]
IMAGENET_STD = np.array([0.229, 0.224, 0.225], dtype=np.float32)[:, None, None]
VOCAB, SEQ = 30522, 128


@dataclass
class Model:
    """A model to measure: its ONNX FP32 file, PyTorch form, data, what the rules call it, and timing plan."""

    name: str
    kind: str
    onnx: Path
    ctx: Context
    data: Path  # rows fed to the paired comparison
    batches: tuple[int, ...]
    rounds: int
    round_time: float
    module: Any = None
    #: Techniques left out of this run, and why.
    skip: dict[str, str] = field(default_factory=dict)


@dataclass
class Row:
    model: str
    technique: str
    #: Predicted speed-up by batch: batch 1 from ``latency_ms``, larger batches from ``throughput_qps``.
    speed: dict[int, tuple[float, float] | None] | None = None
    size: tuple[float, float] | None = None
    #: Paired speed-up by batch: (median, lowest, highest) over the rounds.
    measured: dict[int, tuple[float, float, float]] | None = None
    size_ratio: float | None = None
    note: str = ""
    seconds: float = 0.0

    @property
    def verdict(self) -> str:
        if self.measured is None or self.size_ratio is None:
            return "-"
        speed = self.speed or {}
        inside = all(_overlaps(v[1], v[2], speed.get(b)) for b, v in self.measured.items())
        size = round(self.size_ratio, 2)
        return "inside" if inside and _overlaps(size, size, self.size, digits=2) else "OUTSIDE"


def _overlaps(low: float, high: float, bounds: tuple[float, float] | None, digits: int | None = None) -> bool:
    """Whether [low, high] meets the predicted range (its ends rounded to ``digits`` when given)."""
    if bounds is None:
        return True
    a, b = (round(x, digits) for x in bounds) if digits is not None else bounds
    return low <= b and high >= a


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="shorter timing windows, batch 1 only")
    parser.add_argument(
        "--threads", type=int, default=1, help="inference threads (mcm optimize's default: 1)"
    )
    parser.add_argument("--rules", default=str(ROOT / "rules"), help="rules directory (default: rules/)")
    args = parser.parse_args()
    started = time.monotonic()
    provenance = environment.provenance()
    env = environment.env_facts(provenance)
    info = provenance["cpu"]
    flags = info["flags"] if isinstance(info["flags"], dict) else {}
    print(
        f"CPU: {info['model']}; VNNI: {env['cpu_vnni']}; AMX: {env['cpu_amx']}; AVX-512: {env['cpu_avx512']}; "
        f"threads {args.threads}; {'--quick' if args.quick else 'full'}"
    )
    advisor = Advisor.from_files(args.rules)
    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="mcm-bench-") as tmp:
        for build in (demo_cnn, mobilenet, bert):
            t0 = time.monotonic()
            model = build(Path(tmp), flags, str(info["arch"]), args.threads, args.quick)
            # as mcm optimize advises: this machine's facts, the FP32 model's measured size and latency, the data
            facts = Facts.of(
                measured={
                    "model_size_mb": model.onnx.stat().st_size / 2**20,
                    "latency_ms": latency_ms(model),
                },
                env={**env, "device": "cpu", "model_kind": model.kind, "threads": args.threads},
                data={"calibration": True, "training": True},
            )
            resolved = {r.name: r for r in advisor.engine.resolve(advisor.engine.supply(facts))}
            print(
                f"\n{model.name} ({model.kind}; ONNX Runtime FP32: {facts.measured['model_size_mb']:.1f} MiB, "
                f"{facts.measured['latency_ms']:.3g} ms at batch 1):",
                flush=True,
            )
            print(f"  {HEADER}")
            for name in techniques.TECHNIQUES:
                t1 = time.monotonic()
                row = measure(model, name, resolved.get(name), Path(tmp))
                row.seconds = time.monotonic() - t1
                rows.append(row)
                print(f"  {_line(row)}", flush=True)
            print(f"  ({time.monotonic() - t0:.0f} s)")
    print(f"\n{'model':12} {HEADER}")
    for row in rows:
        print(_line(row, table=True))
    outside = [r for r in rows if r.verdict == "OUTSIDE"]
    checked = sum(r.verdict != "-" for r in rows)
    print(
        f"\n{checked - len(outside)} of {checked} measurements inside their predicted range; "
        f"run time {time.monotonic() - started:.0f} s"
    )
    return 1 if outside else 0


def measure(model: Model, name: str, resolved: Resolved | None, tmp: Path) -> Row:
    """Apply technique ``name`` to ``model`` and measure it against its ONNX Runtime FP32, beside the prediction."""
    row = Row(model.name, name)
    if resolved is None:
        row.note = "not in these rules"
        return row
    if resolved.applies.status != "yes":
        row.note = f"the rules refuse it here: {resolved.applies.message}"
        return row
    row.speed, row.size = _predicted(resolved, model.batches)
    if name in NOT_MEASURED:
        row.note = f"not measured: {NOT_MEASURED[name]}"
        return row
    if name in model.skip:
        row.note = f"not measured: {model.skip[name]}"
        return row
    if name == "tensorrt":
        row.note = f"not measured: {tensorrt.unavailable_reason() or 'not a CPU technique'}"
        return row
    out = tmp / model.name / name
    out.mkdir(parents=True)
    try:
        with quiet("onnxscript"):
            applied = techniques.apply(name, Artifact(model.onnx, model.module), out, model.ctx)
    except McmError as e:  # mcm optimize skips the step with this reason
        row.note = f"not applied: {str(e).splitlines()[0]}"
        return row
    candidate = applied.model.onnx
    row.measured = {}
    for batch in model.batches:
        # one paired round per call, so that the spread of the rounds can be shown beside their median
        ratios = [
            compare.paired(
                model.onnx,
                candidate,
                batch=batch,
                threads=model.ctx.threads,
                data=model.data,
                max_rounds=1,
                round_time=model.round_time,
            )["reference"].ratio
            for _ in range(model.rounds)
        ]
        row.measured[batch] = (statistics.median(ratios), min(ratios), max(ratios))
    row.size_ratio = candidate.stat().st_size / model.onnx.stat().st_size
    return row


def latency_ms(model: Model) -> float:
    """The FP32 model's mean call time at batch 1 in ms (``latency_ms`` as ``mcm measure`` defines it), timed as
    ``mcm.optimize.compare`` times a round."""
    runner = OnnxRunner(model.onnx, threads=model.ctx.threads)
    feeds = plan(runner.inputs, data=load_npz(model.data), batches=(1,)).feeds(1)
    fn, args = runner.bind(feeds)
    return time_callable(fn, args=args, warmup=2, min_count=5, min_time=0.3, bootstrap=0).mean_ns / 1e6


def _predicted(
    resolved: Resolved, batches: tuple[int, ...]
) -> tuple[dict[int, tuple[float, float] | None], tuple[float, float] | None]:
    """(speed-up range by batch, size-ratio range) from the resolved effects: ``latency_ms`` (the mean call at
    batch 1, as ``mcm measure`` defines it) for batch 1, ``throughput_qps`` (the best batch) for larger ones,
    ``model_size_mb``. A metric the technique states no effect on is predicted unchanged."""
    effects = resolved.effects

    def scale(metric: str, invert: bool) -> tuple[float, float] | None:
        change = effects.get(metric, ("scale", 1.0, 1.0))
        if change[0] != "scale":
            return None
        return (1 / change[2], 1 / change[1]) if invert else (change[1], change[2])

    speed = {b: scale("latency_ms", True) if b == 1 else scale("throughput_qps", False) for b in batches}
    return speed, scale("model_size_mb", False)


def _range(bounds: tuple[float, float] | None) -> str:
    if bounds is None:
        return "?"
    return f"{bounds[0]:.2f}" if abs(bounds[1] - bounds[0]) < 0.005 else f"{bounds[0]:.2f}–{bounds[1]:.2f}"


HEADER = (
    f"{'technique':19} {'b1 predicted':>12} {'b1 measured':>17} {'b8 predicted':>12} {'b8 measured':>17} "
    f"{'size pred.':>11} {'size':>5}  verdict"
)


def _line(row: Row, table: bool = False) -> str:
    cells = []
    for batch in (1, 8):
        if row.speed is None or batch not in row.speed:
            cells += ["-", "-"]
            continue
        m = (row.measured or {}).get(batch)
        cells += [_range(row.speed[batch]), f"{m[0]:.2f} ({m[1]:.2f}–{m[2]:.2f})" if m else "-"]
    size = f"{row.size_ratio:.2f}" if row.size_ratio is not None else "-"
    head = f"{row.model:12} " if table else ""
    line = (
        f"{head}{row.technique:19} {cells[0]:>12} {cells[1]:>17} {cells[2]:>12} {cells[3]:>17} "
        f"{_range(row.size):>11} {size:>5}  {row.verdict}"
    )
    if not table and row.measured is not None:
        line += f"  ({row.seconds:.0f} s)"
    return f"{line}  {row.note}" if row.note else line


def demo_cnn(tmp: Path, flags: dict[str, bool], arch: str, threads: int, quick: bool) -> Model:
    """The bundled demo as ``mcm optimize demo`` takes it: its ONNX file, entry point and data files."""
    module, example = build_entry(demo.ENTRY_POINT)
    ctx = Context(threads, demo.CALIB_PATH, demo.TRAIN_PATH, demo.EVAL_PATH, flags, arch, example)
    batches = (1,) if quick else (1, 8)
    return Model(
        "demo CNN",
        "cnn",
        demo.ONNX_PATH,
        ctx,
        demo.EVAL_PATH,
        batches,
        5 if quick else 9,
        0.1 if quick else 0.2,
        module,
    )


def mobilenet(tmp: Path, flags: dict[str, bool], arch: str, threads: int, quick: bool) -> Model:
    """MobileNetV2 1.0 at 224 px, 1,000 classes; ImageNet-normalized random images for calibration, BN
    statistics, the pruning steps (16 with random labels) and timing."""
    import torch

    from mcm.optimize import finetune

    sys.path.insert(0, str(ROOT / "tests" / "measure"))
    from archs import mobilenet_v2

    rng = np.random.default_rng(0)
    images = ((rng.random((32, 3, 224, 224), dtype=np.float32) - IMAGENET_MEAN) / IMAGENET_STD).astype(
        np.float32
    )
    torch.manual_seed(0)
    module = mobilenet_v2(1000)
    torch.set_num_threads(threads)
    finetune.recalibrate_bn(module, torch.from_numpy(images))
    calib, train = tmp / "mobilenet_calib.npz", tmp / "mobilenet_train.npz"
    np.savez(calib, x=images)
    np.savez(train, x=images[:16], y=rng.integers(0, 1000, 16))
    example = torch.from_numpy(images[:1])
    with quiet("onnxscript"):
        onnx = export.to_onnx(module, example, tmp / "mobilenet_fp32")
    ctx = Context(threads, calib, train, calib, flags, arch, example)
    batches = (1,) if quick else (1, 8)
    return Model(
        "MobileNetV2", "cnn", onnx, ctx, calib, batches, 3 if quick else 7, 0.1 if quick else 0.2, module
    )


def bert(tmp: Path, flags: dict[str, bool], arch: str, threads: int, quick: bool) -> Model:
    """BERT-base's configuration at sequence 128, batch 1; token ids [CLS] w... [SEP] within the vocabulary, the
    attention mask all ones (made inside the model: the export takes one input)."""
    import torch
    from torch import nn

    sys.path.insert(0, str(ROOT / "tests" / "measure"))
    from archs import Bert

    class Encoder(nn.Module):
        """Token ids in (any dtype: pruning feeds its training rows as floats), hidden states out."""

        def __init__(self) -> None:
            super().__init__()
            self.bert = Bert(layers=12)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            ids = x.long()
            out: torch.Tensor = self.bert(ids, torch.ones_like(ids))
            return out

    rng = np.random.default_rng(0)
    ids = rng.integers(1000, VOCAB, (16, SEQ), dtype=np.int64)
    ids[:, 0], ids[:, -1] = 101, 102  # [CLS], [SEP]
    torch.manual_seed(0)
    module = Encoder().eval()
    calib, train = tmp / "bert_calib.npz", tmp / "bert_train.npz"
    np.savez(calib, x=ids)
    np.savez(train, x=ids[:2], y=np.zeros(2, dtype=np.int64))  # pruning runs the model on it (no BN to fit)
    example = torch.from_numpy(ids[:1])
    with quiet("onnxscript"):
        onnx = export.to_onnx(module, example, tmp / "bert_fp32")
    ctx = Context(threads, calib, train, calib, flags, arch, example)
    skip = {"pruning": "--quick: pruning 85 M weights and exporting again take ~3 min here"} if quick else {}
    return Model("BERT-base", "transformer", onnx, ctx, calib, (1,), 1 if quick else 3, 0.1, module, skip)


if __name__ == "__main__":
    sys.exit(main())
