"""Model size on disk: every file the model is made of (ONNX external data included), in bytes and MB (MiB)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mcm.exceptions import ModelError

if TYPE_CHECKING:
    import onnx

MIB = 1024 * 1024


@dataclass(frozen=True)
class SizeReport:
    """Bytes per file and in total."""

    files: tuple[tuple[str, int], ...]
    method: str = "files on disk"

    @property
    def total_bytes(self) -> int:
        return sum(n for _, n in self.files)

    @property
    def total_mb(self) -> float:
        return self.total_bytes / MIB

    def to_dict(self) -> dict[str, Any]:
        return {
            "total_bytes": self.total_bytes,
            "total_mb": self.total_mb,
            "method": self.method,
            "files": [{"path": p, "bytes": n} for p, n in self.files],
        }


def of_files(paths: Sequence[Path]) -> SizeReport:
    """Sizes of ``paths`` (each counted once)."""
    return SizeReport(tuple((str(p), p.stat().st_size) for p in dict.fromkeys(paths)))


def onnx_files(model: onnx.ModelProto, path: Path) -> list[Path]:
    """The ``.onnx`` file and every external-data file its tensors point to; a missing one is a ModelError."""
    import onnx

    files = [path]
    for t in model.graph.initializer:
        if t.data_location == onnx.TensorProto.EXTERNAL:
            location = next((e.value for e in t.external_data if e.key == "location"), None)
            if location is not None:
                files.append(path.parent / location)
    missing = [p for p in files if not p.is_file()]
    if missing:
        raise ModelError(f"{path}: external data file {missing[0]} is missing")
    return list(dict.fromkeys(files))


__all__ = ["MIB", "SizeReport", "of_files", "onnx_files"]
