"""Small models for the measurement tests, importable as entry points (``measure_models:flaky``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import numpy.typing as npt

ArrayFn = Callable[[npt.NDArray[np.float32]], npt.NDArray[np.float32]]


def flaky(every: int = 4) -> tuple[ArrayFn, tuple[npt.NDArray[np.float32]]]:
    """A model that raises on every ``every``-th call (from the 4th on), with an example input."""
    calls = [0]

    def model(x: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
        calls[0] += 1
        if calls[0] % every == 0:
            raise RuntimeError("simulated failure")
        return x * 2

    return model, (np.ones((1, 4), np.float32),)


def always_fails() -> tuple[ArrayFn, tuple[npt.NDArray[np.float32]]]:
    def model(x: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
        raise ValueError("this model never works")

    return model, (np.ones((1, 4), np.float32),)


def allocating(megabytes: int) -> Callable[[npt.NDArray[np.float32]], Any]:
    """A callable that allocates and touches ``megabytes`` MiB on every call, then frees it."""
    n = megabytes * 1024 * 1024 // 8

    def model(x: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
        if n:
            buffer = np.ones(n)
            x = x + float(buffer[-1])
        return x

    return model


def linear() -> Any:
    """A torch linear layer (4 → 3) with an example input of batch 2."""
    import torch

    torch.manual_seed(0)
    return torch.nn.Linear(4, 3).eval(), (torch.randn(2, 4),)
