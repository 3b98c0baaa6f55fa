"""Writing what mcm produces: regular files only, never over an input, atomically, with ordinary permissions.

Files (:func:`write_atomic`, :func:`write_all`): each target is checked first (:func:`check_target`): it must be
absent or a regular file, not a directory, device, FIFO, socket or symbolic link, and not one of the inputs named
by the caller (compared by inode, so a hard link or a link that resolves to an input is refused too). The data
goes into a new temporary file beside the target, created exclusively (so never through a link or a device) with
mode 0666 less the umask, or the mode of the file it replaces; it is fsynced and renamed over the target
(``os.replace``). Any failure, Ctrl-C and other ``BaseException`` included, removes the temporaries: a target is
either as it was or wholly new.

Directories (:func:`staged_directory`): the target is claimed by an exclusive lock on ``.NAME.mcm-lock`` beside
it, held for the whole run, so a second run on the same target fails at once instead of after its work. The run
writes into ``.NAME.tmp-XXXX`` beside the target (created 0777 less the umask), renamed into place when it ends;
an error removes it. If a non-empty directory took the target's place meanwhile (something other than mcm),
neither is lost: the run is kept under ``NAME.kept-DATE-TIME`` and the error says so.

POSIX only (``fcntl`` locks, ``O_NOFOLLOW``). Every refusal or failure is an :class:`OutputError` naming the path.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import secrets
import shutil
import stat
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from mcm.exceptions import McmError

#: A path as callers give it.
StrPath = str | os.PathLike[str]
#: What the caller reads, as ``{path: what it is}``, e.g. ``{"m.onnx": "the model being measured"}``.
Inputs = Mapping[StrPath, str]

#: Longest part of a target's name kept in its temporary's name (names are limited to 255 bytes).
_NAME_CHARS = 200
_HINTS = {
    errno.ENOENT: "its folder does not exist: create it first, or choose another path",
    errno.ENOTDIR: "part of its path is a file, not a folder: choose another path",
    errno.EACCES: "choose a folder you can write to",
    errno.EPERM: "choose a folder you can write to",
    errno.EROFS: "choose a folder you can write to",
    errno.ENOSPC: "the disk is full",
    errno.ELOOP: "part of its path is a symbolic link mcm will not follow: choose another path",
}
_KINDS = {
    stat.S_IFIFO: "a FIFO",
    stat.S_IFCHR: "a character device",
    stat.S_IFBLK: "a block device",
    stat.S_IFSOCK: "a socket",
}


class OutputError(McmError):
    """An output mcm refuses or fails to write; ``path`` names it, ``hint`` says what to do instead."""

    def __init__(self, message: str, path: StrPath, hint: str | None = None) -> None:
        super().__init__(message)
        self.path = os.fspath(path)
        self.hint = hint


@dataclass(frozen=True)
class _Target:
    """A path to write: absolute (``path``) for the work, as the caller gave it (``shown``) for messages."""

    path: Path
    shown: str

    @classmethod
    def of(cls, path: StrPath) -> _Target:
        return cls(Path(os.path.abspath(path)), os.fspath(path))

    def sibling(self, suffix: str) -> Path:
        """``.NAME<suffix>`` beside the target (the name shortened: names are limited to 255 bytes)."""
        return self.path.parent / f".{self.path.name[:_NAME_CHARS]}{suffix}"

    def cannot(self, why: str, hint: str) -> OutputError:
        return OutputError(f"cannot write {self.shown}: {why}", self.shown, hint)

    def refused(self, why: str) -> OutputError:
        return OutputError(
            f"refused to write {self.shown}: {why} (inputs are never modified)",
            self.shown,
            "choose another path",
        )

    def failed(self, error: OSError) -> OutputError:
        """``error``, met while writing, as one line with a hint."""
        return self.cannot(error.strerror or str(error), _HINTS.get(error.errno or 0, "choose another path"))


# ---- files


def check_target(path: StrPath, inputs: Inputs | None = None) -> Path:
    """``path`` made absolute, once it is known to be writable as a file: absent (in an existing folder mcm can
    write to) or a regular file, and none of ``inputs``. Raises :class:`OutputError`; changes nothing."""
    t = _Target.of(path)
    try:
        st = os.lstat(t.path)
    except FileNotFoundError:
        _check_folder(t)
        return t.path
    except OSError as e:
        raise t.failed(e) from e
    if stat.S_ISLNK(st.st_mode):
        found = _input(t.path, inputs)
        if found is not None:
            raise t.refused(f"it is a symbolic link to {found[1]}")
        raise t.cannot("it is a symbolic link", "name the file it points to, or another path")
    if stat.S_ISDIR(st.st_mode):
        raise t.cannot("it is a directory", "name a file inside it")
    if not stat.S_ISREG(st.st_mode):
        kind = _KINDS.get(stat.S_IFMT(st.st_mode), "not a file")
        raise t.cannot(f"it is {kind}, not a regular file", "choose a regular file")
    found = _input(t.path, inputs)
    if found is not None:
        same = os.path.realpath(found[0]) == os.path.realpath(t.path)
        raise t.refused(f"it is {found[1]}" if same else f"it is a hard link to {found[1]}")
    _check_folder(t)
    return t.path


def write_atomic(
    path: StrPath,
    data: str | bytes,
    inputs: Inputs | None = None,
    *,
    private: bool = False,
    durable: bool = True,
) -> Path:
    """Write ``data`` (``str`` as UTF-8) to ``path`` atomically; returns ``path`` as a :class:`Path`. See the
    module docstring and :func:`write_all`; raises :class:`OutputError`."""
    return write_all({path: data}, inputs, private=private, durable=durable)[0]


def write_all(
    files: Mapping[StrPath, str | bytes],
    inputs: Inputs | None = None,
    *,
    private: bool = False,
    durable: bool = True,
) -> list[Path]:
    """Write several files together: every target is checked, then each is staged and synced, and only when all
    are staged are they renamed into place, so a failure to write (no space, no permission) touches no target. A
    rename failing after others (the folder removed meanwhile) leaves the earlier ones written and names the one
    that failed. A file keeps the mode of the one it replaces; ``private`` files are created 0600. ``durable``
    files are synced to disk before the rename (a cache, which costs only a recomputation if lost, need not).
    Returns the paths as given; raises :class:`OutputError`."""
    for path in files:
        check_target(path, inputs)
    targets = [(_Target.of(path), data) for path, data in files.items()]
    staged: list[tuple[Path, _Target]] = []
    try:
        for t, data in targets:
            try:
                temporary, fd = _temporary(t, 0o600 if private else 0o666)
                staged.append((temporary, t))
                with os.fdopen(fd, "wb") as handle:
                    with contextlib.suppress(FileNotFoundError):
                        if not private:
                            os.fchmod(handle.fileno(), os.lstat(t.path).st_mode & 0o777)
                    handle.write(data.encode("utf-8") if isinstance(data, str) else data)
                    handle.flush()
                    if durable:
                        os.fsync(handle.fileno())
            except OSError as e:
                raise t.failed(e) from e
        while staged:
            temporary, t = staged[0]
            try:
                os.replace(temporary, t.path)
            except OSError as e:
                raise t.failed(e) from e
            staged.pop(0)
        for folder in dict.fromkeys(t.path.parent for t, _ in targets) if durable else ():
            _sync_directory(folder)
        return [Path(t.shown) for t, _ in targets]
    finally:
        for temporary, _ in staged:
            with contextlib.suppress(OSError):
                temporary.unlink()


def _check_folder(t: _Target) -> None:
    """Raise :class:`OutputError` unless the target's folder exists and mcm may create files in it."""
    try:
        st = os.stat(t.path.parent)
    except OSError as e:
        raise t.failed(e) from e
    if not stat.S_ISDIR(st.st_mode):
        raise t.failed(NotADirectoryError(errno.ENOTDIR, os.strerror(errno.ENOTDIR)))
    if not os.access(t.path.parent, os.W_OK | os.X_OK):
        raise t.failed(PermissionError(errno.EACCES, os.strerror(errno.EACCES)))


