"""Model inputs: the signature a runner reports, `--shape` / `--batch` / `.npz` data, and the arrays fed per batch.

Every mismatch (unknown input name, rank, a fixed dimension, dtype, a batch size the model fixes) is an
:class:`InputError` raised here, before anything is run or timed. Synthetic inputs are seeded and follow one policy,
:func:`fill_for`: floats from a standard normal drawn in their own dtype; masks all ones (True); token types zeros;
position ids 0, 1, 2, ...; other integers uniform below the vocabulary the runner found for them, else zeros (an
index valid for any table); other booleans False.

Data files are untrusted: an ``.npz`` is read only from a regular file, without pickles, and refused before
anything is decompressed when its members would expand past :data:`MAX_DATA_BYTES` (each member's size as the
zip directory and its ``.npy`` header declare it). The arrays fed to one call are held to the same limit.
"""

from __future__ import annotations

import math
import os
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Literal

import numpy as np
import numpy.typing as npt

from mcm.exceptions import InputError
from mcm.files.read import InputFileError, open_regular, size_text

#: One dimension of a signature: a fixed size, a symbolic name, or None (unknown).
Dim = int | str | None
#: Arrays fed to the model for one call, by input name, in signature order.
Feeds = dict[str, npt.NDArray[np.generic]]

#: Batch sizes measured when the model's batch dimension is free and none were asked for.
DEFAULT_BATCHES: tuple[int, ...] = (1, 8)
#: The name of the sequence dimension of token inputs (as mcm exports them), and the length a free one is given
#: when nothing says otherwise (BERT's usual fine-tuning length).
SEQUENCE, SEQUENCE_LENGTH = "sequence", 128
#: Keys of an .npz file read as labels, not inputs.
LABEL_KEYS = ("y", "label", "labels", "target", "targets")
#: Most bytes an .npz file may expand to, all members together, and the most that one call's inputs may take.
MAX_DATA_BYTES = 1024**3


class BatchSizeError(InputError):
    """Batch sizes asked for that the model cannot take: it fixes the batch size at ``fixed``."""

    def __init__(self, message: str, fixed: int, asked: tuple[int, ...]) -> None:
        super().__init__(message)
        self.fixed, self.asked = fixed, asked


@dataclass(frozen=True)
class InputSpec:
    """One model input: name, numpy dtype name and shape (each None when the model does not say), and for an index
    input the rows of the table it indexes (``ids_below``, its vocabulary) when the runner can tell."""

    name: str
    dtype: str | None
    shape: tuple[Dim, ...] | None
    ids_below: int | None = None

    @property
    def batch_free(self) -> bool:
        """Whether dimension 0 is symbolic or unknown (so any batch size may be fed)."""
        return self.shape is None or (len(self.shape) > 0 and not isinstance(self.shape[0], int))

    def describe(self) -> str:
        """``x: float32[batch,1,8,8]``."""
        dims = "?" if self.shape is None else ",".join("?" if d is None else str(d) for d in self.shape)
        return f"{self.name}: {self.dtype or 'any'}[{dims}]"

    def to_dict(self) -> dict[str, object]:
        return {
            "name": self.name,
            "dtype": self.dtype,
            "shape": None if self.shape is None else list(self.shape),
            "ids_below": self.ids_below,
        }


@dataclass(frozen=True)
class ShapeArg:
    """A ``--shape name=1x3x224x224[:dtype]`` request."""

    name: str
    shape: tuple[int, ...]
    dtype: str | None = None


@dataclass(frozen=True)
class Dataset:
    """Arrays from an ``.npz`` file: inputs by key and, if present, integer labels."""

    path: Path
    arrays: dict[str, npt.NDArray[np.generic]]
    labels: npt.NDArray[np.integer] | None


@dataclass(frozen=True)
class Fill:
    """How one synthetic input is generated: ``kind`` (normal, ids, ones, zeros or positions), the exclusive bound
    of ids (or of positions, which wrap below it) when known, and the sentence the report shows."""

    kind: Literal["normal", "ids", "ones", "zeros", "positions"]
    text: str
    below: int | None = None

    def to_dict(self) -> dict[str, object]:
        return {"fill": self.kind, "below": self.below, "text": self.text}


