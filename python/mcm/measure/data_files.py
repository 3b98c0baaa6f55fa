"""What a data flag (``--data``, ``--calib``, ``--eval``, ``--train``) names, as the ``.npz`` every data path of mcm
reads: an image folder through ``--preprocess`` (:mod:`mcm.measure.images`), a ``.txt`` or ``.jsonl`` file through
a tokenizer (:mod:`mcm.measure.text`), anything else as it is (an ``.npz``).

A text file's tokenizer is ``--tokenizer DIR`` when given, else the model's own when the model is a Hugging Face
model directory. ``token_type_ids`` are made only for a model that may take them: a model directory is called with
``input_ids`` and ``attention_mask`` alone (:mod:`mcm.measure.hf_model`); other models pick their inputs by name.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from mcm.exceptions import InputError
from mcm.measure import images, text, zoo


@contextmanager
def as_npz(
    path: Path | None,
    flag: str,
    *,
    model: str,
    preprocess: str | None = None,
    tokenizer: Path | None = None,
    max_length: int | None = None,
) -> Iterator[Path | None]:
    """``path`` as an ``.npz`` for ``model`` (a temporary one for an image folder or a text file, removed
    afterwards); None stays None. :class:`InputError` for text without a tokenizer to read it with."""
    if path is None or path.is_dir() or path.suffix.lower() not in text.SUFFIXES:
        with images.as_npz(path, preprocess, flag) as out:
            yield out
        return
    if flag == "--train":
        error = InputError(f"{flag} {path}: text cannot be training data here")
        error.hint = "pruning and distillation fine-tune on one input array with labels: give an .npz or an image folder"
        raise error
    model_dir = zoo.is_model_dir(Path(model))
    source = tokenizer if tokenizer is not None else Path(model) if model_dir else None
    if source is None:
        error = InputError(
            f"{flag} {path}: a text file needs a tokenizer, and the model {model} is not a model directory "
            "that holds one"
        )
        error.hint = (
            "give --tokenizer DIR (a folder with the model's tokenizer files, as save_pretrained writes)"
        )
        raise error
    with text.as_npz(path, source, max_length=max_length, token_types=not model_dir) as out:
        yield out


__all__ = ["as_npz"]
