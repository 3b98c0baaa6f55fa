"""A TorchScript model that creates and writes a file when it is loaded (``__setstate__``) and when it runs,
through ``torch.from_file`` — no pickle and no Python involved. Used by test_hostile_models.py."""

from __future__ import annotations

import torch


class WritesFiles(torch.nn.Module):
    def __init__(self, marker: str) -> None:
        super().__init__()
        self.marker = marker
        self.buf = torch.zeros(1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        t = torch.from_file(self.marker, True, 4, dtype=torch.uint8)
        t.fill_(66)
        return x + t[0].float() * 0

    @torch.jit.export
    def __getstate__(self) -> str:
        return self.marker

    @torch.jit.export
    def __setstate__(self, marker: str) -> None:
        self.marker = marker
        t = torch.from_file(marker, True, 4, dtype=torch.uint8)
        t.fill_(65)
        self.buf = t.float()
        self.training = False
