"""Small PyTorch models for the optimize tests, importable as entry points (``optimize_models:tiny_bert``)."""

from __future__ import annotations

import torch
from torch import nn

VOCAB = 1000


class TinyBert(nn.Module):
    """A one-layer BERT-shaped encoder with two named inputs, as Hugging Face models take them."""

    def __init__(self, hidden: int = 32, heads: int = 2) -> None:
        super().__init__()
        self.words = nn.Embedding(VOCAB, hidden)
        self.positions = nn.Embedding(64, hidden)
        self.qkv, self.out = nn.Linear(hidden, 3 * hidden), nn.Linear(hidden, hidden)
        self.norm = nn.LayerNorm(hidden)
        self.ffn = nn.Sequential(nn.Linear(hidden, 4 * hidden), nn.GELU(), nn.Linear(4 * hidden, hidden))
        self.head = nn.Linear(hidden, 3)
        self.heads = heads

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        positions = torch.arange(input_ids.size(1), device=input_ids.device)
        x = self.words(input_ids) + self.positions(positions)[None]
        bias = (1.0 - attention_mask[:, None, None, :].to(x.dtype)) * -10000.0
        b, n, h = x.shape
        q, k, v = (t.view(b, n, self.heads, -1).transpose(1, 2) for t in self.qkv(x).chunk(3, dim=-1))
        scores = (q @ k.transpose(-1, -2)) / (h // self.heads) ** 0.5 + bias
        x = self.norm(x + self.out((scores.softmax(-1) @ v).transpose(1, 2).reshape(b, n, h)))
        x = x + self.ffn(x)
        return self.head(x[:, 0])


def tiny_bert() -> tuple[nn.Module, tuple[torch.Tensor, torch.Tensor]]:
    torch.manual_seed(0)
    ids = torch.randint(0, VOCAB, (1, 16))
    return TinyBert().eval(), (ids, torch.ones(1, 16, dtype=torch.long))


class SmallCnn(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten()
        )
        self.head = nn.Linear(8, 4)

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        return self.head(self.body(image))


def bare_tensor_cnn() -> tuple[nn.Module, torch.Tensor]:
    """A factory returning ``(module, tensor)``, as ``mcm measure`` accepts."""
    torch.manual_seed(0)
    return SmallCnn().eval(), torch.randn(1, 3, 16, 16)
