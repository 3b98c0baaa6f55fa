"""A Hugging Face transformers model as mcm runs it: called on ``input_ids`` and ``attention_mask``, returning its
first output (``last_hidden_state`` or ``logits``), so that the runners, the ONNX export and the counts see one
tensor. Imported only when a model directory is opened (it imports torch)."""

from __future__ import annotations

from typing import Any

import torch


class FirstOutput(torch.nn.Module):
    """``model(input_ids=..., attention_mask=...)``'s first output."""

    def __init__(self, model: torch.nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> Any:
        return self.model(input_ids=input_ids, attention_mask=attention_mask, return_dict=False)[0]
