"""Short PyTorch training helpers shared by pruning and distillation: data, fine-tuning, BN recalibration."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from mcm.exceptions import OptimizeError
from mcm.measure.inputs import load_npz

SEED = 0


def training_set(path: Path) -> tuple[Any, Any]:
    """``(inputs, labels)`` tensors from a training ``.npz`` with one input array and labels."""
    import torch

    data = load_npz(path)
    if data.labels is None or len(data.arrays) != 1:
        raise OptimizeError(f"{path.name}: training data needs one input array and labels y")
    x = next(iter(data.arrays.values()))
    return torch.from_numpy(x).float(), torch.from_numpy(data.labels).long()


def fine_tune(
    model: Any,
    x: Any,
    y: Any,
    *,
    epochs: int,
    lr: float = 1e-3,
    teacher: Any = None,
    checkpoint: Callable[[], None] = lambda: None,
) -> Any:
    """Train ``model`` on ``(x, y)`` with Adam (seeded, one thread's worth of work); with ``teacher``, the loss
    also matches the teacher's softened outputs (knowledge distillation, temperature 4). ``checkpoint`` is
    called before each batch (it raises to stop)."""
    import torch
    from torch import nn

    torch.manual_seed(SEED)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    ce = nn.CrossEntropyLoss()
    order = torch.Generator().manual_seed(SEED)
    model.train()
    for _ in range(epochs):
        perm = torch.randperm(len(x), generator=order)
        for i in range(0, len(x), 64):
            checkpoint()
            idx = perm[i : i + 64]
            opt.zero_grad()
            out = model(x[idx])
            loss = ce(out, y[idx])
            if teacher is not None:
                with torch.no_grad():
                    soft = torch.softmax(teacher(x[idx]) / 4.0, dim=1)
                kd = nn.functional.kl_div(torch.log_softmax(out / 4.0, dim=1), soft, reduction="batchmean")
                loss = 0.5 * loss + 0.5 * 16.0 * kd
            loss.backward()
            opt.step()
    return model.eval()


def recalibrate_bn(model: Any, x: Any, checkpoint: Callable[[], None] = lambda: None) -> int:
    """Re-estimate every BatchNorm's running statistics on ``x`` (no weight changes); returns how many.
    ``checkpoint`` is called before each batch (it raises to stop)."""
    import torch
    from torch import nn

    norms = [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    for m in norms:
        m.reset_running_stats()
        m.momentum = None  # cumulative average over the batches below
    model.train()
    with torch.no_grad():
        for i in range(0, len(x), 64):
            checkpoint()
            model(x[i : i + 64])
    model.eval()
    return len(norms)
