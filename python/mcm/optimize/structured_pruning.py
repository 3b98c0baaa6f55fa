"""Structured channel pruning that physically removes channels, so the smaller network runs faster everywhere.

Takes a network whose ``features`` is an ``nn.Sequential`` of Conv2d (each followed by BatchNorm2d), activations
and pools, and whose ``classifier`` is an ``nn.Linear`` on the flattened features (the demo CNN's shape). Each
convolution keeps the channels with the largest |BN scale| × L1 filter norm; the next convolution, the BN and the
classifier lose the matching inputs. A short fine-tune on the training data recovers accuracy.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

from mcm.exceptions import OptimizeError
from mcm.optimize import export, finetune
from mcm.optimize.base import Applied, Artifact, Context, need_data, need_torch

NAME = "structured_pruning"
#: Fraction of each convolution's output channels removed.
AMOUNT = 0.5
EPOCHS = 8


def prune(model: Any, amount: float = AMOUNT) -> tuple[Any, list[str]]:
    """A copy of ``model`` with ``amount`` of every convolution's channels removed; and what changed."""
    import torch
    from torch import nn

    features, classifier = getattr(model, "features", None), getattr(model, "classifier", None)
    if not isinstance(features, nn.Sequential) or not isinstance(classifier, nn.Linear):
        raise OptimizeError(
            f"{NAME}: needs a model with `features` (nn.Sequential of Conv2d/BatchNorm2d) and a Linear "
            f"`classifier`; {type(model).__name__} has another shape"
        )
    model = copy.deepcopy(model)
    layers = list(model.features)
    convs = [i for i, m in enumerate(layers) if isinstance(m, nn.Conv2d)]
    if not convs or any(
        layers[i].groups != 1 or i + 1 >= len(layers) or not isinstance(layers[i + 1], nn.BatchNorm2d)
        for i in convs
    ):
        raise OptimizeError(f"{NAME}: every convolution must be ungrouped and followed by BatchNorm2d")
    changes, keep, channels = [], None, 0
    for i in convs:
        conv, bn = layers[i], layers[i + 1]
        if keep is not None:
            conv.weight = nn.Parameter(conv.weight.data[:, keep].clone())
            conv.in_channels = len(keep)
        score = bn.weight.detach().abs() * conv.weight.detach().abs().sum(dim=(1, 2, 3))
        channels, n = conv.out_channels, max(1, round(conv.out_channels * (1 - amount)))
        keep = torch.sort(torch.topk(score, n).indices).values
        changes.append(f"features.{i}: {conv.out_channels} → {n} channels")
        conv.weight = nn.Parameter(conv.weight.data[keep].clone())
        if conv.bias is not None:
            conv.bias = nn.Parameter(conv.bias.data[keep].clone())
        conv.out_channels = n
        for name in ("weight", "bias"):
            setattr(bn, name, nn.Parameter(getattr(bn, name).data[keep].clone()))
        bn.running_mean, bn.running_var = bn.running_mean[keep].clone(), bn.running_var[keep].clone()
        bn.num_features = n
    assert keep is not None
    spatial = classifier.in_features // channels
    if spatial * channels != classifier.in_features:
        raise OptimizeError(f"{NAME}: the classifier's inputs are not channels × positions")
    cols = (keep[:, None] * spatial + torch.arange(spatial)[None, :]).reshape(-1)
    model.classifier.weight = nn.Parameter(classifier.weight.data[:, cols].clone())
    model.classifier.in_features = len(cols)
    changes.append(f"classifier: {classifier.in_features} → {len(cols)} inputs")
    return model, changes


def apply_artifact(model: Artifact, out_dir: Path, ctx: Context) -> Applied:
    """Prune ``model``'s PyTorch module, fine-tune it on ``ctx.train``, export to ``out_dir/model.onnx``."""
    import torch

    module = need_torch(model, NAME)
    train = need_data(ctx.train, NAME, "training data to fine-tune after removing channels", "--train")
    x, y = finetune.training_set(train)
    params = sum(p.numel() for p in module.parameters())
    torch.set_num_threads(ctx.threads)
    pruned, changes = prune(module)
    finetune.fine_tune(pruned, x, y, epochs=EPOCHS)
    out = export.to_onnx(pruned, ctx.example, out_dir)
    after = sum(p.numel() for p in pruned.parameters())
    return Applied(
        NAME,
        Artifact(out, pruned),
        (
            f"{AMOUNT:.0%} of each convolution's channels physically removed: " + "; ".join(changes),
            f"parameters {params:,} → {after:,}; fine-tuned {EPOCHS} epochs on {len(x)} training samples",
        ),
        checks={"params_before": params, "params_after": after},
    )
