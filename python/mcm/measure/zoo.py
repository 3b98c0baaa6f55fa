"""Models named from a library's zoo: ``torchvision:NAME`` and ``timm:NAME``, with ``/WEIGHTS`` for trained weights;
and Hugging Face model directories (``config.json`` and ``model.safetensors``, as ``save_pretrained`` writes them).

``torchvision:resnet18`` builds the architecture with random weights (speed, size and counts do not depend on them);
``torchvision:resnet18/DEFAULT`` or ``/IMAGENET1K_V1`` loads torchvision's published weights (downloaded once into
torch's cache, read with ``weights_only=True``). ``timm:NAME`` builds a timm model, ``timm:NAME/pretrained`` with
its weights. A model directory is loaded with ``transformers`` from its safetensors only (a pickled
``pytorch_model.bin`` is refused: it could run code), without remote code, offline, as the transformers class its
``config.json`` names (its task head, e.g. ``BertForSequenceClassification``) or else ``AutoModel``; its inputs are
``input_ids`` (within the vocabulary) and ``attention_mask`` (ones), at sequence :data:`~mcm.measure.inputs.SEQUENCE_LENGTH` or the model's
largest, and its first output is measured (``last_hidden_state``, or a head's ``logits``). Each factory returns
``(module, example)`` as an entry point does: for an image model one image at the size it expects (the weights'
crop size, timm's ``input_size``; 224 px otherwise).
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

from mcm.exceptions import ModelError
from mcm.measure.inputs import SEQUENCE_LENGTH

_NAME = re.compile(r"^(torchvision|timm):([A-Za-z_][\w.]*)(?:/([\w.]+))?$")
#: The image side when a model says nothing of its input size.
DEFAULT_SIDE = 224


def matches(text: str) -> bool:
    """Whether ``text`` names a zoo model (``torchvision:resnet18``, ``timm:efficientnet_b0/pretrained``)."""
    return _NAME.match(text) is not None


def is_model_dir(path: Path) -> bool:
    """Whether ``path`` is a Hugging Face model directory (it holds a ``config.json``)."""
    return path.is_dir() and (path / "config.json").is_file()


def factory(text: str) -> Callable[[], tuple[Any, Any]]:
    """The factory of the zoo model or model directory ``text`` names; :class:`ModelError` when its library is
    missing or it has no such model. Nothing is built until it is called."""
    if is_model_dir(Path(text)):
        return _hugging_face(Path(text))
    match = _NAME.match(text)
    if match is None:
        raise ModelError(f"{text}: not a zoo name (give torchvision:NAME or timm:NAME, optionally /WEIGHTS)")
    library, name, weights = match.groups()
    if library == "torchvision":
        return _torchvision(text, name, weights)
    return _timm(text, name, weights)


def _torchvision(text: str, name: str, weights: str | None) -> Callable[[], tuple[Any, Any]]:
    try:
        import torch
        import torchvision  # type: ignore[import-untyped]
    except ImportError as e:
        raise ModelError(f"{text}: needs torchvision (pip install torchvision)") from e
    known = torchvision.models.list_models()
    if name not in known:
        from mcm.units import did_you_mean

        error = ModelError(f"{text}: torchvision has no model '{name}'")
        error.hint = did_you_mean(name, known)
        raise error
    enum = torchvision.models.get_model_weights(name)
    chosen = None
    if weights is not None:
        try:
            chosen = enum[weights] if weights != "DEFAULT" else enum.DEFAULT
        except KeyError as e:
            error = ModelError(f"{text}: {name} has no weights '{weights}'")
            error.hint = "weights: DEFAULT, " + ", ".join(enum.__members__)
            raise error from e
    crop = _crop_size(enum.DEFAULT) if len(enum.__members__) else DEFAULT_SIDE

    def make() -> tuple[Any, Any]:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # the library's deprecation notes are not the user's problem
                module = torchvision.models.get_model(name, weights=chosen)
        except Exception as e:  # a download or a build failure
            raise ModelError(f"{text}: cannot build it ({type(e).__name__}: {e})") from e
        return module.eval(), torch.randn(1, 3, crop, crop)

    return make


def _crop_size(weights: Any) -> int:
    """The side of the images the weights were trained on (their preset's crop size), without downloading."""
    try:
        crop = weights.transforms().crop_size
    except Exception:  # a preset without a crop size (video, optical flow): the default
        return DEFAULT_SIDE
    return int(crop[0] if isinstance(crop, (list, tuple)) else crop)


def _timm(text: str, name: str, weights: str | None) -> Callable[[], tuple[Any, Any]]:
    try:
        import timm
        import torch
    except ImportError as e:
        raise ModelError(f"{text}: needs timm (pip install timm)") from e
    if weights not in (None, "pretrained"):
        raise ModelError(f"{text}: timm weights are named /pretrained, not /{weights}")
    if not timm.is_model(name):  # an architecture, optionally with its weights' tag (resnet50.a1_in1k)
        from mcm.units import did_you_mean

        error = ModelError(f"{text}: timm has no model '{name}'")
        error.hint = did_you_mean(name, timm.list_models())
        raise error

    def make() -> tuple[Any, Any]:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                module = timm.create_model(name, pretrained=weights == "pretrained")
        except Exception as e:  # a download or a build failure
            raise ModelError(f"{text}: cannot build it ({type(e).__name__}: {e})") from e
        config: dict[str, Any] = getattr(module, "pretrained_cfg", None) or {}
        size = tuple(config.get("input_size", (3, DEFAULT_SIDE, DEFAULT_SIDE)))
        return module.eval(), torch.randn(1, *size)

    return make


def _hugging_face(path: Path) -> Callable[[], tuple[Any, Any]]:
    try:
        import torch
        import transformers
    except ImportError as e:
        raise ModelError(
            f"{path}: a Hugging Face model directory needs transformers (pip install 'mcm[hf]')"
        ) from e
    if not any(path.glob("*.safetensors")):
        pickled = [p.name for p in path.glob("*.bin")]
        found = f" ({', '.join(pickled)} is pickled: loading it could run code)" if pickled else ""
        raise ModelError(
            f"{path}: no .safetensors weights{found}; save the model with safe_serialization=True"
        )

    def make() -> tuple[Any, Any]:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                config = transformers.AutoConfig.from_pretrained(
                    path, local_files_only=True, trust_remote_code=False
                )
                model = _model_class(transformers, config).from_pretrained(
                    path, config=config, use_safetensors=True, local_files_only=True, trust_remote_code=False
                )
        except Exception as e:  # an unknown architecture, a broken file
            raise ModelError(f"{path}: cannot load it with transformers ({type(e).__name__}: {e})") from e
        seq = min(SEQUENCE_LENGTH, int(getattr(config, "max_position_embeddings", 0) or SEQUENCE_LENGTH))
        vocab = int(getattr(config, "vocab_size", 2) or 2)
        ids = torch.randint(0, vocab, (1, seq), generator=torch.Generator().manual_seed(0))
        from mcm.measure.hf_model import FirstOutput

        return FirstOutput(model).eval(), (ids, torch.ones_like(ids))

    return make


def _model_class(transformers: Any, config: Any) -> Any:
    """The class the config names first in ``architectures`` when transformers itself defines it (a task head such
    as ``BertForSequenceClassification``, whose logits accuracy reads), else ``AutoModel`` (the bare model)."""
    names = getattr(config, "architectures", None) or [None]
    found = getattr(transformers, names[0], None) if isinstance(names[0], str) else None
    if isinstance(found, type) and issubclass(found, transformers.PreTrainedModel):
        return found
    return transformers.AutoModel


__all__ = ["DEFAULT_SIDE", "factory", "is_model_dir", "matches"]
