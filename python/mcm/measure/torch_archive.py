"""Check a ``torch.export`` archive (``.pt2``) before torch opens it, so that opening it cannot run code.

``torch.export.load`` trusts its file: it unpickles with ``weights_only=False`` when the safe load fails, unpickles
"opaque" constants with plain :mod:`pickle`, loads native AOTInductor libraries, resolves node targets as any
attribute path under ``torch`` (``torch.os.system`` included), and parses shape expressions with
``sympy.sympify`` (which calls ``eval``). :func:`check` reads the archive with :mod:`zipfile` and :mod:`json` only
and refuses, with the reason, anything outside a small allow-list: the files of a plain exported program (graph
JSON, raw weight and constant payloads, sample inputs, extra text files), operators of the ``aten``, ``prims`` and
higher-order namespaces (and ``_operator`` / ``math`` arithmetic), shape expressions built from integers, symbol
names and sympy's shape functions, identifiers as names, and no control characters that could end a comment in
the code torch.fx generates. :func:`forced_weights_only` then makes every ``torch.load`` inside torch's own
loader safe (torch reads ``TORCH_FORCE_WEIGHTS_ONLY_LOAD`` on each call), so the sample inputs, the only pickle
left, can hold tensors and containers but nothing that runs.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import threading
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO, NoReturn

from mcm.exceptions import ModelError

#: Caps that keep a hostile archive from exhausting the machine before torch sees it.
MAX_MEMBERS = 100_000
MAX_JSON_BYTES = 256 * 1024 * 1024
MAX_EXPRESSION_CHARS = 10_000
MAX_NUMBER_DIGITS = 30
#: A member may expand to at most this many times its compressed size (or 1 MiB) (weights are stored, not deflated).
MAX_RATIO = 100
MIB = 1024 * 1024

#: Files a plain exported program consists of, relative to the archive's root folder.
_ALLOWED_FILES = re.compile(
    r"""(?x)^(?:
        archive_format | archive_version | byteorder | \.data/version | \.data/serialization_id
      | models/\w+\.json
      | data/sample_inputs/\w+\.pt
      | data/weights/\w+_weights_config\.json | data/weights/weight_\d+
      | data/constants/\w+_constants_config\.json | data/constants/tensor_\d+
      | extra/[\w.\-]+
    )$"""
)
#: What a file outside the allow-list usually is, for the refusal message.
_KNOWN_UNSAFE = (
    ("data/aotinductor/", "AOTInductor native code"),
    ("data/executorch/", "an ExecuTorch program"),
    ("data/mtia", "MTIA native code"),
    ("xl_model_weights/", "externally referenced weights"),
    ("data/constants/custom_obj_", "a TorchBind object (unpickled by torch's C++ loader)"),
    ("data/constants/opaque_obj_", "an opaque object (unpickled with plain pickle)"),
    ("data/weights/", "a pickled weight"),
    ("data/constants/", "a pickled constant"),
)
_TARGET = re.compile(
    r"^(?:torch\.ops\.(?:aten|prims|higher_order)|_operator|math)(?:\.[A-Za-z][A-Za-z0-9_]*)+$"
)
#: Targets of the allowed namespaces that still reach outside the graph: files, or arbitrary callables.
_DENIED_TARGETS = re.compile(r"\.(?:from_file|call|attrgetter|methodcaller|itemgetter)(?:\.|$)")
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_PATH = re.compile(r"^[A-Za-z0-9_.\-:/]+$")
#: Keys whose own keys are names from the model (state dict paths with dots, symbol names) rather than schema.
_FREE_KEYS = frozenset(
    {
        "config",
        "tensor_values",
        "sym_int_values",
        "sym_bool_values",
        "sym_float_values",
        "custom_obj_values",
        "constants",
        "inputs_to_parameters",
        "inputs_to_buffers",
        "buffers_to_mutate",
        "user_inputs_to_mutate",
        "metadata",
    }
)
#: Guard source: ``L['x'].size()[0] == L['y'].size()[0]``, integers, arithmetic, comparisons, and/or/not.
_GUARD_TOKEN = re.compile(
    r" +|L\['[A-Za-z_][A-Za-z0-9_]*'\]|\.(?:size|stride|storage_offset|dim|numel)\(\)|\[\d{1,6}\]|\d{1,20}"
    r"|==|!=|<=|>=|//|[<>+\-*%()]|\b(?:and|or|not)\b"
)
#: Container types a tree spec may name (their contexts are JSON lists of keys, or null).
_SPEC_TYPES = frozenset(
    {
        None,
        "builtins.tuple",
        "builtins.list",
        "builtins.dict",
        "collections.OrderedDict",
        "torch.fx.immutable_collections.immutable_list",
        "torch.fx.immutable_collections.immutable_dict",
    }
)
#: Characters that end a line in Python source (or hide text): never legitimate inside graph JSON strings.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\x85\u2028\u2029]")
_EXPRESSION_TOKEN = re.compile(
    r"\s+|(?P<number>\d+(?:\.\d+)?(?:e[+-]?\d+)?)|(?P<quoted>'[A-Za-z][A-Za-z0-9_]*')"
    r"|(?P<word>[A-Za-z][A-Za-z0-9_]*)|(?P<operator>//|[-+*/%(),=<>!&|~])"
)
_SYMBOL = re.compile(r"^[a-z]{1,4}\d+$")
#: Names a shape expression may use: sympy's core classes and flags, and torch's shape functions
#: (``torch.utils._sympy.functions``, as the deserializer registers them).
_SHAPE_WORDS = """
Symbol Integer Rational Float Add Mul Max Min Abs Mod floor ceiling sqrt Eq Ne Lt Le Gt Ge
StrictLessThan LessThan StrictGreaterThan GreaterThan And Or Not Piecewise oo zoo nan True False
FloorDiv ModularIndexing Where PythonMod CleanDiv CeilToInt FloorToInt CeilDiv
FloatTrueDiv IntTrueDiv IsNonOverlappingAndDenseIndicator TruncToFloat TruncToInt
RoundToInt RoundDecimal ToFloat Identity BitwiseFn_bitwise_and BitwiseFn_bitwise_or
BitwiseFn_bitwise_xor positive negative nonnegative nonpositive integer real finite nonzero even odd
commutative
"""
_EXPRESSION_WORDS = frozenset(_SHAPE_WORDS.split())

_ENVIRONMENT_LOCK = threading.Lock()


def check(path: Path, opened: BinaryIO | None = None) -> None:
    """Raise :class:`ModelError` unless ``path`` (read through ``opened`` when given, so that the file checked is
    the file torch then reads) is an archive that :func:`torch.export.load` opens without running code stored in
    it (see the module docstring for what is allowed)."""
    try:
        with zipfile.ZipFile(path if opened is None else opened) as archive:
            members = archive.infolist()
            if len(members) > MAX_MEMBERS:
                _refuse(path, f"it has {len(members):,} entries (at most {MAX_MEMBERS:,})")
            root = _root(path, [m.filename for m in members])
            names = {m.filename[len(root) :]: m for m in members if not m.is_dir()}
            if len(names) != sum(not m.is_dir() for m in members):  # zipfile reads one copy, torch another
                _refuse(path, "it holds two entries of the same name")
            for name, member in names.items():
                if member.file_size > MAX_RATIO * max(member.compress_size, MIB):
                    _refuse(
                        path, f"{name} expands {member.file_size / max(member.compress_size, 1):,.0f}-fold"
                    )
            for name in names:
                if not _ALLOWED_FILES.match(name):
                    _refuse(path, f"it contains {name} ({_what(name)})")
            form = names.get("archive_format")
            if form is None or archive.read(form).strip() != b"pt2":
                _refuse(path, "it is not a torch.export archive in the current 'pt2' format (re-save it)")
            for name, member in names.items():
                if name.endswith(".json"):
                    if member.file_size > MAX_JSON_BYTES:
                        _refuse(path, f"{name} expands to {member.file_size:,} bytes")
                    document = _json(path, name, archive.read(member))
                    if name.endswith("_config.json"):
                        _check_payloads(path, name, document)
                    else:
                        _check_graph(path, name, document)
        if opened is not None:
            opened.seek(0)
    except zipfile.BadZipFile as e:
        raise ModelError(f"{path}: not a torch.export program: not a zip archive ({e})") from e
    except OSError as e:
        raise ModelError(f"{path}: cannot read it ({e.strerror or e})") from e


#: TorchScript calls that reach files (``from_file`` maps one read-write, creating it; ``save`` writes one).
_TORCHSCRIPT_FILE_CALLS = re.compile(r"\b(?:from_file|save|load|_save\w*|_load\w*|open)\s*\(")


def check_torchscript(path: Path) -> None:
    """Refuse a TorchScript archive whose code calls an operator that opens files (``torch.from_file`` creates
    and writes a file at load time from ``__setstate__``), or that holds two entries of one name. TorchScript
    code is not Python and its unpickler resolves only torch's types; this is a deny-list of the few operators
    that touch the file system."""
    try:
        with zipfile.ZipFile(path) as archive:
            members = [m for m in archive.infolist() if not m.is_dir()]
            if len({m.filename for m in members}) != len(members):
                _refuse(path, "it holds two entries of the same name", torch_script=True)
            for member in members:
                if "/code/" in member.filename and member.filename.endswith(".py"):
                    if member.file_size > MAX_JSON_BYTES:
                        _refuse(
                            path,
                            f"{member.filename} expands to {member.file_size:,} bytes",
                            torch_script=True,
                        )
                    found = _TORCHSCRIPT_FILE_CALLS.search(archive.read(member).decode("utf-8", "replace"))
                    if found is not None:
                        _refuse(
                            path,
                            f"its code calls {found.group(0)[:-1].strip()}(), which opens files",
                            torch_script=True,
                        )
    except zipfile.BadZipFile as e:
        raise ModelError(f"{path}: not a TorchScript file: not a zip archive ({e})") from e
    except OSError as e:
        raise ModelError(f"{path}: cannot read it ({e.strerror or e})") from e


@contextlib.contextmanager
def forced_weights_only() -> Iterator[None]:
    """Make every ``torch.load`` in this process use ``weights_only=True`` while the block runs."""
    keys = ("TORCH_FORCE_WEIGHTS_ONLY_LOAD", "TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD")
    with _ENVIRONMENT_LOCK:
        saved = {k: os.environ.get(k) for k in keys}
        os.environ["TORCH_FORCE_WEIGHTS_ONLY_LOAD"] = "1"
        os.environ.pop("TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD", None)
        try:
            yield
        finally:
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value


def weights_only_reason(message: str) -> str:
    """What ``torch.load(weights_only=True)`` refused, from its error message (e.g. "unsupported GLOBAL
    posix.system whose module posix is blocked"), without torch's advice to retry unsafely."""
    lines = [line.strip() for line in message.splitlines() if line.strip()]
    for marker in ("WeightsUnpickler error:", "GLOBAL"):
        line = next((line for line in lines if marker in line), None)
        if line is not None:
            detail = line.split("WeightsUnpickler error:", 1)[-1].strip().removeprefix("Trying to load ")
            return detail.split(". Please", 1)[0].rstrip(".")
    return "an object weights_only does not allow"


def _root(path: Path, names: list[str]) -> str:
    """The one top-level folder every entry sits in (torch writes ``<archive name>/...``)."""
    roots = {n.split("/", 1)[0] for n in names}
    if len(roots) != 1 or any("/" not in n for n in names):
        _refuse(path, "its entries are not inside one top-level folder, as torch.export.save writes them")
    return f"{roots.pop()}/"


def _what(name: str) -> str:
    return next(
        (what for prefix, what in _KNOWN_UNSAFE if name.startswith(prefix)), "not part of a plain program"
    )


def _json(path: Path, name: str, data: bytes) -> Any:
    try:  # the C decoder counts its own nesting: a document nested too deep raises RecursionError, no crash
        return json.loads(data)
    except (ValueError, RecursionError) as e:
        _refuse(path, f"{name} is not valid JSON of a sane depth ({type(e).__name__}: {str(e)[:120]})")


def _check_payloads(path: Path, name: str, document: Any) -> None:
    """Weights and constants must be raw tensor payloads, never pickles."""
    config = document.get("config") if isinstance(document, dict) else None
    if not isinstance(config, dict):
        _refuse(path, f"{name} has no 'config' table")
    for fqn, entry in config.items():
        if not isinstance(entry, dict) or entry.get("use_pickle") is not False:
            _refuse(
                path, f"{name}: {fqn!r} is stored as a pickle (torch would unpickle it without restriction)"
            )
        file = entry.get("path_name")
        if not isinstance(file, str) or not re.fullmatch(r"(?:weight|tensor)_\d+", file):
            _refuse(path, f"{name}: {fqn!r} is not a plain tensor payload ({file!r})")


def _check_graph(path: Path, name: str, document: Any) -> None:
    stack: list[tuple[str | None, Any]] = [(None, document)]
    while stack:
        key, value = stack.pop()
        if isinstance(value, dict):
            for k in value:
                if not (_PATH if key in _FREE_KEYS else _NAME).match(k):
                    _refuse(path, f"{name}: the key {k[:60]!r} is not a name")
            stack.extend(value.items())
        elif isinstance(value, list):
            stack.extend((key, v) for v in value)
        elif isinstance(value, str):
            problem = _string_problem(key, value)
            if problem is not None:
                _refuse(path, f"{name}: {problem}")


def _string_problem(key: str | None, text: str) -> str | None:
    if _CONTROL.search(text):
        return f"the {key or 'value'} {text[:60]!r} holds control characters"
    if key == "target" and (not _TARGET.match(text) or _DENIED_TARGETS.search(text)):
        return f"the operator {text[:120]!r} is outside aten / prims / higher-order operators"
    if key == "name" and not _NAME.match(text):
        return f"the name {text[:60]!r} is not an identifier"
    if key == "expr_str":
        return _expression_problem(text)
    if key == "guards_code":
        return _guard_problem(text)
    if key is not None and key.endswith("_spec"):
        return _spec_problem(text)
    return None


def _guard_problem(text: str) -> str | None:
    """Guards become Python source that torch ``exec``s: only comparisons of input sizes and integers pass."""
    position = 0
    while position < len(text):
        token = _GUARD_TOKEN.match(text, position)
        if token is None:
            return f"the guard {text[:120]!r} has {text[position]!r} at {position}"
        position = token.end()
    return None


def _spec_problem(text: str) -> str | None:
    """Tree specs name Python types that torch imports: only the built-in containers pass."""
    try:
        spec = json.loads(text)
    except (ValueError, RecursionError):
        return f"a tree spec {text[:120]!r} is not valid JSON"
    stack: list[Any] = [spec]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            if "__enum__" in item or item.get("type", None) not in _SPEC_TYPES:
                return f"a tree spec names {str(item.get('type') or item.get('fqn'))[:80]!r}, not a plain container"
            context = item.get("context")
            if isinstance(context, str):
                try:
                    stack.append(json.loads(context))
                except (ValueError, RecursionError):
                    return f"a tree spec context {context[:80]!r} is not valid JSON"
            stack.extend(v for k, v in item.items() if k != "context")
        elif isinstance(item, list):
            stack.extend(item)
    return None


def _expression_problem(text: str) -> str | None:
    """Shape expressions go to ``sympy.sympify`` (``eval``): only numbers, symbol names, sympy's shape
    functions and operators may appear, so no attribute, subscript or builtin can be reached."""
    if len(text) > MAX_EXPRESSION_CHARS:
        return f"a shape expression of {len(text):,} characters"
    # A power tower (or a shift: LShift is not among the words) is one line and hours of work for sympy.
    if "**" in text.replace(" ", ""):
        return f"the shape expression {text[:120]!r} raises to a power"
    position = 0
    while position < len(text):
        token = _EXPRESSION_TOKEN.match(text, position)
        if token is None:
            return f"the shape expression {text[:120]!r} has {text[position]!r} at {position}"
        number = token.group("number")
        if number is not None and len(number) > MAX_NUMBER_DIGITS:
            return f"the shape expression {text[:120]!r} holds a {len(number)}-digit number"
        word = token.group("word")
        if word is not None and word not in _EXPRESSION_WORDS and not _SYMBOL.match(word):
            return f"the shape expression {text[:120]!r} uses {word!r}"
        position = token.end()
    return None


def _refuse(path: Path, reason: str, torch_script: bool = False) -> NoReturn:
    risk = (
        "torch.jit.load could read or write files"
        if torch_script
        else "torch.export.load could run code stored in the file"
    )
    error = ModelError(f"{path}: refused: {reason}; opening it with {risk}")
    error.hint = (
        "re-export the model with torch.export.save (plain aten graph, no custom objects), or export it "
        "to ONNX; a package.module:factory entry point can load a file you trust (it runs your code)"
    )
    raise error


__all__ = ["check", "check_torchscript", "forced_weights_only", "weights_only_reason"]
