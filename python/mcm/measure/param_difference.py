"""Why a PyTorch model's parameter count differs from its ONNX export's (:mod:`mcm.measure.params` counts them).

The two counts differ after an export, and :func:`explain_difference` itemises why, from what both models hold:
batch norms folded into the preceding convolutions (their 2C weights gone, and C bias values added to a
convolution that had none, unless the folded shifts are all zero and the exporter drops them); tied weights
stored more than once; buffers exported as initializers; parameters forward does not use (known only by running
it on example inputs), equal to another and stored once, read only in part (a position table up to the exported
sequence length) or holding only zeros or ones (a no-op the exporter removes); constants the export created.
ONNX tensors are matched to parameters and buffers by name (torch.onnx keeps the names of the parameters it
stores), then by value (size, sum and sum of magnitudes: the same under a transpose); values are read only
where names do not match. What the evidence does not account for is reported as unexplained, never forced to
zero.
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mcm.measure.params import count_onnx, count_tensors, numel, weight_tensors
from mcm.measure.unavailable import Unavailable

if TYPE_CHECKING:
    import onnx
    import torch


@dataclass(frozen=True)
class Reason:
    """One cause of the difference: its parameters (ONNX minus PyTorch), a sentence that starts with that number,
    and the tensors it names."""

    #: batchnorm_folded, stored_more_than_once, buffer_exported, unused_dropped, stored_once,
    #: folded_into_constant, no_op_removed, zeros_or_ones or export_constants
    kind: str
    delta: int
    text: str
    names: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "delta": self.delta, "text": self.text, "names": list(self.names)}


@dataclass(frozen=True)
class Difference:
    """A PyTorch model's parameter count against its ONNX export's, the reasons found for the gap, and what they
    leave unexplained (``note`` names the tensors behind it)."""

    torch_count: int
    onnx_count: int
    reasons: tuple[Reason, ...] = ()
    note: str = ""

    @property
    def difference(self) -> int:
        """ONNX minus PyTorch."""
        return self.onnx_count - self.torch_count

    @property
    def unexplained(self) -> int:
        """The part of the difference no reason accounts for."""
        return self.difference - sum(r.delta for r in self.reasons)

    def summary(self) -> str:
        """``the PyTorch model has 11,689,512 parameters, its ONNX export 11,679,912 (−9,600)``."""
        return (
            f"the PyTorch model has {self.torch_count:,} parameters, its ONNX export {self.onnx_count:,} "
            f"({_signed(self.difference)})"
        )

    def lines(self) -> list[str]:
        """A sentence per reason, then the unexplained remainder when there is one."""
        lines = [r.text for r in self.reasons]
        if self.unexplained or self.note:
            lines.append(f"{_signed(self.unexplained)} unexplained" + (f": {self.note}" if self.note else ""))
        return lines

    def to_dict(self) -> dict[str, Any]:
        return {
            "torch": self.torch_count,
            "onnx": self.onnx_count,
            "difference": self.difference,
            "reasons": [r.to_dict() for r in self.reasons],
            "unexplained": self.unexplained,
            "note": self.note,
            "summary": self.summary(),
            "lines": self.lines(),
        }


@dataclass(eq=False)
class _Held:
    """A PyTorch parameter or buffer under every name it has, and how many ONNX tensors hold it."""

    names: list[str]
    tensor: Any
    buffer: bool
    copies: int = 0
    folded: bool = False

    @property
    def numel(self) -> int:
        return int(self.tensor.numel())


_Tensors = list[tuple[str, "onnx.TensorProto"]]


def explain_difference(
    module: torch.nn.Module, model: onnx.ModelProto, example: Sequence[Any] | None = None
) -> Difference:
    """Why ``model``, an ONNX export of ``module``, counts a different number of parameters (see the module
    docstring). Reads the names and sizes of the tensors both hold, and the values of those no name matched;
    with ``example`` inputs (in ``forward``'s order) it also runs ``forward`` once, in eval mode, to tell which
    parameters it uses (without, a parameter missing from the export stays unexplained unless its values say
    why)."""
    import torch

    held: dict[int, _Held] = {}
    for name, t in module.named_parameters(remove_duplicate=False):
        held.setdefault(id(t), _Held([], t, buffer=False)).names.append(name)
    for name, b in module.named_buffers(remove_duplicate=False):
        held.setdefault(id(b), _Held([], b, buffer=True)).names.append(name)
    by_name = {n: h for h in held.values() for n in h.names}
    matched: _Tensors = []  # ONNX tensors holding a parameter or buffer
    loose: _Tensors = []  # the others, so far
    for name, t in ((n, t) for n, t, counted in weight_tensors(model) if counted):
        h = by_name.get(name)
        if h is not None and h.numel == numel(t.dims):
            h.copies += 1
            matched.append((name, t))
        else:
            loose.append((name, t))
    folded = _folded_norms(module, model, held)
    for h in (held[id(p)] for norm in folded for p in norm.parameters(recurse=False)):
        h.folded = True
    loose, by_value = _match_values(loose, [h for h in held.values() if not h.folded])
    matched += by_value
    loose, gained = _gained_biases(model, loose, Counter(int(norm.num_features) for norm in folded))
    params = [h for h in held.values() if not h.buffer]
    reasons: list[Reason] = []
    if folded:
        removed = sum(h.numel for h in params if h.folded)
        where = "layers" if any(isinstance(n, torch.nn.BatchNorm1d) for n in folded) else "convolutions"
        if gained:
            added = f"; {gained:,} bias values added to those {where}"
        elif all(_zero_shift(n) for n in folded):
            added = f"; their shifts are all zero, so the {where} gained no bias"
        else:
            added = ""
        text = (
            f"{_signed(gained - removed)}: {_plural(len(folded), 'BatchNorm layer')} folded into the "
            f"preceding {where} (their {removed:,} scale and shift weights removed{added})"
        )
        named = {id(m): n for n, m in module.named_modules()}
        reasons.append(
            Reason("batchnorm_folded", gained - removed, text, tuple(named[id(n)] for n in folded))
        )
    repeated = [h for h in params if h.copies > 1]
    if repeated:
        delta = sum((h.copies - 1) * h.numel for h in repeated)
        tied = all(len(h.names) > 1 for h in repeated)
        times = "twice" if all(h.copies == 2 for h in repeated) else "more than once"
        names = tuple(" = ".join(h.names) for h in repeated)
        text = (
            f"{_signed(delta)}: {_plural(len(repeated), 'tied weight' if tied else 'parameter')} stored {times} in "
            f"the export ({_listed(names)}); PyTorch counts each tensor once"
        )
        reasons.append(Reason("stored_more_than_once", delta, text, names))
    buffers = [h for h in held.values() if h.buffer and h.copies]
    if buffers:
        delta = sum(h.copies * h.numel for h in buffers)
        names = tuple(h.names[0] for h in buffers)
        text = (
            f"{_signed(delta)}: {_plural(len(buffers), 'buffer')} exported as "
            f"{'a weight' if len(buffers) == 1 else 'weights'} ({_listed(names)}); PyTorch counts buffers as state, "
            "not parameters"
        )
        reasons.append(Reason("buffer_exported", delta, text, names))
    absent = [h for h in params if not h.copies and not h.folded]
    used = _used_by_forward(module, example, absent) if absent and example is not None else None
    unknown: list[_Held] = []
    gone: dict[str, list[tuple[str, int]]] = {}  # why, then (what is said of each parameter, its delta)
    for h in absent:
        if used is not None and id(h.tensor) not in used:
            gone.setdefault("unused_dropped", []).append((h.names[0], -h.numel))
        elif (twin := _twin(h, matched)) is not None:
            gone.setdefault("stored_once", []).append((f"{h.names[0]} = {twin}", -h.numel))
        elif (part := _part_of(h, loose)) is not None:
            loose = [x for x in loose if x is not part]
            n = numel(part[1].dims)
            gone.setdefault("folded_into_constant", []).append(
                (f"{h.names[0]}: {n:,} of {h.numel:,} values", n - h.numel)
            )
        elif _only_zeros_or_ones(h.tensor):
            why = "zeros_or_ones" if used is None else "no_op_removed"  # used: forward reads it
            gone.setdefault(why, []).append((h.names[0], -h.numel))
        else:
            unknown.append(h)
    smallest = min((h.numel for h in unknown), default=None)
    # tensors smaller than every unexplained parameter cannot hold one: constants; the others might, transformed
    constants = [(n, t) for n, t in loose if smallest is None or numel(t.dims) < smallest]
    unclear = [(n, t) for n, t in loose if smallest is not None and numel(t.dims) >= smallest]
    for kind, said in gone.items():
        delta = sum(d for _, d in said)
        names = tuple(s for s, _ in said)
        reasons.append(
            Reason(kind, delta, f"{_signed(delta)}: {_GONE[kind](len(said), _listed(names))}", names)
        )
    if constants:
        delta = sum(numel(t.dims) for _, t in constants)
        names = tuple(n for n, _ in constants)
        text = (
            f"{_signed(delta)}: {_plural(len(constants), 'constant')} the export created ({_listed(names)}), "
            "held by no PyTorch parameter or buffer"
        )
        reasons.append(Reason("export_constants", delta, text, names))
    note = []
    if unclear:
        note.append(
            f"the export holds {_plural(len(unclear), 'tensor')} ({sum(numel(t.dims) for _, t in unclear):,} "
            f"values) that {_verb(len(unclear), 'match')} no PyTorch parameter or buffer "
            f"({_listed([n for n, _ in unclear])})"
        )
    if unknown:
        checked = (
            ""
            if used is not None
            else "; whether forward uses them was not checked ("
            + ("no example inputs)" if example is None else "forward failed on the example inputs)")
        )
        note.append(
            f"{_plural(len(unknown), 'parameter')} ({sum(h.numel for h in unknown):,} values) "
            f"{_verb(len(unknown), 'match')} no tensor of the export by name or value "
            f"({_listed([h.names[0] for h in unknown])}){checked}"
        )
    return Difference(
        count_tensors(module.parameters(), "torch").count,
        count_onnx(model).count,
        tuple(reasons),
        ", and ".join(note),
    )


def explain_export(
    module: torch.nn.Module, path: Path, example: Sequence[Any] | None = None
) -> Difference | Unavailable:
    """:func:`explain_difference` for the ONNX file ``path``; Unavailable, with the reason, when either model
    cannot be read or compared."""
    import onnx

    try:
        return explain_difference(module, onnx.load(str(path)), example)
    except Exception as e:  # onnx and torch raise many types on a model they cannot take
        return Unavailable(f"parameter counts not compared: {type(e).__name__}: {e}")


#: Sentences for parameters the export holds none of, by why: (how many, their names) → the words after the delta.
_GONE: dict[str, Callable[[int, str], str]] = {
    "unused_dropped": lambda n, names: (
        f"{_plural(n, 'parameter')} forward does not use ({names}), which the export dropped"
    ),
    "stored_once": lambda n, names: (
        f"{_plural(n, 'parameter')} equal in value to another ({names}), which the export stores once"
    ),
    "folded_into_constant": lambda n, names: (
        f"{_plural(n, 'parameter')} of which the export keeps only the part forward reads at the exported input "
        f"shape, as a constant ({names})"
    ),
    "no_op_removed": lambda n, names: (
        f"{_plural(n, 'parameter')} holding only zeros or ones ({names}), which the export removed: adding 0 or "
        "multiplying by 1 changes nothing"
    ),
    "zeros_or_ones": lambda n, names: (
        f"{_plural(n, 'parameter')} holding only zeros or ones ({names}), which the export does not hold: a no-op "
        "it removed (adding 0, multiplying by 1), or unused by forward (not checked)"
    ),
}


def _folded_norms(module: torch.nn.Module, model: onnx.ModelProto, held: dict[int, _Held]) -> list[Any]:
    """The batch norms the export folded: as many as the graph has fewer BatchNormalization nodes than the module
    has norms, among those none of whose parameters the graph holds by name; norms registered right after a
    convolution or linear layer first."""
    import torch

    leaves = [m for m in module.modules() if next(m.children(), None) is None]
    layers = (torch.nn.modules.conv._ConvNd, torch.nn.Linear)
    after_layer = {id(b) for a, b in itertools.pairwise(leaves) if isinstance(a, layers)}
    norms = [m for m in module.modules() if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)]
    kept = sum(1 for node in model.graph.node if node.op_type == "BatchNormalization")
    gone = [m for m in norms if not any(held[id(p)].copies for p in m.parameters(recurse=False))]
    gone.sort(key=lambda m: id(m) not in after_layer)
    return gone[: max(0, len(norms) - kept)]


def _zero_shift(norm: Any) -> bool:
    """Whether folding ``norm`` adds nothing to a bias: β − μ·γ/√(σ² + ε) is zero in every channel."""
    import torch

    if norm.running_mean is None or norm.running_var is None:
        return False
    with torch.no_grad():
        scale = 1 / torch.sqrt(norm.running_var + norm.eps)
        if norm.weight is not None:
            scale = scale * norm.weight
        shift = -norm.running_mean * scale
        if norm.bias is not None:
            shift = shift + norm.bias
    return bool((shift == 0).all())


def _match_values(loose: _Tensors, candidates: list[_Held]) -> tuple[_Tensors, _Tensors]:
    """Match ONNX tensors to parameters and buffers by value: size, sum and sum of magnitudes (the same under a
    transpose), a parameter no tensor holds yet first; returns the tensors still unmatched, and those matched.
    Only tensors of a size some loose tensor has are read."""
    sizes = {numel(t.dims) for _, t in loose}
    prints = {id(h): _torch_print(h.tensor) for h in candidates if h.numel in sizes and h.numel}
    left: _Tensors = []
    matched: _Tensors = []
    for name, t in loose:
        mine = _onnx_print(t) if numel(t.dims) else None
        same = [
            h
            for h in candidates
            if h.numel == numel(t.dims) and mine is not None and _same(mine, prints.get(id(h)))
        ]
        if same:
            min(same, key=lambda h: (h.copies > 0, h.buffer)).copies += 1
            matched.append((name, t))
        else:
            left.append((name, t))
    return left, matched


def _gained_biases(model: onnx.ModelProto, loose: _Tensors, channels: Counter[int]) -> tuple[_Tensors, int]:
    """Take out the biases the folded norms gave their layers (a Conv, ConvTranspose or Gemm bias, or an Add
    operand, as long as a folded norm's channels); returns the tensors left and the values taken."""
    biases = {
        n.input[2]
        for n in model.graph.node
        if n.op_type in ("Conv", "ConvTranspose", "Gemm") and len(n.input) > 2
    } | {i for n in model.graph.node if n.op_type == "Add" for i in n.input}
    left: _Tensors = []
    gained = 0
    for name, t in loose:
        size = numel(t.dims)
        if name in biases and channels[size] > 0:
            channels[size] -= 1
            gained += size
        else:
            left.append((name, t))
    return left, gained


def _used_by_forward(module: torch.nn.Module, example: Sequence[Any], wanted: list[_Held]) -> set[int] | None:
    """The ids of the ``wanted`` tensors that ``forward``, called once on ``example`` in eval mode without
    gradients, passes to a torch function or method (every module's mode is restored after); None when the call
    fails."""
    import torch
    from torch.overrides import TorchFunctionMode

    ids = {id(h.tensor) for h in wanted}
    seen: set[int] = set()

    class Watch(TorchFunctionMode):
        def __torch_function__(
            self,
            func: Callable[..., Any],
            types: Any,
            args: Sequence[Any] = (),
            kwargs: dict[str, Any] | None = None,
        ) -> Any:
            kwargs = kwargs or {}
            seen.update(id(a) for a in _leaves((args, kwargs)) if id(a) in ids)
            return func(*args, **kwargs)

    modes = [(m, m.training) for m in module.modules()]
    module.eval()
    try:
        with torch.no_grad(), Watch():
            module(*example)
    except Exception:  # a model's forward may raise anything: then nothing is known
        return None
    finally:
        for m, training in modes:
            m.training = training
    return seen


def _leaves(x: Any) -> Iterator[Any]:
    """The objects inside nested tuples, lists and dict values."""
    if isinstance(x, (tuple, list)):
        for item in x:
            yield from _leaves(item)
    elif isinstance(x, dict):
        for item in x.values():
            yield from _leaves(item)
    else:
        yield x


def _twin(h: _Held, matched: _Tensors) -> str | None:
    """The name of an ONNX tensor that holds another parameter or buffer with ``h``'s values (the export keeps
    one of equal tensors), or None."""
    mine = None
    for name, t in matched:
        if numel(t.dims) == h.numel and h.numel:
            mine = mine or _torch_print(h.tensor)
            if mine is not None and _same(mine, _onnx_print(t)):
                return name
    return None


def _part_of(h: _Held, loose: _Tensors) -> tuple[str, onnx.TensorProto] | None:
    """A tensor no parameter matched that holds the first rows of ``h`` (a position table read up to the exported
    sequence length), or None."""
    import numpy as np
    from onnx import numpy_helper

    if h.tensor.dim() < 2:
        return None
    row = int(h.tensor.shape[-1])
    flat = None
    for item in loose:
        n = numel(item[1].dims)
        if not (0 < n < h.numel and n % row == 0):
            continue
        try:
            flat = flat if flat is not None else h.tensor.detach().reshape(-1).cpu().numpy()
            values = numpy_helper.to_array(item[1]).reshape(-1)
        except (RuntimeError, TypeError, ValueError, OSError):  # a dtype numpy lacks, or external data
            return None
        if values.dtype == flat.dtype and np.array_equal(values, flat[:n]):
            return item
    return None


def _only_zeros_or_ones(t: Any) -> bool:
    t = t.detach()
    return bool(t.numel()) and bool((t == 0).all() or (t == 1).all())


def _torch_print(t: Any) -> tuple[float, float] | None:
    import torch

    try:
        t = t.detach()
        return float(t.sum(dtype=torch.float64)), float(t.abs().sum(dtype=torch.float64))
    except (RuntimeError, TypeError):  # a dtype without sum or abs
        return None


def _onnx_print(t: onnx.TensorProto) -> tuple[float, float] | None:
    import numpy as np
    from onnx import numpy_helper

    try:
        a = numpy_helper.to_array(t)
        return float(a.sum(dtype=np.float64)), float(np.abs(a).sum(dtype=np.float64))
    except (ValueError, TypeError, OSError):  # external data not loaded, or a dtype numpy cannot sum
        return None


def _same(a: tuple[float, float], b: tuple[float, float] | None) -> bool:
    """Two value prints agree, up to the order values were added in."""
    if b is None:
        return False
    tolerance = 1e-7 * max(a[1], b[1]) + 1e-30
    return abs(a[0] - b[0]) <= tolerance and abs(a[1] - b[1]) <= tolerance


def _signed(n: int) -> str:
    """``+1,600``, ``−9,600`` (a minus sign), ``0``."""
    return f"+{n:,}" if n > 0 else f"−{-n:,}" if n < 0 else "0"


def _plural(n: int, noun: str) -> str:
    return f"{n:,} {noun}" + ("" if n == 1 else "s")


def _verb(n: int, verb: str) -> str:
    """``match`` for many, ``matches`` for one."""
    return verb + ("es" if verb.endswith(("s", "sh", "ch", "x")) else "s") if n == 1 else verb


def _listed(names: Iterable[str], most: int = 3) -> str:
    """The first ``most`` names, and how many in all when there are more."""
    names = list(names)
    shown = ", ".join(names[:most])
    return shown if len(names) <= most else f"{shown}, … ({len(names):,} in all)"


__all__ = ["Difference", "Reason", "explain_difference", "explain_export"]