def fill_for(name: str, dtype: np.dtype[np.generic], ids_below: int | None = None) -> Fill:
    """The one policy for synthetic inputs, by dtype, name (case-insensitive) and vocabulary, first match wins:
    floats standard normal; a name with ``mask`` all ones (True); other booleans False; ``token_type`` or
    ``segment`` zeros; ``position`` 0, 1, 2, ... along the last dimension; other integers uniform below
    ``ids_below`` when the runner found it, else zeros (0 indexes any table, a guessed bound might not)."""
    key = name.lower()
    if np.issubdtype(dtype, np.floating):
        return Fill("normal", "floats from a standard normal")
    integer = np.issubdtype(dtype, np.integer)
    if not integer and dtype != np.bool_:
        return Fill("zeros", "zeros")
    if "mask" in key:
        return Fill("ones", f"{'ones' if integer else 'True'} (a mask keeping every position)")
    if not integer:
        return Fill("zeros", "False")
    known = ids_below if ids_below is not None and ids_below > 0 else None
    if known is not None:
        known = min(known, int(np.iinfo(dtype.name).max) + 1)
    if "token_type" in key or "segment" in key:
        return Fill("zeros", "zeros (token types: one segment)")
    if "position" in key:
        wrap = f", wrapped below {known}" if known is not None else ""
        return Fill("positions", f"positions 0, 1, 2, ... along the last dimension{wrap}", known)
    if known is not None:
        return Fill(
            "ids", f"token ids uniform below {known} (the vocabulary, from the embedding table)", known
        )
    return Fill("zeros", "zeros (no vocabulary found; 0 indexes any table)")


def is_sequence_input(spec: InputSpec) -> bool:
    """Whether an input is a ``[batch, sequence]`` of integers: token ids, masks, token types or positions."""
    return spec.shape is not None and len(spec.shape) == 2 and (spec.dtype or "").startswith(("int", "uint"))


def sequence_inputs(specs: Sequence[InputSpec]) -> tuple[str, ...]:
    """The inputs whose axis 1 is the sequence length: every integer rank-2 input, when all of them have one
    length, at least 2, on that axis (a length of 1 is more likely one feature than a sequence, and the ONNX
    exporter fixes it anyway); none otherwise."""
    found = [s for s in specs if is_sequence_input(s)]
    lengths = {s.shape[1] for s in found if s.shape is not None}
    if len(lengths) != 1:
        return ()
    length = lengths.pop()
    return tuple(s.name for s in found) if isinstance(length, int) and length >= 2 else ()


@dataclass(frozen=True)
class InputPlan:
    """What to feed: the batch sizes and, for each input, a template (dim 0 replaced per batch) or real rows."""

    specs: tuple[InputSpec, ...]
    batches: tuple[int, ...]
    templates: dict[str, tuple[tuple[int, ...], str]]
    source: Literal["synthetic", "data", "example"]
    rows: dict[str, npt.NDArray[np.generic]] | None = None
    seed: int = 0
    #: Inputs whose free sequence length was set to :data:`SEQUENCE_LENGTH` (nothing gave one).
    default_sequence: tuple[str, ...] = ()

    def feeds(self, batch: int) -> Feeds:
        """The arrays for one call at ``batch``: the first rows of the data (repeated if too few), or synthetic."""
        if self.rows is not None:
            return {name: _take(a, batch) for name, a in self.rows.items()}
        rng = np.random.default_rng(self.seed)
        fills = self.fills()
        out: Feeds = {}
        for name, (shape, dtype) in self.templates.items():
            full = (batch, *shape[1:]) if shape else shape
            out[name] = _synthetic(rng, full, np.dtype(dtype), fills[name])
        return out

    def fills(self) -> dict[str, Fill]:
        """How each input is generated when the plan is synthetic (see :func:`fill_for`)."""
        below = {s.name: s.ids_below for s in self.specs}
        return {
            name: fill_for(name, np.dtype(dtype), below.get(name))
            for name, (_, dtype) in self.templates.items()
        }

    def describe_synthetic(self) -> str:
        """``input_ids: token ids uniform below 30522 (...); attention_mask: ones (...); seed 0``, and the sequence
        length given to a free one."""
        parts = [*(f"{n}: {f.text}" for n, f in self.fills().items()), f"seed {self.seed}"]
        if self.default_sequence:
            parts.append(
                f"sequence {SEQUENCE_LENGTH} for {', '.join(self.default_sequence)} (a free length: --shape to "
                "choose another)"
            )
        return "; ".join(parts)

    def shapes(self, batch: int) -> dict[str, list[int]]:
        """Input shapes at ``batch`` (for the report)."""
        return {name: [batch, *shape[1:]] if shape else [] for name, (shape, _) in self.templates.items()}


