"""A text file as data: examples tokenized with a model directory's tokenizer into the ``.npz`` form every data path
of mcm takes (``input_ids``, ``attention_mask``, ``token_type_ids`` where wanted, all int64; ``y``: the labels).

``.txt``: one example per line, unlabelled. ``.jsonl``: one JSON object per line, ``{"text": "...", "label": 0}``,
the label (a non-negative integer) on every line or on none. Blank lines are skipped. Every example is truncated or
padded to one length: the one asked for, else :data:`mcm.measure.inputs.SEQUENCE_LENGTH` (128) or the model's largest, the
smaller (``max_position_embeddings`` of the folder's ``config.json``, the tokenizer's ``model_max_length``).

Text files are untrusted: at most :data:`MAX_TEXT_BYTES`, :data:`MAX_EXAMPLES` examples and
:data:`mcm.measure.inputs.MAX_DATA_BYTES` of arrays (checked before tokenizing); invalid UTF-8, bad JSON or a JSON
value of the wrong form is an :class:`InputError` located as ``file:line: ...``. The tokenizer is read from its
files only (``transformers.AutoTokenizer``, offline, no remote code: nothing in the folder is run).
"""

from __future__ import annotations

import tempfile
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from mcm.exceptions import InputError
from mcm.files.read import InputFileError, loads_limited, read_bytes_limited, size_text
from mcm.measure import zoo
from mcm.measure.inputs import MAX_DATA_BYTES, SEQUENCE_LENGTH

SUFFIXES = frozenset({".txt", ".jsonl"})
#: The largest text file read.
MAX_TEXT_BYTES = 256 * 1024**2
#: The most examples read from one file.
MAX_EXAMPLES = 100_000
#: Characters of a text handed to the tokenizer per token kept: the text is cut there first, so a huge line costs
#: no more than its first tokens (a WordPiece token spans at most ~100 characters; longer words are one [UNK]).
CHARS_PER_TOKEN = 128
#: The files one of which a folder must hold to have a tokenizer (as ``save_pretrained`` writes them).
TOKENIZER_FILES = (
    "tokenizer.json",
    "tokenizer_config.json",
    "vocab.txt",
    "vocab.json",
    "tokenizer.model",
    "spiece.model",
    "sentencepiece.bpe.model",
)
_JSONL_FORM = 'one JSON object per line: {"text": "...", "label": 0} (the label optional)'
_JSON_KINDS = {str: "a string", bool: "a boolean", list: "an array", dict: "an object"}
_CHUNK = 1024  # examples tokenized per call


@dataclass(frozen=True)
class Examples:
    """The texts of a file and, when it is labelled, one label per text."""

    texts: list[str]
    labels: list[int] | None


def read_examples(path: Path) -> Examples:
    """The examples of a ``.txt`` or ``.jsonl`` file (see the module docstring); :class:`InputError` otherwise."""
    try:
        data = read_bytes_limited(path, MAX_TEXT_BYTES, "text file")
    except InputFileError as e:
        raise InputError(str(e)) from e
    jsonl = path.suffix.lower() == ".jsonl"
    texts: list[str] = []
    labels: list[int] = []
    first_label: tuple[int, bool] | None = None  # the first example's line and whether it is labelled
    for number, raw in enumerate(_lines(data.removeprefix(b"\xef\xbb\xbf")), start=1):
        line = raw.removesuffix(b"\r")
        try:
            decoded = line.decode("utf-8")
        except UnicodeDecodeError as e:
            raise InputError(
                f"{path}:{number}: invalid UTF-8 at byte {e.start + 1}; expected UTF-8 text"
            ) from e
        if not decoded.strip():
            continue
        if len(texts) == MAX_EXAMPLES:
            raise InputError(f"{path}: more than {MAX_EXAMPLES:,} examples, the most read (use a subset)")
        if not jsonl:
            texts.append(decoded)
            continue
        text, label = _json_example(path, number, line)
        if first_label is None:
            first_label = (number, label is not None)
        elif first_label[1] != (label is not None):
            this, that = ("no", "one") if first_label[1] else ("a", "none")
            raise InputError(
                f'{path}:{number}: {this} "label", but line {first_label[0]} has {that}; '
                "expected a label on every line or on none"
            )
        texts.append(text)
        if label is not None:
            labels.append(label)
    if not texts:
        raise InputError(f"{path}: no examples (every line is blank)")
    return Examples(texts, labels if first_label is not None and first_label[1] else None)


def _lines(data: bytes) -> Iterator[bytes]:
    """The lines of ``data``, one at a time (a list of every line of a large file would take many times its
    size before the example limit is reached)."""
    start = 0
    while start <= len(data):
        end = data.find(b"\n", start)
        end = len(data) if end < 0 else end
        yield data[start:end]
        start = end + 1


def _json_example(path: Path, number: int, line: bytes) -> tuple[str, int | None]:
    """``(text, label or None)`` of one JSON Lines line."""
    try:
        value = loads_limited(line)
    except ValueError as e:
        raise InputError(f"{path}:{number}: {e}; expected {_JSONL_FORM}") from e
    if not isinstance(value, dict) or not isinstance(value.get("text"), str):
        raise InputError(f'{path}:{number}: no "text" string; expected {_JSONL_FORM}')
    label = value.get("label")
    if label is None:
        return value["text"], None
    if isinstance(label, bool) or not isinstance(label, int) or not 0 <= label <= np.iinfo(np.int64).max:
        shown = _JSON_KINDS.get(type(label), str(label))  # a number as it is; anything else by its kind
        raise InputError(
            f'{path}:{number}: "label" is {shown}; expected a class index (an integer, 0 or more)'
        )
    return value["text"], label


