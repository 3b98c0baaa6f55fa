"""A per-user cache of parsed rules files, so that loading unchanged rules skips Lark entirely.

Parsing the shipped rules (~3,000 tokens) costs about 100 ms plus Lark's import; a hit reads one small file per
rules file (about 1 ms). An entry is keyed by the SHA-256 of the file's bytes, the name it is shown by (positions
carry it) and the code that builds the AST (grammar and its tables, parser, AST, source reading, units, mcm
version), so an edit of any of them misses. Only clean parses are stored (no diagnostics: warnings come from the checker, which always runs).

The directory is private: ``$MCM_CACHE_DIR`` or ``$XDG_CACHE_HOME/mcm`` or ``~/.cache/mcm``, then ``rules/``,
created 0700 and used only while it is owned by this user and closed to others. Entries are JSON, never a
serialized object: a node is ``{"@": class name, "v": [field values]}``, decoded only into the rules AST's own
classes by a fixed table, so even a tampered entry can build nothing else and run no code; a bad entry is a miss.
``MCM_RULES_CACHE=off`` turns the cache off. Every failure here is silent: a cache never stops rules loading.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import hashlib
import json
import os
import stat
from collections.abc import Iterator
from contextvars import ContextVar
from operator import attrgetter
from pathlib import Path
from typing import Any

from mcm.rules import ast
from mcm.rules.errors import Reporter
from mcm.rules.source import MAX_BYTES, prepare

#: Entries above this size are neither written nor read (an entry is about 6× its rules file, at most 1 MiB).
MAX_ENTRY_BYTES = 8 * MAX_BYTES
_HERE = Path(__file__).resolve().parent
#: The files whose code decides what a parse produces: a change to any of them makes every entry miss.
_BUILDERS = (
    *(_HERE / name for name in ("grammar.lark", "grammar_tables.json", "tables.py", "parser.py", "ast.py")),
    _HERE / "source.py",
    _HERE.parent / "units.py",
)
_HITS: ContextVar[list[Path] | None] = ContextVar("mcm_rules_cache_hits", default=None)
_OFF: ContextVar[bool] = ContextVar("mcm_rules_cache_off", default=False)
#: The only classes an entry can name (the AST's plain-data nodes).
_CLASSES: dict[str, type] = {
    name: cls
    for name in ast.__all__
    if dataclasses.is_dataclass(cls := ast.__dict__[name]) and isinstance(cls, type)
}
#: Per class: how many fields, and a getter of their values in declaration order (given the first name twice
#: when there is one field, so that it always returns a tuple).
_FIELDS: dict[type, tuple[int, attrgetter[Any]]] = {
    cls: (len(names), attrgetter(*names, names[0]))
    for cls in _CLASSES.values()
    if (names := tuple(f.name for f in dataclasses.fields(cls)))
}


def parse(data: bytes, shown: str, reporter: Reporter) -> ast.RulesFile | None:
    """``parser.parse_source`` through the cache."""
    folder = directory()
    key = _key(data, shown) if folder is not None else ""
    if folder is not None:
        hit = _read(folder / key)
        if hit is not None and prepare(data, shown, reporter) is not None:  # the text, for carets in messages
            hits = _HITS.get()
            if hits is not None:
                hits.append(folder / key)
            return hit
    from mcm.rules.parser import parse_source

    before = len(reporter.diagnostics)
    result = parse_source(data, shown, reporter)
    if folder is not None and result is not None and len(reporter.diagnostics) == before:
        _write(folder / key, result)
    return result


@contextlib.contextmanager
def tracking() -> Iterator[list[Path]]:
    """Collect the entries read inside the block (so that a caller can forget them if they prove damaged)."""
    hits: list[Path] = []
    token = _HITS.set(hits)
    try:
        yield hits
    finally:
        _HITS.reset(token)


@contextlib.contextmanager
def bypassed() -> Iterator[None]:
    """Neither read nor write the cache inside the block."""
    token = _OFF.set(True)
    try:
        yield
    finally:
        _OFF.reset(token)


def forget(entries: list[Path]) -> None:
    """Delete entries (that made a load fail): the next load parses those files again."""
    for entry in entries:
        with contextlib.suppress(OSError):
            entry.unlink()


def directory() -> Path | None:
    """The private cache directory (created if needed), or None when off or not safely usable."""
    if _OFF.get() or os.environ.get("MCM_RULES_CACHE", "").lower() in ("off", "0", "no", "false"):
        return None
    base = os.environ.get("MCM_CACHE_DIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache"), "mcm"
    )
    folder = Path(base) / "rules"
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        info = folder.lstat()
    except OSError:
        return None
    private = stat.S_ISDIR(info.st_mode) and not info.st_mode & 0o077
    owned = not hasattr(os, "getuid") or info.st_uid == os.getuid()
    return folder if private and owned else None


@functools.cache
def _code_digest() -> bytes:
    """What the cached ASTs were built by: the grammar, the parser, the AST classes and mcm's version."""
    from mcm import __version__

    digest = hashlib.sha256(__version__.encode())
    for path in _BUILDERS:
        digest.update(path.read_bytes())
    return digest.digest()


def _key(data: bytes, shown: str) -> str:
    digest = hashlib.sha256(_code_digest())
    digest.update(shown.encode("utf-8", "surrogatepass") + b"\0")
    digest.update(data)
    return digest.hexdigest()


def _encode(node: Any) -> Any:
    if isinstance(node, tuple):
        return [_encode(v) for v in node]
    fields = _FIELDS.get(type(node))
    if fields is None:
        return node  # str, int, float, bool, None: the AST holds nothing else
    count, values = fields
    return {"@": type(node).__name__, "v": [_encode(v) for v in values(node)[:count]]}


def _decode(data: Any) -> Any:
    if isinstance(data, list):
        return tuple(_decode(v) for v in data)
    if isinstance(data, dict):
        cls = _CLASSES[data["@"]]  # KeyError for anything else: a miss
        return cls(*(_decode(v) for v in data["v"]))
    return data


def _read(path: Path) -> ast.RulesFile | None:
    flags = os.O_RDONLY
    if hasattr(os, "O_NOFOLLOW"):  # POSIX
        flags |= os.O_NOFOLLOW | os.O_NONBLOCK
    try:
        with open(os.open(path, flags), "rb") as handle:  # never through a link, never blocked by a FIFO
            info = os.fstat(handle.fileno())
            if not stat.S_ISREG(info.st_mode) or info.st_size > MAX_ENTRY_BYTES:
                return None
            result = _decode(json.loads(handle.read()))
    except FileNotFoundError:
        return None
    except Exception:  # a truncated, foreign or tampered entry is only a miss
        return None
    return result if isinstance(result, ast.RulesFile) else None


def _write(path: Path, rules_file: ast.RulesFile) -> None:
    try:
        payload = json.dumps(_encode(rules_file), separators=(",", ":")).encode()
        if len(payload) > MAX_ENTRY_BYTES:
            return
        import tempfile  # only on a miss: ~6 ms of imports a hit does not need

        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(payload)
            os.replace(tmp, path)
        except BaseException:
            os.unlink(tmp)
            raise
    except Exception:  # a full disk or a read-only home: load without caching
        return


__all__ = ["MAX_ENTRY_BYTES", "bypassed", "directory", "forget", "parse", "tracking"]