def parse_shape(text: str) -> ShapeArg:
    """``x=1x3x224x224`` or ``x=1x128:int64`` as a :class:`ShapeArg`."""
    name, sep, rest = text.partition("=")
    dims_text, _, dtype = rest.partition(":")
    try:
        dims = tuple(int(d) for d in dims_text.lower().split("x"))
    except ValueError:
        dims = ()
    if not sep or not name or not dims or any(d < 1 for d in dims):
        raise InputError(
            f"--shape {text!r}: expected NAME=DIMxDIMx... with every DIM at least 1, such as x=1x3x224x224 "
            "(optionally :dtype)"
        )
    if dtype:
        try:
            np.dtype(dtype)
        except TypeError:
            raise InputError(f"--shape {text!r}: unknown dtype {dtype!r} (e.g. float32, int64)") from None
    return ShapeArg(name.strip(), dims, dtype or None)


def parse_batches(text: str) -> tuple[int, ...]:
    """``1,8,32`` as batch sizes (positive, duplicates dropped, order kept)."""
    try:
        values = tuple(dict.fromkeys(int(v) for v in text.split(",") if v.strip()))
    except ValueError:
        values = ()
    if not values or any(v < 1 for v in values):
        raise InputError(
            f"--batch {text!r}: expected positive batch sizes separated by commas, such as 1,8,32"
        )
    return values


def load_npz(path: str | os.PathLike[str], limit: int = MAX_DATA_BYTES) -> Dataset:
    """Read an ``.npz`` file (a regular file, no pickles, expanding to at most ``limit`` bytes): input arrays and
    optional labels under one of :data:`LABEL_KEYS`."""
    p = Path(path)
    try:
        f = open_regular(p, "data file")
    except InputFileError as e:
        raise InputError(str(e)) from e
    try:
        with f:
            _check_npz_sizes(p, f, limit)
            with np.load(f, allow_pickle=False) as z:
                arrays = {k: z[k] for k in z.files}
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as e:
        raise InputError(f"{p}: not a readable .npz file ({e})") from e
    labels_key = next((k for k in LABEL_KEYS if k in arrays), None)
    labels = arrays.pop(labels_key) if labels_key else None
    if not arrays:
        raise InputError(f"{p}: holds no input arrays (keys: {', '.join(sorted(z.files))})")
    rows = {a.shape[0] if a.ndim else 0 for a in arrays.values()}
    if len(rows) != 1 or 0 in rows:
        raise InputError(
            f"{p}: input arrays must share a non-empty first (batch) dimension, got {sorted(rows)}"
        )
    if labels is not None and (
        not np.issubdtype(labels.dtype, np.integer) or labels.ndim != 1 or labels.shape[0] not in rows
    ):
        raise InputError(
            f"{p}: labels '{labels_key}' must be a 1-D integer array with one label per row "
            f"(got {labels.dtype}{list(labels.shape)} for {rows.pop()} rows)"
        )
    return Dataset(p, arrays, labels)


