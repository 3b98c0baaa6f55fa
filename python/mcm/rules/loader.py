"""Loading rules files: reading with caps, following includes inside the including file's directory, checking.

An include names a ``.rules`` file by a relative path without ``..``; after resolving symlinks it must still lie
under the directory of the file that includes it. A file included twice (a diamond) is read once; a cycle is an
error that shows the chain. At most ``MAX_FILES`` files and ``MAX_INCLUDE_DEPTH`` levels.
"""

from __future__ import annotations

import os
import posixpath
import stat
from pathlib import Path

from mcm.rules import ast, cache
from mcm.rules.check import check
from mcm.rules.errors import Reporter
from mcm.rules.source import MAX_BYTES, too_large
from mcm.units import did_you_mean

MAX_FILES = 64
MAX_INCLUDE_DEPTH = 16
SUFFIX = ".rules"


def load_paths(paths: tuple[str | os.PathLike[str], ...], reporter: Reporter) -> ast.RuleSet | None:
    """Load files (a directory stands for its ``*.rules`` files) with their includes, then check them together.

    When that fails after any file came from the parse cache, the entries read are forgotten and every file is
    parsed again from its source before anything is reported: a cached AST the checker rejects is never the
    reason a load fails (the cache verifies each entry against its source; this is the second line of defence).
    """
    before = len(reporter.diagnostics)
    with cache.tracking() as hits:
        ruleset = _load_paths(paths, reporter)
    if ruleset is None and hits:
        cache.forget(hits)
        del reporter.diagnostics[before:]
        ruleset = _load_paths(paths, reporter)
    return ruleset


def _load_paths(paths: tuple[str | os.PathLike[str], ...], reporter: Reporter) -> ast.RuleSet | None:
    loader = _Loader(reporter)
    for path in paths:
        shown = os.fspath(path)
        root = Path(shown)
        if root.is_dir():
            for child in sorted(root.glob("*" + SUFFIX)):
                child_shown = posixpath.join(shown, child.name)
                if not child.resolve().is_relative_to(root.resolve()):
                    reporter.report(
                        "E021",
                        f"{child.name} leads outside {shown} (through a symlink)",
                        ast.Pos(child_shown, 0, 0),
                        hint="copy the file into the folder instead of linking it",
                    )
                    continue
                loader.load(child, child_shown, None, ())
        else:
            loader.load(root, shown, None, ())
    return check(loader.files, reporter) if not reporter.error_count else None


def load_source(text: str | bytes, filename: str, reporter: Reporter) -> ast.RuleSet | None:
    """Parse and check one text; an include there is an error (it has no directory to be confined to)."""
    from mcm.rules.parser import parse_source

    rules_file = parse_source(text, filename, reporter)
    if rules_file is None:
        return None
    for include in rules_file.includes:
        reporter.report(
            "E024",
            "include needs the rules to come from a file",
            include.pos,
            hint="load them with load_rules(path), which resolves includes next to that file",
            span=len(include.path) + 2,
        )
    return check([rules_file], reporter) if not reporter.error_count else None


class _Loader:
    def __init__(self, reporter: Reporter) -> None:
        self.reporter = reporter
        self.files: list[ast.RulesFile] = []
        self.done: set[Path] = set()

    def load(
        self, path: Path, shown: str, via: ast.Include | None, chain: tuple[tuple[Path, str], ...]
    ) -> None:
        """Load ``path`` (displayed as ``shown``) after the files it includes; ``chain`` is the include stack."""
        real = path.resolve()
        if real in (p for p, _ in chain):
            names = [s for _, s in chain[[p for p, _ in chain].index(real) :]] + [shown]
            assert via is not None
            self._error("E022", "include cycle: " + " -> ".join(names), via, "remove one of these includes")
            return
        if real in self.done:
            return
        if len(self.done) >= MAX_FILES or len(chain) > MAX_INCLUDE_DEPTH:
            where = via.pos if via else ast.Pos(shown, 0, 0)
            self.reporter.report(
                "E023",
                f"more than {MAX_FILES} files or {MAX_INCLUDE_DEPTH} levels of include",
                where,
                hint="flatten the includes",
            )
            return
        data = self._read(real, shown, via)
        if data is None:
            return
        self.done.add(real)
        rules_file = cache.parse(data, shown, self.reporter)
        if rules_file is None:
            return
        here = (*chain, (real, shown))
        for include in rules_file.includes:
            target = self._target(real.parent, include)
            if target is not None:
                self.load(target, posixpath.join(posixpath.dirname(shown), include.path), include, here)
        self.files.append(rules_file)

    def _target(self, directory: Path, include: ast.Include) -> Path | None:
        """The file an include names, or None after reporting why it may not be read."""
        name = include.path
        parts = name.replace("\\", "/").split("/")
        if name.startswith(("/", "\\")) or os.path.isabs(name) or ":" in name or ".." in parts:
            self._error(
                "E021",
                f"include '{name}' leaves the directory of this file",
                include,
                "includes are relative paths inside this file's directory, without '..'",
            )
            return None
        if not name.endswith(SUFFIX) or "\\" in name or not all(parts):
            self._error(
                "E020",
                f"include '{name}' does not name a {SUFFIX} file",
                include,
                'e.g. include "techniques.rules"',
            )
            return None
        target = directory / name
        if not target.resolve().is_relative_to(directory.resolve()):
            self._error(
                "E021",
                f"include '{name}' leads outside this file's directory (through a symlink)",
                include,
                "copy the file next to this one instead of linking it",
            )
            return None
        if not target.exists():
            siblings = sorted(p.name for p in directory.glob("*" + SUFFIX))
            hint = did_you_mean(name, siblings) or f"paths are relative to {directory.name or 'this file'}/"
            self._error("E020", f"included file '{name}' not found", include, hint)
            return None
        return target

    def _read(self, real: Path, shown: str, via: ast.Include | None) -> bytes | None:
        try:
            if not stat.S_ISREG(real.stat().st_mode):  # a FIFO or device could block or never end
                raise OSError(0, "not a regular file")
            with open(real, "rb") as handle:
                data = handle.read(MAX_BYTES + 1)  # never more: a 10 GB file is not read whole
                if len(data) <= MAX_BYTES:
                    return data
                too_large(data, os.fstat(handle.fileno()).st_size, shown, self.reporter)
                return None
        except OSError as error:
            reason = error.strerror or str(error)
            if via is not None:
                self._error(
                    "E001", f"cannot read '{via.path}': {reason}", via, "includes name regular .rules files"
                )
            else:
                self.reporter.report(
                    "E001", f"cannot read '{shown}': {reason}", ast.Pos(shown, 0, 0), hint="check the path"
                )
            return None

    def _error(self, code: str, message: str, include: ast.Include, hint: str | None) -> None:
        self.reporter.report(code, message, include.pos, hint=hint, span=len(include.path) + 2)


__all__ = ["MAX_FILES", "MAX_INCLUDE_DEPTH", "load_paths", "load_source"]
