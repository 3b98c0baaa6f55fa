"""Models named from a library's zoo: ``torchvision:NAME`` and ``timm:NAME``, with ``/WEIGHTS`` for trained weights.

``torchvision:resnet18`` builds the architecture with random weights (speed, size and counts do not depend on them);
``torchvision:resnet18/DEFAULT`` or ``/IMAGENET1K_V1`` loads torchvision's published weights (downloaded once into
torch's cache, read with ``weights_only=True``). ``timm:NAME`` builds a timm model, ``timm:NAME/pretrained`` with
its weights. Each factory returns ``(module, example)`` as an entry point does: one image at the size the model
expects (the weights' crop size, timm's ``input_size``; 224 px otherwise).
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Callable
from typing import Any

from mcm.exceptions import ModelError

_NAME = re.compile(r"^(torchvision|timm):([A-Za-z_][\w.]*)(?:/([\w.]+))?$")
#: The image side when a model says nothing of its input size.
DEFAULT_SIDE = 224


def matches(text: str) -> bool:
    """Whether ``text`` names a zoo model (``torchvision:resnet18``, ``timm:efficientnet_b0/pretrained``)."""
    return _NAME.match(text) is not None


def factory(text: str) -> Callable[[], tuple[Any, Any]]:
    """The factory of the zoo model ``text`` names; :class:`ModelError` when its library is missing or it has
    no such model. Nothing is built until it is called."""
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
        import timm  # type: ignore[import-not-found]
        import torch
    except ImportError as e:
        raise ModelError(f"{text}: needs timm (pip install timm)") from e
    if weights not in (None, "pretrained"):
        raise ModelError(f"{text}: timm weights are named /pretrained, not /{weights}")
    if not timm.list_models(name):
        raise ModelError(f"{text}: timm has no model '{name}'")

    def make() -> tuple[Any, Any]:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                module = timm.create_model(name, pretrained=weights == "pretrained")
        except Exception as e:  # a download or a build failure
            raise ModelError(f"{text}: cannot build it ({type(e).__name__}: {e})") from e
        size = tuple(module.pretrained_cfg.get("input_size", (3, DEFAULT_SIDE, DEFAULT_SIDE)))
        return module.eval(), torch.randn(1, *size)

    return make


__all__ = ["DEFAULT_SIDE", "factory", "matches"]