def load_tokenizer(folder: Path) -> Any:
    """The tokenizer saved in ``folder``, from its files only; :class:`InputError` (naming what is missing) when
    there is none or it cannot be read."""
    if not folder.is_dir():
        raise InputError(f"{folder}: no such folder (a tokenizer is a folder of tokenizer files)")
    if not any((folder / name).is_file() for name in TOKENIZER_FILES):
        error = InputError(f"{folder}: no tokenizer in it (none of {', '.join(TOKENIZER_FILES)})")
        error.hint = "save the tokenizer there (tokenizer.save_pretrained(DIR)), or give --tokenizer DIR"
        raise error
    try:
        import transformers
    except ImportError as e:
        raise InputError(f"{folder}: reading text needs transformers (pip install 'mcm[hf]')") from e
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return transformers.AutoTokenizer.from_pretrained(
                folder, local_files_only=True, trust_remote_code=False
            )
    except Exception as e:  # a broken or foreign file, or one that would need remote code
        raise InputError(f"{folder}: cannot load its tokenizer ({type(e).__name__}: {e})") from e


def sequence_length(tokenizer: Any, folder: Path, asked: int | None) -> int:
    """``asked``, else :data:`SEQUENCE_LENGTH`, held to the model's largest (see the module docstring)."""
    limits = [int(tokenizer.model_max_length)] if tokenizer.model_max_length < 2**31 else []
    if zoo.is_model_dir(folder):
        import transformers

        try:
            config = transformers.AutoConfig.from_pretrained(
                folder, local_files_only=True, trust_remote_code=False
            )
        except Exception as e:  # an unknown architecture, a broken file
            raise InputError(f"{folder}: cannot read its config.json ({type(e).__name__}: {e})") from e
        positions = getattr(config, "max_position_embeddings", None)
        limits += [int(positions)] if isinstance(positions, int) and positions > 0 else []
    limit = min(limits, default=None)
    if asked is None:
        return min(SEQUENCE_LENGTH, limit) if limit is not None else SEQUENCE_LENGTH
    if asked < 1 or (limit is not None and asked > limit):
        most = f" and at most {limit}, the model's largest" if limit is not None else ""
        raise InputError(f"--max-length {asked}: give a number of tokens of at least 1{most}")
    return asked


def encode(
    tokenizer: Any, texts: Sequence[str], length: int, *, token_types: bool
) -> dict[str, npt.NDArray[np.int64]]:
    """``input_ids`` and ``attention_mask`` (and ``token_type_ids`` when ``token_types`` and the tokenizer makes
    them) for ``texts``, each truncated or padded (on the tokenizer's padding side) to ``length``."""
    names = ["input_ids", "attention_mask"]
    if token_types and "token_type_ids" in tokenizer.model_input_names:
        names.append("token_type_ids")
    need = len(texts) * length * 8 * len(names)
    if need > MAX_DATA_BYTES:
        raise InputError(
            f"{len(texts):,} examples of {length} tokens take {size_text(need)}, over the "
            f"{size_text(MAX_DATA_BYTES)} data limit (use a subset or a smaller --max-length)"
        )
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0  # masked out either way
    arrays = {name: np.zeros((len(texts), length), np.int64) for name in names}
    arrays["input_ids"][:] = pad
    left = tokenizer.padding_side == "left"
    for start in range(0, len(texts), _CHUNK):
        encoded = tokenizer(
            [t[: length * CHARS_PER_TOKEN] for t in texts[start : start + _CHUNK]],
            truncation=True,
            max_length=length,
            return_attention_mask=True,
            return_token_type_ids="token_type_ids" in names,
        )
        for row, ids in enumerate(encoded["input_ids"], start=start):
            where = slice(length - len(ids), length) if left else slice(0, len(ids))
            for name in names:
                arrays[name][row, where] = encoded[name][row - start]
    return arrays


@contextmanager
def as_npz(
    path: Path, tokenizer_folder: Path, *, max_length: int | None = None, token_types: bool = True
) -> Iterator[Path]:
    """A temporary ``.npz`` of the text file ``path`` tokenized with the tokenizer in ``tokenizer_folder`` (see
    :func:`encode`; labels as ``y``), removed afterwards."""
    tokenizer = load_tokenizer(tokenizer_folder)
    length = sequence_length(tokenizer, tokenizer_folder, max_length)
    examples = read_examples(path)
    arrays: dict[str, npt.NDArray[np.int64]] = encode(
        tokenizer, examples.texts, length, token_types=token_types
    )
    if examples.labels is not None:
        arrays["y"] = np.array(examples.labels, np.int64)
    with tempfile.TemporaryDirectory(prefix="mcm-text-") as tmp:
        out = Path(tmp) / f"{path.stem or 'text'}.npz"
        np.savez(out, **arrays)  # type: ignore[arg-type]  # the stubs read any keyword as allow_pickle
        yield out


__all__ = [
    "MAX_EXAMPLES",
    "MAX_TEXT_BYTES",
    "SUFFIXES",
    "TOKENIZER_FILES",
    "Examples",
    "as_npz",
    "encode",
    "load_tokenizer",
    "read_examples",
    "sequence_length",
]
