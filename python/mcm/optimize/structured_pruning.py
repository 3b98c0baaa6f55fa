"""Structured channel pruning that physically removes channels, so the smaller network runs faster everywhere.

The model is traced with ``torch.fx`` (symbolic: nothing of it runs) to find, for each ungrouped ``Conv2d``, where
its output goes: through per-channel layers (BatchNorm2d, activations, pooling, dropout) into exactly one consumer
that reads channels, another ungrouped ``Conv2d`` or a ``Linear`` after a flatten. Such a convolution keeps the
channels with the largest |BN scale| × L1 filter norm (the L1 norm alone without a BN); its BN and its consumer
lose the matching channels. A convolution whose output branches (a residual add, a concatenation) or reaches
something else is left whole and named in the report. A short fine-tune on the training data recovers accuracy.
"""

from __future__ import annotations

import copy
from collections import Counter
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
    """A copy of ``model`` with ``amount`` of every prunable convolution's channels removed; and what changed."""
    import torch
    from torch import fx

    model = copy.deepcopy(model).eval()
    try:
        traced = fx.symbolic_trace(model)
    except Exception as e:  # data-dependent control flow, unsupported Python in forward, ...
        raise OptimizeError(
            f"{NAME}: torch.fx cannot trace {type(model).__name__}: {str(e).splitlines()[0]}",
            hint="structured pruning needs a forward without data-dependent control flow",
        ) from e
    modules = dict(traced.named_modules())
    calls = Counter(n.target for n in traced.graph.nodes if n.op == "call_module")
    changes, kept = [], []
    for node in traced.graph.nodes:
        conv: Any = modules.get(node.target) if node.op == "call_module" else None
        if not _is_plain_conv(conv):
            continue
        path = _follow(node, modules)
        if isinstance(path, str):
            kept.append(f"{node.target} ({path})")
            continue
        norms, consumer = path
        if any(calls[m] > 1 for m in (node.target, *norms, consumer)):
            kept.append(f"{node.target} (a layer on its path is called more than once)")
            continue
        channels = conv.out_channels
        n = max(1, round(channels * (1 - amount)))
        score = conv.weight.detach().abs().sum(dim=(1, 2, 3))
        if norms:
            score = score * modules[norms[0]].weight.detach().abs()
        keep = torch.sort(torch.topk(score, n).indices).values
        changes.append(f"{node.target}: {channels} → {n} channels")
        _keep_outputs(conv, keep)
        for name in norms:
            _keep_norm(modules[name], keep)
        changes += _keep_inputs(modules[consumer], consumer, keep, channels)
    if not changes:
        raise OptimizeError(
            f"{NAME}: no convolution of {type(model).__name__} can lose channels: "
            + ("; ".join(kept) if kept else "it has no ungrouped Conv2d"),
            hint="structured pruning needs Conv2d layers whose output feeds one Conv2d or Linear",
        )
    changes += [f"kept whole: {k}" for k in kept]
    return model, changes


#: Modules that act on each channel alone: the channels pass through them unchanged.
_PER_CHANNEL = (
    "ReLU", "ReLU6", "LeakyReLU", "PReLU", "ELU", "GELU", "SiLU", "Hardswish", "Hardsigmoid", "Sigmoid", "Tanh",
    "Mish", "MaxPool2d", "AvgPool2d", "AdaptiveAvgPool2d", "AdaptiveMaxPool2d", "Dropout", "Dropout2d", "Identity",
)  # fmt: skip
_PER_CHANNEL_CALLS = frozenset(
    {"relu", "relu_", "relu6", "leaky_relu", "gelu", "silu", "hardswish", "sigmoid", "tanh", "max_pool2d",
     "avg_pool2d", "adaptive_avg_pool2d", "adaptive_max_pool2d", "dropout", "contiguous"}
)  # fmt: skip


def _is_plain_conv(module: Any) -> bool:
    from torch import nn

    return isinstance(module, nn.Conv2d) and module.groups == 1


