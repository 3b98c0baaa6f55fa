"""`mcm advise --model M`: measure the model here first, and turn the report into facts for the advisor.

The measured values describe this machine, not necessarily the deployment target: a warning says so, and any
``--env`` given on the command line overrides what was detected here.
"""

from __future__ import annotations

import sys
from typing import Any


def measure_for_advice(model: str) -> tuple[dict[str, float], dict[str, bool | float | str]]:
    """``(measured metrics, env facts)`` from measuring ``model`` (a file, an entry point or ``demo``)."""
    from mcm.measure import measure_model

    report = measure_model(model)
    print(
        f"mcm: measured {model} on this machine; pass --env to describe a different target",
        file=sys.stderr,
    )
    return dict(report.metrics), env_facts(report.sections.get("provenance", {}))


def env_facts(provenance: dict[str, Any]) -> dict[str, bool | float | str]:
    """The ``env.*`` facts a measurement's provenance establishes."""
    cpu = provenance.get("cpu", {})
    flags: dict[str, bool] = cpu.get("flags", {}) if isinstance(cpu, dict) else {}
    gpus = provenance.get("gpus")
    nvidia = isinstance(gpus, list) and len(gpus) > 0
    libraries = provenance.get("libraries", {})
    facts: dict[str, bool | float | str] = {
        "device": "gpu" if nvidia else "cpu",
        "nvidia_gpu": nvidia,
        "cpu_avx2": bool(flags.get("avx2")),
        "cpu_avx512": bool(flags.get("avx512f")),
        "cpu_vnni": bool(flags.get("avx512_vnni") or flags.get("avx_vnni") or flags.get("asimddp")),
        "cpu_amx": bool(flags.get("amx_int8")),
        "onnxruntime_available": isinstance(libraries, dict) and "onnxruntime" in libraries,
    }
    arch = cpu.get("arch") if isinstance(cpu, dict) else None
    if arch in ("x86_64", "arm64", "armv7", "riscv"):
        facts["cpu_arch"] = arch
    return facts