def _check_npz_sizes(path: Path, f: BinaryIO, limit: int) -> None:
    """Refuse, before decompressing, an ``.npz`` with a member that is no ``.npy`` array, whose members would
    expand past ``limit`` bytes (as the zip directory and each ``.npy`` header declare them), or with a header that
    declares more data than its member holds (numpy would allocate what the header says)."""
    total = 0
    with zipfile.ZipFile(f) as z:
        for info in z.infolist():
            name = info.filename
            if not name.endswith(".npy"):
                raise InputError(f"{path}: member {name} is not an .npy array")
            declared = 0
            if info.file_size <= limit:
                with z.open(info) as member:
                    version = np.lib.format.read_magic(member)
                    read_header = (
                        np.lib.format.read_array_header_1_0
                        if version == (1, 0)
                        else np.lib.format.read_array_header_2_0
                    )
                    shape, _, dtype = read_header(member)
                declared = math.prod(shape) * dtype.itemsize
            expands = max(info.file_size, declared)
            if expands > limit:
                raise InputError(
                    f"{path}: member {name} expands to {size_text(expands)}, over the {size_text(limit)} limit"
                )
            if declared > info.file_size:
                raise InputError(
                    f"{path}: member {name} declares {size_text(declared)} of data ({dtype}{list(shape)}) "
                    f"but holds {size_text(info.file_size)}"
                )
            total += info.file_size
    if total > limit:
        raise InputError(
            f"{path}: its members expand to {size_text(total)}, over the {size_text(limit)} limit"
        )
    f.seek(0)


def plan(
    specs: Sequence[InputSpec],
    *,
    shapes: Sequence[ShapeArg] = (),
    data: Dataset | None = None,
    batches: Sequence[int] | None = None,
    example: Mapping[str, npt.NDArray[np.generic]] | None = None,
    seed: int = 0,
) -> InputPlan:
    """Check the requested inputs against the signature and decide what each call is fed."""
    names = [s.name for s in specs]
    by_name = {s.name: s for s in specs}
    if shapes and data is not None:
        raise InputError("give --shape or --data, not both: the data's arrays fix the shapes")
    for arg in shapes:
        if arg.name not in by_name:
            raise InputError(
                f"--shape {arg.name}=...: the model has no input '{arg.name}' (inputs: {_names(specs)})"
            )
    rows = (
        _match(specs, data.arrays, str(data.path))
        if data is not None
        else _match(specs, example, "inputs")
        if example is not None
        else None
    )
    templates: dict[str, tuple[tuple[int, ...], str]] = {}
    defaulted: tuple[str, ...] = ()
    if rows is not None:
        for name in names:
            a = rows[name]
            templates[name] = (tuple(a.shape), str(a.dtype))
    else:
        given = {a.name: a for a in shapes}
        named = _named_sizes(by_name, shapes)
        for spec in specs:
            templates[spec.name], default = _template(spec, given.get(spec.name), named)
            defaulted += (spec.name,) if default else ()
    chosen = _batches(specs, templates, shapes, batches, rows is not None)
    _check_call_size(templates, max(chosen))
    source: Literal["synthetic", "data", "example"] = (
        "data" if data is not None else "example" if rows else "synthetic"
    )
    return InputPlan(tuple(specs), chosen, templates, source, rows, seed, defaulted)


def check_feeds(
    specs: Sequence[InputSpec], feeds: Mapping[str, npt.NDArray[np.generic]], origin: str
) -> None:
    """Raise :class:`InputError` unless ``feeds`` has every input with the signature's dtype, rank and fixed dims."""
    for spec in specs:
        if spec.name not in feeds:
            raise InputError(f"{origin}: no array for input '{spec.name}' (inputs: {_names(specs)})")
        _check_array(spec, feeds[spec.name], f"{origin}['{spec.name}']", check_batch=True)


def _match(
    specs: Sequence[InputSpec], arrays: Mapping[str, npt.NDArray[np.generic]], origin: str
) -> dict[str, npt.NDArray[np.generic]]:
    """The array for each input, by name (or the only array for the only input), checked against the spec."""
    if len(specs) == 1 and specs[0].name not in arrays and len(arrays) == 1:
        arrays = {specs[0].name: next(iter(arrays.values()))}
    missing = [s.name for s in specs if s.name not in arrays]
    if missing:
        raise InputError(
            f"{origin}: no array for input {', '.join(repr(m) for m in missing)} "
            f"(given: {', '.join(sorted(arrays))}; the model takes {_names(specs)})"
        )
    for spec in specs:
        _check_array(spec, arrays[spec.name], f"{origin}['{spec.name}']", check_batch=False)
    return {s.name: arrays[s.name] for s in specs}


