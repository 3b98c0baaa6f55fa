"""Reading what users name: regular files only, opened without blocking, read within limits.

A FIFO, device, socket or directory given where a file is expected is refused before anything reads from it (a
FIFO would block for ever, ``/dev/zero`` would never end). :func:`open_regular` opens with ``O_NONBLOCK`` and checks
the open descriptor (``fstat``), so the file checked is the file read; :func:`read_bytes_limited` reads at most
its limit; :func:`loads_limited` caps the nesting depth of JSON before parsing it (Python's ``json`` has no limit
of its own and fails with a RecursionError). Every refusal is an :class:`InputFileError` (exit status 2) naming the
path, or for :func:`loads_limited` a ``ValueError`` the caller words.
"""

from __future__ import annotations

import errno
import json
import os
import re
import stat
from itertools import accumulate, repeat
from operator import sub
from pathlib import Path
from typing import Any, BinaryIO

from mcm.exceptions import McmError
from mcm.files.write import StrPath

#: Largest JSON file read (a measurement report is a few KiB).
MAX_JSON_BYTES = 16 * 1024**2
#: Deepest nesting of JSON arrays and objects read (a measurement report nests 7 deep).
MAX_JSON_DEPTH = 64

_KINDS = {
    stat.S_IFDIR: "a directory",
    stat.S_IFIFO: "a FIFO (named pipe)",
    stat.S_IFCHR: "a character device",
    stat.S_IFBLK: "a block device",
    stat.S_IFSOCK: "a socket",
}
_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_NOT_BRACKETS = bytes(sorted(set(range(256)) - set(b"[]{}")))
_DEPTH_STEP = bytes.maketrans(b"[{]}", b"\x02\x02\x00\x00")  # opening +1, closing -1 once 1 is taken off


class InputFileError(McmError):
    """A file named by the user that mcm cannot or will not read; ``path`` names it, ``reason`` says why."""

    def __init__(self, path: StrPath, reason: str) -> None:
        super().__init__(f"{os.fspath(path)}: {reason}")
        self.path = os.fspath(path)
        self.reason = reason


def regular_file(path: StrPath, what: str = "file") -> Path:
    """``path`` as a Path once it names a regular file (symbolic links followed); else :class:`InputFileError`
    ("no such file", "is a directory, not a file", "is a FIFO (named pipe), not a regular file", ...). Nothing is
    opened. ``what`` names the file in the messages ("data file")."""
    try:
        st = os.stat(path)
    except OSError as e:
        raise InputFileError(path, _os_reason(e, what)) from e
    _check_regular(path, st.st_mode, what)
    return Path(path)


def open_regular(path: StrPath, what: str = "file") -> BinaryIO:
    """``path`` opened for binary reading once it names a regular file (:func:`regular_file`: a device is not even
    opened) and the open descriptor shows one too (so the file checked is the file read); else
    :class:`InputFileError`. Opening never blocks (``O_NONBLOCK``: should a FIFO take the file's place meanwhile,
    it is refused, not waited on)."""
    regular_file(path, what)
    flags = os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC
    try:
        fd = os.open(path, flags)
    except OSError as e:
        raise InputFileError(path, _os_reason(e, what)) from e
    try:
        _check_regular(path, os.fstat(fd).st_mode, what)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def read_bytes_limited(path: StrPath, limit: int, what: str = "file") -> bytes:
    """The content of the regular file ``path``, refused with :class:`InputFileError` when it holds more than
    ``limit`` bytes (checked before reading, and by the read itself should the file grow meanwhile)."""
    with open_regular(path, what) as f:
        size = os.fstat(f.fileno()).st_size
        data = f.read(limit + 1) if size <= limit else b""
    if size > limit or len(data) > limit:
        raise InputFileError(
            path, f"{size_text(max(size, len(data)))}, over the {size_text(limit)} limit for a {what}"
        )
    return data


def loads_limited(data: bytes, max_depth: int = MAX_JSON_DEPTH) -> Any:
    """Parse UTF-8 JSON ``data``; ``ValueError`` ("not valid JSON (...)", "nested 900 deep, over the limit of 64")
    when it is not valid JSON or nests arrays and objects deeper than ``max_depth`` (found by a scan of its
    brackets outside strings, before the parser could recurse)."""
    depth = json_depth(data)
    if depth > max_depth:
        raise ValueError(f"nested {depth:,} deep, over the limit of {max_depth}")
    try:
        return json.loads(data.decode("utf-8"))
    except ValueError as e:
        raise ValueError(f"not valid JSON ({e})") from e


def json_limited(
    path: StrPath, max_bytes: int = MAX_JSON_BYTES, max_depth: int = MAX_JSON_DEPTH, what: str = "JSON file"
) -> Any:
    """The JSON value in the regular file ``path`` (at most ``max_bytes``, nested at most ``max_depth`` deep);
    :class:`InputFileError` otherwise, "not valid JSON (...)" included."""
    data = read_bytes_limited(path, max_bytes, what)
    try:
        return loads_limited(data, max_depth)
    except ValueError as e:
        raise InputFileError(path, str(e)) from e


def json_depth(data: bytes) -> int:
    """How deep arrays and objects nest in JSON ``data`` (brackets inside strings do not count)."""
    brackets = _STRING.sub(b"", data).translate(_DEPTH_STEP, _NOT_BRACKETS)
    return max(0, max(accumulate(map(sub, brackets, repeat(1))), default=0))


def size_text(n: int) -> str:
    """``n`` bytes in binary units: ``512 B``, ``1.5 MiB``, ``1 GiB``."""
    value, unit = float(n), "B"
    for next_unit in ("KiB", "MiB", "GiB", "TiB", "PiB", "EiB"):
        if value < 1024:
            break
        value, unit = value / 1024, next_unit
    return f"{value:.1f}".removesuffix(".0") + f" {unit}" if unit != "B" else f"{n} B"


def _check_regular(path: StrPath, mode: int, what: str) -> None:
    if stat.S_ISREG(mode):
        return
    kind = _KINDS.get(stat.S_IFMT(mode), "an unusual file")
    tail = f"not a {what}" if stat.S_ISDIR(mode) else "not a regular file"
    raise InputFileError(path, f"is {kind}, {tail}")


def _os_reason(error: OSError, what: str) -> str:
    if error.errno in (errno.ENOENT, errno.ENOTDIR):
        return f"no such {what}"
    if error.errno in (errno.EACCES, errno.EPERM):
        return "permission denied"
    if error.errno == errno.ENXIO:  # open() of a socket
        return "is a socket, not a regular file"
    return f"cannot open it ({error.strerror or error})"


__all__ = [
    "MAX_JSON_BYTES",
    "MAX_JSON_DEPTH",
    "InputFileError",
    "json_depth",
    "json_limited",
    "loads_limited",
    "open_regular",
    "read_bytes_limited",
    "regular_file",
    "size_text",
]
