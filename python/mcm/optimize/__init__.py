"""Optimization techniques (one module each) and the loop that applies them, guided by the advisor and kept only
when measured to help (DESIGN.md §1, §5). Importing this package imports neither torch nor ONNX Runtime."""

from __future__ import annotations

from mcm.optimize.base import Applied, Artifact, Context

__all__ = ["Applied", "Artifact", "Context"]