def _check_array(spec: InputSpec, a: npt.NDArray[np.generic], origin: str, *, check_batch: bool) -> None:
    if spec.dtype is not None and str(a.dtype) != spec.dtype:
        raise InputError(
            f"{origin} has dtype {a.dtype} but the model expects {spec.dtype} "
            f"(convert with .astype(np.{spec.dtype}))"
        )
    if spec.shape is None:
        return
    if a.ndim != len(spec.shape):
        raise InputError(f"{origin} has shape {list(a.shape)} but the model expects {spec.describe()}")
    for i, (got, want) in enumerate(zip(a.shape, spec.shape, strict=True)):
        if isinstance(want, int) and got != want and (i > 0 or check_batch):
            raise InputError(
                f"{origin} has shape {list(a.shape)}, but the model fixes dimension {i} at {want} ({spec.describe()})"
            )


def _named_sizes(specs: Mapping[str, InputSpec], shapes: Sequence[ShapeArg]) -> dict[str, int]:
    """The sizes ``--shape`` gives the model's named (symbolic) dimensions: ``{"sequence": 64}``, so that every
    input sharing the name takes the same size; :class:`InputError` when two shapes disagree on one."""
    sizes: dict[str, int] = {}
    seen: dict[str, str] = {}
    for arg in shapes:
        spec = specs[arg.name]
        if spec.shape is None or len(spec.shape) != len(arg.shape):
            continue  # checked with the input's template
        for i, (got, want) in enumerate(zip(arg.shape, spec.shape, strict=True)):
            if i == 0 or not isinstance(want, str):
                continue  # the batch is chosen per call
            if sizes.setdefault(want, got) != got:
                raise InputError(
                    f"--shape {arg.name}={_dims(arg.shape)}: dimension '{want}' is {got} here but "
                    f"{sizes[want]} in --shape {seen[want]}: the model gives both inputs one size"
                )
            seen.setdefault(want, arg.name)
    return sizes


def _template(
    spec: InputSpec, arg: ShapeArg | None, named: Mapping[str, int]
) -> tuple[tuple[tuple[int, ...], str], bool]:
    """The input's ``(shape, dtype)`` at batch 1, and whether its free sequence length took
    :data:`SEQUENCE_LENGTH`. Named dimensions another ``--shape`` sized (``named``) take that size."""
    dtype = (arg.dtype if arg is not None else None) or spec.dtype or "float32"
    if arg is not None and arg.dtype and spec.dtype is not None and arg.dtype != spec.dtype:
        raise InputError(
            f"--shape {arg.name}: dtype {arg.dtype} does not match the model's {spec.describe()}"
        )
    if arg is None:
        if spec.shape is None:
            raise InputError(
                f"the shape of input '{spec.name}' is unknown (a TorchScript file or entry point without example "
                f"inputs): give --shape {spec.name}=1x3x224x224 or --data FILE.npz"
            )
        dims = [named.get(d, d) if isinstance(d, str) and i > 0 else d for i, d in enumerate(spec.shape)]
        free = [i for i, d in enumerate(dims) if not isinstance(d, int) and i > 0]
        default = free == [1] and is_sequence_input(spec)  # token ids, masks: a free sequence length
        if default:
            dims[1] = SEQUENCE_LENGTH
        elif free:
            raise InputError(
                f"input {spec.describe()} has free dimension{'s' if len(free) > 1 else ''} "
                f"{', '.join(str(i) for i in free)}: give its shape with --shape {spec.name}=DIMxDIMx..."
            )
        return (tuple(d if isinstance(d, int) else 1 for d in dims), dtype), default
    if spec.shape is not None:
        if len(arg.shape) != len(spec.shape):
            raise InputError(
                f"--shape {arg.name}={_dims(arg.shape)} has rank {len(arg.shape)}, but the model "
                f"expects {spec.describe()}"
            )
        for i, (got, want) in enumerate(zip(arg.shape, spec.shape, strict=True)):
            if isinstance(want, int) and got != want:
                raise InputError(
                    f"--shape {arg.name}={_dims(arg.shape)}: dimension {i} is {got}, but the model fixes it at "
                    f"{want} ({spec.describe()})"
                )
    return (arg.shape, dtype), False


