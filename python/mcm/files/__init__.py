"""Files mcm writes: one helper for every output (see :mod:`mcm.files.write`); files mcm reads: regular files
only, within limits (see :mod:`mcm.files.read`)."""

from __future__ import annotations

from mcm.files.read import (
    MAX_JSON_BYTES,
    MAX_JSON_DEPTH,
    InputFileError,
    json_limited,
    loads_limited,
    open_regular,
    read_bytes_limited,
    regular_file,
)
from mcm.files.write import (
    Inputs,
    OutputError,
    StrPath,
    check_target,
    staged_directory,
    write_all,
    write_atomic,
)

__all__ = [
    "MAX_JSON_BYTES",
    "MAX_JSON_DEPTH",
    "InputFileError",
    "Inputs",
    "OutputError",
    "StrPath",
    "check_target",
    "json_limited",
    "loads_limited",
    "open_regular",
    "read_bytes_limited",
    "regular_file",
    "staged_directory",
    "write_all",
    "write_atomic",
]
