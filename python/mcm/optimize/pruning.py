"""Global unstructured magnitude pruning with batch-norm recalibration. Zeros in dense tensors run no faster on
a CPU and the file keeps its size until compressed: the result says so, with the compressed sizes measured."""

from __future__ import annotations

import zlib
from pathlib import Path

from mcm.optimize import export, finetune
from mcm.optimize.base import Applied, Artifact, Context, need_data, need_torch

NAME = "pruning"
AMOUNT = 0.5
SIZE_ONLY = (
    "size only after compression: dense kernels do the same work on zeros, the raw file does not shrink"
)


def apply_artifact(model: Artifact, out_dir: Path, ctx: Context) -> Applied:
    """Zero the smallest ``AMOUNT`` of all Conv/Linear weights, re-estimate BN on ``ctx.train``, export."""
    import copy

    import torch
    from torch import nn
    from torch.nn.utils import prune

    module = copy.deepcopy(need_torch(model, NAME))
    train = need_data(ctx.train, NAME, "training data to re-estimate batch-norm statistics", "--train")
    x, _ = finetune.training_set(train)
    torch.set_num_threads(ctx.threads)
    targets = [(m, "weight") for m in module.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
    prune.global_unstructured(targets, pruning_method=prune.L1Unstructured, amount=AMOUNT)
    for m, name in targets:
        prune.remove(m, name)  # type: ignore[no-untyped-call]
    norms = finetune.recalibrate_bn(module, x, lambda: ctx.checkpoint(NAME))
    out = export.to_onnx(module, ctx.example, out_dir)
    before, after = model.onnx.read_bytes(), out.read_bytes()
    z_before, z_after = len(zlib.compress(before, 9)), len(zlib.compress(after, 9))
    return Applied(
        NAME,
        Artifact(out, module),
        (
            f"{AMOUNT:.0%} of Conv/Linear weights set to zero (global L1); {norms} BatchNorm layers re-estimated "
            f"on {len(x)} training samples",
            f"file {len(before):,} → {len(after):,} bytes; zlib-compressed {z_before:,} → {z_after:,} bytes "
            f"({z_after / z_before:.2f}×)",
        ),
        notes=(SIZE_ONLY,),
        checks={"compressed_bytes_before": z_before, "compressed_bytes_after": z_after},
    )