def _batches(
    specs: Sequence[InputSpec],
    templates: Mapping[str, tuple[tuple[int, ...], str]],
    shapes: Sequence[ShapeArg],
    requested: Sequence[int] | None,
    from_rows: bool,
) -> tuple[int, ...]:
    fixed = [s for s in specs if not s.batch_free]
    fixed_batch: int | None = None
    if any(not shape for shape, _ in templates.values()):
        fixed_batch = 1  # a scalar input: no batch dimension at all
    elif fixed and fixed[0].shape is not None and isinstance(fixed[0].shape[0], int):
        fixed_batch = fixed[0].shape[0]
    if fixed_batch is not None:
        if requested and tuple(requested) != (fixed_batch,):
            what = fixed[0].describe() if fixed else "a scalar input"
            asked = ",".join(str(b) for b in requested)
            raise BatchSizeError(
                f"the model fixes the batch size at {fixed_batch} ({what}): it cannot run at batch sizes {asked}",
                fixed_batch,
                tuple(requested),
            )
        return (fixed_batch,)
    if requested:
        return tuple(requested)
    if shapes and not from_rows:
        return (shapes[0].shape[0],)
    return DEFAULT_BATCHES


def _check_call_size(templates: Mapping[str, tuple[tuple[int, ...], str]], batch: int) -> None:
    """Refuse inputs that would take more than :data:`MAX_DATA_BYTES` for one call at ``batch``."""
    sizes = {
        name: math.prod(shape[1:]) * batch * np.dtype(dtype).itemsize if shape else np.dtype(dtype).itemsize
        for name, (shape, dtype) in templates.items()
    }
    if sum(sizes.values()) > MAX_DATA_BYTES:
        largest = max(sizes, key=lambda name: sizes[name])
        raise InputError(
            f"one call at batch {batch} takes {size_text(sum(sizes.values()))} of inputs "
            f"({largest}: {size_text(sizes[largest])}), over the {size_text(MAX_DATA_BYTES)} limit"
        )


def _take(a: npt.NDArray[np.generic], batch: int) -> npt.NDArray[np.generic]:
    if a.shape[0] >= batch:
        return np.ascontiguousarray(a[:batch])
    reps = -(-batch // a.shape[0])
    return np.ascontiguousarray(np.concatenate([a] * reps)[:batch])


def _synthetic(
    rng: np.random.Generator, shape: tuple[int, ...], dtype: np.dtype[np.generic], fill: Fill
) -> npt.NDArray[np.generic]:
    """One synthetic array as ``fill`` says (:func:`fill_for` chose it)."""
    if fill.kind == "normal":
        if dtype == np.float64:
            return rng.standard_normal(shape)
        # drawn in float32 (float16 and the like: cast from it, no wider)
        return rng.standard_normal(shape, dtype=np.float32).astype(dtype, copy=False)
    if fill.kind == "ids" and fill.below is not None:
        return rng.integers(0, fill.below, size=shape, dtype=dtype)
    if fill.kind == "positions" and shape:
        steps = np.arange(shape[-1])
        if fill.below is not None:
            steps %= fill.below
        return np.ascontiguousarray(np.broadcast_to(steps.astype(dtype), shape))
    if fill.kind == "ones":
        return np.ones(shape, dtype=dtype)
    return np.zeros(shape, dtype=dtype)


def _names(specs: Sequence[InputSpec]) -> str:
    return ", ".join(s.describe() for s in specs) or "none"


def _dims(shape: Sequence[int]) -> str:
    return "x".join(str(d) for d in shape)


__all__ = [
    "DEFAULT_BATCHES",
    "LABEL_KEYS",
    "MAX_DATA_BYTES",
    "SEQUENCE",
    "SEQUENCE_LENGTH",
    "BatchSizeError",
    "Dataset",
    "Dim",
    "Feeds",
    "Fill",
    "InputPlan",
    "InputSpec",
    "ShapeArg",
    "check_feeds",
    "fill_for",
    "is_sequence_input",
    "load_npz",
    "parse_batches",
    "parse_shape",
    "plan",
    "sequence_inputs",
]