def _follow(node: Any, modules: dict[str, Any]) -> tuple[list[str], str] | str:
    """From a convolution's output to its one channel-reading consumer: (its BatchNorm2d layers, the consumer's
    name); or why there is none."""
    from torch import nn

    norms: list[str] = []
    flattened = False
    while True:
        users = list(node.users)
        if len(users) != 1:
            return "its output branches" if users else "its output is unused"
        node = users[0]
        if node.op == "output":
            return "it gives the model's output"
        module = modules.get(node.target) if node.op == "call_module" else None
        name = getattr(node.target, "__name__", node.target) if node.op != "call_module" else None
        if isinstance(module, nn.BatchNorm2d) and not flattened:
            norms.append(node.target)
        elif type(module).__name__ in _PER_CHANNEL or name in _PER_CHANNEL_CALLS:
            if flattened and not isinstance(module, (nn.Dropout, nn.Identity)) and name != "dropout":
                return f"after the flatten it reaches {node.target}"
        elif (_is_plain_conv(module) and not flattened) or (isinstance(module, nn.Linear) and flattened):
            return norms, node.target
        elif isinstance(module, nn.Flatten) or name == "flatten" or _flattening_view(node):
            flattened = True
        else:
            return f"it reaches {node.target if module is not None else name}"


def _flattening_view(node: Any) -> bool:
    """``x.view(x.size(0), -1)`` or ``x.reshape(n, -1)``: a flatten written by hand."""
    return (
        node.op == "call_method"
        and node.target in ("view", "reshape")
        and len(node.args) == 3
        and node.args[2] == -1
    )


def _keep_outputs(conv: Any, keep: Any) -> None:
    from torch import nn

    conv.weight = nn.Parameter(conv.weight.data[keep].clone())
    if conv.bias is not None:
        conv.bias = nn.Parameter(conv.bias.data[keep].clone())
    conv.out_channels = len(keep)


def _keep_norm(bn: Any, keep: Any) -> None:
    from torch import nn

    for name in ("weight", "bias"):
        if getattr(bn, name) is not None:
            setattr(bn, name, nn.Parameter(getattr(bn, name).data[keep].clone()))
    if bn.running_mean is not None:
        bn.running_mean, bn.running_var = bn.running_mean[keep].clone(), bn.running_var[keep].clone()
    bn.num_features = len(keep)


def _keep_inputs(consumer: Any, name: str, keep: Any, channels: int) -> list[str]:
    """Drop the consumer's inputs that read removed channels (a Linear reads channels × positions)."""
    import torch
    from torch import nn

    if isinstance(consumer, nn.Conv2d):
        consumer.weight = nn.Parameter(consumer.weight.data[:, keep].clone())
        consumer.in_channels = len(keep)
        return []
    spatial, rest = divmod(consumer.in_features, channels)
    if rest:
        raise OptimizeError(
            f"{NAME}: {name} reads {consumer.in_features} inputs, not {channels} channels × positions"
        )
    cols = (keep[:, None] * spatial + torch.arange(spatial)[None, :]).reshape(-1)
    before = consumer.in_features
    consumer.weight = nn.Parameter(consumer.weight.data[:, cols].clone())
    consumer.in_features = len(cols)
    return [f"{name}: {before} → {len(cols)} inputs"]


def apply_artifact(model: Artifact, out_dir: Path, ctx: Context) -> Applied:
    """Prune ``model``'s PyTorch module, fine-tune it on ``ctx.train``, export to ``out_dir/model.onnx``."""
    import torch

    module = need_torch(model, NAME)
    train = need_data(ctx.train, NAME, "training data to fine-tune after removing channels", "--train")
    x, y = finetune.training_set(train)
    params = sum(p.numel() for p in module.parameters())
    torch.set_num_threads(ctx.threads)
    pruned, changes = prune(module)
    finetune.fine_tune(pruned, x, y, epochs=EPOCHS, checkpoint=lambda: ctx.checkpoint(NAME))
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
