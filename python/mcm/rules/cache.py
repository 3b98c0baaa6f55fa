"""A per-user cache of parsed rules files, so that loading unchanged rules skips Lark entirely.

Parsing the shipped rules (~3,000 tokens) costs about 100 ms plus Lark's import; a hit reads one small file per
rules file (about 1 ms). An entry is keyed by the SHA-256 of the file's bytes, the name it is shown by (positions
carry it) and the code that builds the AST (grammar, parser, AST module, mcm version), so an edit of any of them
misses. Only clean parses are stored (no diagnostics: warnings come from the checker, which always runs).

The directory is private: ``$MCM_CACHE_DIR`` or ``$XDG_CACHE_HOME/mcm`` or ``~/.cache/mcm``, then ``rules/``,
created 0700 and used only while it is owned by this user and closed to others. Entries are read with an
unpickler that can build nothing but the rules AST's own classes, so even a tampered entry cannot run code; a bad
entry is a miss. ``MCM_RULES_CACHE=off`` turns the cache off. Every failure here is silent: a cache never stops
rules from loading.
"""

from __future__ import annotations

import functools
import hashlib
import io
import os
import pickle
import stat
import tempfile
from pathlib import Path
from typing import Any

from mcm.rules import ast
from mcm.rules.errors import Reporter

#: Entries above this size are not read back (the shipped files make 5-15 KiB each).
MAX_ENTRY_BYTES = 4 * 2**20
_HERE = Path(__file__).resolve().parent
_AST_CLASSES = frozenset(name for name in ast.__all__ if isinstance(getattr(ast, name), type))


def parse(data: bytes, shown: str, reporter: Reporter) -> ast.RulesFile | None:
    """``parser.parse_source`` through the cache."""
    folder = directory()
    key = _key(data, shown) if folder is not None else ""
    if folder is not None:
        hit = _read(folder / key)
        if hit is not None:
            return hit
    from mcm.rules.parser import parse_source

    before = len(reporter.diagnostics)
    result = parse_source(data, shown, reporter)
    if folder is not None and result is not None and len(reporter.diagnostics) == before:
        _write(folder / key, result)
    return result


def directory() -> Path | None:
    """The private cache directory (created if needed), or None when off or not safely usable."""
    if os.environ.get("MCM_RULES_CACHE", "").lower() in ("off", "0", "no", "false"):
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
    for name in ("grammar.lark", "parser.py", "ast.py", "source.py"):
        digest.update((_HERE / name).read_bytes())
    return digest.digest()


def _key(data: bytes, shown: str) -> str:
    digest = hashlib.sha256(_code_digest())
    digest.update(shown.encode("utf-8", "surrogatepass") + b"\0")
    digest.update(data)
    return digest.hexdigest()


class _ASTUnpickler(pickle.Unpickler):
    """Builds only classes from :mod:`mcm.rules.ast`; any other global (a function to call) refuses the entry."""

    def find_class(self, module: str, name: str) -> Any:
        if module == ast.__name__ and name in _AST_CLASSES:
            return getattr(ast, name)
        raise pickle.UnpicklingError(f"{module}.{name} is not part of the rules AST")


def _read(path: Path) -> ast.RulesFile | None:
    try:
        with open(path, "rb") as handle:
            if os.fstat(handle.fileno()).st_size > MAX_ENTRY_BYTES:
                return None
            result = _ASTUnpickler(io.BytesIO(handle.read())).load()
    except FileNotFoundError:
        return None
    except Exception:  # a truncated, foreign or tampered entry is only a miss
        return None
    return result if isinstance(result, ast.RulesFile) else None


def _write(path: Path, rules_file: ast.RulesFile) -> None:
    try:
        payload = pickle.dumps(rules_file, protocol=pickle.HIGHEST_PROTOCOL)
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


__all__ = ["MAX_ENTRY_BYTES", "directory", "parse"]
