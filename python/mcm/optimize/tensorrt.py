"""TensorRT through ONNX Runtime's TensorRT execution provider, when this machine has it."""

from __future__ import annotations

from pathlib import Path

from mcm.exceptions import OptimizeError
from mcm.optimize.base import Applied, Artifact, need_onnx

NAME = "tensorrt"
PROVIDER = "TensorrtExecutionProvider"


def unavailable_reason() -> str | None:
    """Why TensorRT cannot run here, or None when ONNX Runtime offers its provider."""
    import onnxruntime as ort  # type: ignore[import-untyped]

    if PROVIDER not in ort.get_available_providers():
        return f"ONNX Runtime {ort.__version__} here has no {PROVIDER} (needs onnxruntime-gpu and TensorRT)"
    return None


def apply(input_path: Path, out_dir: Path) -> Applied:
    """The same model, marked to run on TensorRT; the engine is built by the provider at load."""
    need_onnx(input_path, NAME)
    reason = unavailable_reason()
    if reason is not None:
        raise OptimizeError(f"{NAME} unavailable: {reason}")
    out = out_dir / "model.onnx"
    out.write_bytes(input_path.read_bytes())
    return Applied(NAME, Artifact(out), (f"runs on ONNX Runtime's {PROVIDER}",))