def _input(target: Path, inputs: Inputs | None) -> tuple[StrPath, str] | None:
    """The input (path, what it is) that ``target`` is, or resolves to, the same file as."""
    try:
        st = os.stat(target)
    except OSError:
        return None
    for path, role in (inputs or {}).items():
        try:
            other = os.stat(path)
        except OSError:
            continue
        if (other.st_dev, other.st_ino) == (st.st_dev, st.st_ino):
            return path, role
    return None


def _temporary(t: _Target, mode: int) -> tuple[Path, int]:
    """A new file beside the target, created exclusively (never through a link) with ``mode`` less the umask."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
    for _ in range(100):
        candidate = t.sibling(f".{secrets.token_hex(4)}.tmp")
        try:
            return candidate, os.open(candidate, flags, mode)
        except FileExistsError:
            continue
    raise FileExistsError(errno.EEXIST, "no free temporary name", str(t.path.parent))


def _sync_directory(folder: Path) -> None:
    """Make the renames in ``folder`` durable (best effort: some file systems cannot sync a directory)."""
    try:
        fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


# ---- directories


@contextlib.contextmanager
def staged_directory(path: StrPath) -> Iterator[Path]:
    """Claim the directory ``path`` (absent or empty; its folder must exist), yield a new staging directory
    beside it, and rename the stage into place when the block ends; an exception in the block removes the stage
    and propagates. See the module docstring; raises :class:`OutputError`."""
    t = _Target.of(path)
    _check_directory(t)  # before claiming, so that a refused target leaves no lock file either
    with _claim(t):
        _check_directory(t)  # again: another run may have published there meanwhile
        stage = _stage_directory(t)
        try:
            yield stage
        except BaseException:
            shutil.rmtree(stage, ignore_errors=True)
            raise
        _publish_directory(stage, t)


@contextlib.contextmanager
def _claim(t: _Target) -> Iterator[None]:
    """Hold an exclusive lock on ``.NAME.mcm-lock`` beside the target; another holder (a live run) is an error.
    The kernel drops the lock when a process dies, so a crashed run leaves no stale claim."""
    lock = t.sibling(".mcm-lock")
    flags = os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC
    for _ in range(100):
        try:
            fd = os.open(lock, flags, 0o666)
        except OSError as e:
            raise t.failed(e) from e
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise t.cannot(
                    f"another mcm run is writing it (it holds {lock})",
                    "wait for that run to end, or choose another directory",
                ) from None
            # a run that ended meanwhile unlinks the lock file: this lock is then on a file nobody else sees
            if _same_file(fd, lock):
                try:
                    yield
                finally:
                    with contextlib.suppress(OSError):
                        os.unlink(lock)
                return
        finally:
            os.close(fd)
    raise t.cannot(f"cannot claim {lock}", "try again")


def _same_file(fd: int, path: Path) -> bool:
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return False
    held = os.fstat(fd)
    return (held.st_dev, held.st_ino) == (st.st_dev, st.st_ino)


def _check_directory(t: _Target) -> None:
    """Raise :class:`OutputError` unless the target is absent or an empty directory (not a link to one)."""
    try:
        st = os.lstat(t.path)
    except FileNotFoundError:
        return
    except OSError as e:
        raise t.failed(e) from e
    if stat.S_ISLNK(st.st_mode):
        raise t.cannot("it is a symbolic link", "name the directory it points to, or another")
    if not stat.S_ISDIR(st.st_mode):
        raise t.cannot("it is not a directory", "choose a new directory")
    with os.scandir(t.path) as entries:
        if any(True for _ in entries):
            raise t.cannot("it already exists and is not empty", "choose a new directory")


def _stage_directory(t: _Target) -> Path:
    """A new directory beside the target (mode 0777 less the umask)."""
    for _ in range(100):
        stage = t.sibling(f".tmp-{secrets.token_hex(4)}")
        try:
            os.mkdir(stage, 0o777)
            return stage
        except FileExistsError:
            continue
        except OSError as e:
            raise t.failed(e) from e
    raise t.cannot("no free name for its staging directory", "try again")


def _publish_directory(stage: Path, t: _Target) -> None:
    """Rename ``stage`` to the target (replacing an empty directory, whose mode it takes). When that fails, the
    stage is kept under a sibling name given in the :class:`OutputError`."""
    with contextlib.suppress(OSError):
        st = os.lstat(t.path)
        if stat.S_ISDIR(st.st_mode):
            os.chmod(stage, st.st_mode & 0o777)
    try:
        os.rename(stage, t.path)
    except OSError as e:
        kept = _keep(stage, t.path)
        why = (
            "a non-empty directory appeared there meanwhile"
            if e.errno in (errno.ENOTEMPTY, errno.EEXIST)
            else e.strerror or str(e)
        )
        raise t.cannot(
            f"{why}; this run's results are kept in {kept}", "compare the two and keep the one you want"
        ) from e
    _sync_directory(t.path.parent)


def _keep(stage: Path, target: Path) -> Path:
    """Move ``stage`` to an unused ``NAME.kept-DATE-TIME[-N]`` beside ``target``; ``stage`` itself if that fails."""
    base = f"{target.name}.kept-{time.strftime('%Y%m%d-%H%M%S')}"
    for n in range(1, 100):
        kept = target.parent / (base if n == 1 else f"{base}-{n}")
        if os.path.lexists(kept):
            continue
        try:
            os.rename(stage, kept)
        except OSError:
            return stage
        return kept
    return stage


__all__ = [
    "Inputs",
    "OutputError",
    "StrPath",
    "check_target",
    "staged_directory",
    "write_all",
    "write_atomic",
]
