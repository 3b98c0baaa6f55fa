"""From bytes or text to the text the parser reads: size cap, UTF-8, BOM, control characters, newlines.

Decisions: a UTF-8 byte-order mark at the start is accepted silently (editors on Windows write one); CRLF and lone
CR are read as LF, so positions match what editors show; NUL and other control characters (except tab) are errors.
"""

from __future__ import annotations

import re

from mcm.rules.ast import Pos
from mcm.rules.errors import Reporter, Source

#: Largest rules file read, in bytes of UTF-8.
MAX_BYTES = 1 << 20

_BOM = "\ufeff"
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_SURROGATE = re.compile(r"[\ud800-\udfff]")


def prepare(data: str | bytes, name: str, reporter: Reporter) -> Source | None:
    """The source to parse, or None after reporting why there is none (too large, not UTF-8, control chars)."""
    size = len(data) if isinstance(data, bytes) else len(data.encode("utf-8", "surrogatepass"))
    if size > MAX_BYTES:
        too_large(data, size, name, reporter)
        return None
    text = _decode(data, name, reporter) if isinstance(data, bytes) else data
    if text is None:
        return None
    text = _newlines(text.removeprefix(_BOM))
    source = Source(name, text)
    reporter.add_source(source)
    bad = _CONTROL.search(text) or _SURROGATE.search(text)
    if bad is not None:
        char = bad.group()
        what = "NUL byte" if char == "\0" else "control character" if char.isascii() else "lone surrogate"
        reporter.report(
            "E004",
            f"{what} (U+{ord(char):04X}) in the text",
            _position(name, text, bad.start()),
            hint="rules files are plain UTF-8 text: remove it (is this a binary file?)",
        )
        return None
    return source


def too_large(head: str | bytes, size: int, name: str, reporter: Reporter) -> None:
    """Report a file over :data:`MAX_BYTES`: ``head`` is its beginning, ``size`` its real size in bytes (at most the
    limit for a file that grew while it was read: then the message says only that it is over)."""
    first = _first_line(head)
    reporter.add_source(Source(name, first))
    reporter.report(
        "E002",
        f"file is {size:,} bytes; the limit is {MAX_BYTES:,} bytes (1 MiB)"
        if size > MAX_BYTES
        else f"file is over the limit of {MAX_BYTES:,} bytes (1 MiB)",
        Pos(name, 1, 1),
        hint="split it into files joined with include",
        span=len(first),
    )


def _decode(data: bytes, name: str, reporter: Reporter) -> str | None:
    body = data.removeprefix(b"\xef\xbb\xbf")
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError as error:
        reporter.add_source(Source(name, _newlines(body.decode("utf-8", "replace"))))
        prefix = _newlines(body[: error.start].decode("utf-8", "replace"))
        reporter.report(
            "E003",
            f"invalid UTF-8 byte 0x{body[error.start]:02X}",
            _position(name, prefix, len(prefix)),
            hint="save the file as UTF-8",
        )
        return None


def _newlines(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _first_line(data: str | bytes) -> str:
    head = data[:200]
    text = head.decode("utf-8", "replace") if isinstance(head, bytes) else head
    return text.removeprefix(_BOM).split("\n")[0].split("\r")[0]


def _position(name: str, text: str, offset: int) -> Pos:
    line = text.count("\n", 0, offset) + 1
    return Pos(name, line, offset - (text.rfind("\n", 0, offset) + 1) + 1)


__all__ = ["MAX_BYTES", "prepare", "too_large"]
