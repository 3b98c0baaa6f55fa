"""Peak memory: a model that allocates a known extra buffer shows it in the peak, within 10%."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from measure_models import allocating

from mcm.measure import measure_model
from mcm.measure.memory import PeakWindow

BUFFER_MB = 64
FAST = {"min_time": 0.05, "min_count": 10, "batches": (1,)}


def peak(model: object, **kwargs: object) -> float:
    report = measure_model(model, **FAST, **kwargs)  # type: ignore[arg-type]
    return report.metrics["memory_mb"]


def test_a_known_buffer_shows_in_the_peak() -> None:
    x = {"x": np.ones((1, 16), np.float32)}
    base = peak(allocating(0), inputs=x)
    extra = peak(allocating(BUFFER_MB), inputs=x)
    assert extra - base == pytest.approx(BUFFER_MB, rel=0.10), (base, extra)


class Buffered(torch.nn.Module):
    """Allocates and fills ``megabytes`` MiB of float32 in every forward, on the device the model runs on (the
    GPU peak where there is one)."""

    def __init__(self, megabytes: int) -> None:
        super().__init__()
        self.n = megabytes * 1024 * 1024 // 4

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.n:
            x = x + torch.ones(self.n, device=x.device)[-1]
        return x


def test_a_torch_buffer_shows_in_the_peak() -> None:
    x = {"x": np.ones((1, 16), np.float32)}
    base = peak(Buffered(0), inputs=x, threads=1)
    extra = peak(Buffered(BUFFER_MB), inputs=x, threads=1)
    assert extra - base == pytest.approx(BUFFER_MB, rel=0.10), (base, extra)


def test_the_window_resets_the_high_water_mark() -> None:
    big = np.ones(32 * 1024 * 1024 // 8)  # raise the process high-water mark before the window
    del big
    window = PeakWindow()
    window.start()
    result = window.stop()
    assert not isinstance(result, str) and result.increase_mb < 8  # type: ignore[union-attr]
