"""The demo CNN (about 20 k parameters) and the factory ``build`` that loads its bundled weights."""

from __future__ import annotations

import torch
from torch import nn

from mcm.demo import WEIGHTS_PATH

CLASSES = 10


class DigitsCNN(nn.Module):
    """Conv-BN-ReLU ×2, max-pool, Conv-BN-ReLU, linear: 1×8×8 pixels in, 10 logits out."""

    def __init__(self) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 16, 3, padding=1, bias=False),
            nn.BatchNorm2d(16),
            nn.ReLU(),
            nn.Conv2d(16, 32, 3, padding=1, bias=False),
            nn.BatchNorm2d(32),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(32, 32, 3, padding=1, bias=False),
            nn.BatchNorm2d(32),
            nn.ReLU(),
        )
        self.classifier = nn.Linear(32 * 4 * 4, CLASSES)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        logits: torch.Tensor = self.classifier(self.features(x).flatten(1))
        return logits


def build() -> tuple[DigitsCNN, tuple[torch.Tensor]]:
    """The trained demo CNN in eval mode, with an example input (batch 1) that gives the input shape."""
    model = DigitsCNN()
    model.load_state_dict(torch.load(WEIGHTS_PATH, weights_only=True, map_location="cpu"))
    return model.eval(), (torch.zeros(1, 1, 8, 8),)


__all__ = ["CLASSES", "DigitsCNN", "build"]
