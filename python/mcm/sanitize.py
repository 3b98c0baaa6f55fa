"""Text from files and arguments made safe to show: the one sanitizer everything mcm prints from outside goes through.

Rules, model and data files and command-line arguments are untrusted. Before their text reaches a terminal, a
plain-text file, a Markdown document or JSON printed to a terminal, every character that could drive the terminal
or hide or reorder text becomes a visible escape (``\\x1b``, ``\\x9b``, ``\\u202e``, ``\\U000e0001``), written
as Python writes them:

- C0 control characters (newline and tab only where the function keeps them), DEL and the C1 controls
  U+0080-U+009F: escape sequences, title changes, screen clears, 8-bit CSI and OSC;
- format characters (Unicode category Cf): bidi embeddings, overrides, isolates and marks, zero-width characters
  (ZWJ and ZWNJ included: nothing mcm shows needs them), the byte-order mark, tags;
- the line and paragraph separators U+2028 and U+2029, and lone surrogates.

Printable text, ASCII or not, comes back unchanged, as the same object, after one regular-expression pass
(about 2 µs for a 150-character line).
A backslash is not escaped, so ``\\x1b`` typed as four characters looks like an escaped ESC: the output is for
reading, and every terminal-active character is gone either way.
"""

from __future__ import annotations

import re

# Category Cf as of Unicode 15, then Zl, Zp and the surrogates (tests/security/test_sanitize.py checks the
# list against the running Python's unicodedata).
_FORMAT = (
    "\u00ad\u0600-\u0605\u061c\u06dd\u070f\u0890\u0891\u08e2\u180e\u200b-\u200f\u202a-\u202e"
    "\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb\U000110bd\U000110cd\U00013430-\U0001343f"
    "\U0001bca0-\U0001bca3\U0001d173-\U0001d17a\U000e0001\U000e0020-\U000e007f"
    "\u2028\u2029\ud800-\udfff"
)
_TERMINAL = re.compile(f"[\x00-\x08\x0b-\x1f\x7f-\x9f{_FORMAT}]")
_INLINE = re.compile(f"[\x00-\x1f\x7f-\x9f{_FORMAT}]")
# What Markdown would act on: a backslash before ASCII punctuation, code, emphasis and strike-through marks (an
# underscore inside a word is literal), link brackets, table bars, and the starts of HTML tags and entities.
_MARKDOWN = re.compile(
    r"\\(?=[!-/:-@\[-`{-~])|[`*\[\]|~]|(?<![^\W_])_|_(?![^\W_])|<(?=[A-Za-z/!?])|&(?=#?\w+;)"
)
_ENTITIES = {"<": "&lt;", "&": "&amp;"}
_SHORT = {"\n": "\\n", "\t": "\\t", "\r": "\\r"}


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    if char in _SHORT:
        return _SHORT[char]
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def terminal(text: str) -> str:
    """``text`` for a terminal or a plain-text file: newlines and tabs kept, every other unsafe character escaped."""
    return _TERMINAL.sub(_escape, text)


def inline(text: str) -> str:
    """``text`` on one line (a table cell, a name in a message): as :func:`terminal`, newlines and tabs escaped too."""
    return _INLINE.sub(_escape, text)


def _markdown_char(match: re.Match[str]) -> str:
    char = match.group()
    return _ENTITIES.get(char) or "\\" + char


def markdown(text: str) -> str:
    """``text`` as literal Markdown inline content, never markup nor HTML, safe in a table cell: :func:`inline`,
    then a ``<`` or ``&`` that could start a tag or an entity as ``&lt;`` or ``&amp;``, and each other character
    Markdown would act on backslash-escaped. What Markdown leaves alone stays as written (``latency_ms < 50 ms``).
    Not for inside a code span, where backslashes are literal."""
    return _MARKDOWN.sub(_markdown_char, inline(text))


def _json_escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    if code < 0x10000:
        return f"\\u{code:04x}"
    code -= 0x10000
    return f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}"


def json_text(text: str) -> str:
    """JSON text (from ``json.dumps(..., ensure_ascii=False)``) for a terminal: the unsafe characters it leaves raw
    become ``\\uXXXX`` escapes, so the document still parses to the same data."""
    return _TERMINAL.sub(_json_escape, text)


def shorten(text: str, n: int = 60) -> str:
    """``text`` cut to its first ``n`` characters and "…" when it is longer (an echoed 2,000-character paste would
    push a form off the screen); shorter text comes back as the same object. It neither escapes nor adds
    anything unsafe: shorten before or after :func:`inline`, which keeps the output free of control characters
    either way (after it, a cut may fall inside a visible escape such as ``\\x1b``)."""
    if n < 0:
        raise ValueError(f"shorten: n must be 0 or more, not {n}")
    return text if len(text) <= n else text[:n] + "…"


__all__ = ["inline", "json_text", "markdown", "shorten", "terminal"]
