"""Provenance: the machine, the software and the moment a measurement was taken.

CPU model and the instruction-set flags that decide INT8 and FP16 speed-ups (AVX2, AVX-512, VNNI, AMX, NEON dot
product), cores and threads, GPUs, OS, library versions (read from package metadata, nothing heavy imported),
the native core's build profile, and the mcm version.
"""

from __future__ import annotations

import datetime
import importlib.metadata
import os
import platform
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from mcm import _core
from mcm.measure import gpu
from mcm.measure.unavailable import Unavailable

#: CPU flags worth recording (Linux /proc/cpuinfo spellings).
FLAGS = (
    "sse4_2",
    "avx",
    "avx2",
    "fma",
    "f16c",
    "avx512f",
    "avx512bw",
    "avx512vl",
    "avx512_vnni",
    "avx512_bf16",
    "avx512_fp16",
    "avx_vnni",
    "amx_tile",
    "amx_int8",
    "amx_bf16",
    "asimd",
    "asimddp",
    "sve",
    "i8mm",
    "bf16",
)
PACKAGES = (
    "numpy",
    "onnx",
    "onnxruntime",
    "onnxruntime-gpu",
    "torch",
    "onnxscript",
    "nvidia-ml-py",
    "scikit-learn",
)


#: ``platform.machine()`` spellings → the rules' ``env.cpu_arch`` values.
_ARCH = {
    "x86_64": "x86_64",
    "amd64": "x86_64",
    "aarch64": "arm64",
    "arm64": "arm64",
    "armv7l": "armv7",
    "armv7": "armv7",
    "riscv64": "riscv",
}


def int8_dot_product(flags: Mapping[str, bool]) -> bool:
    """Whether the CPU multiplies 8-bit integers into 32-bit sums in one instruction (x86 VNNI or AMX, ARM dot
    product): what makes INT8 kernels fast, and what the rules call ``env.cpu_vnni``."""
    return any(flags.get(f) for f in ("avx512_vnni", "avx_vnni", "amx_int8", "asimddp"))


def cpu_arch(machine: str) -> str | None:
    """The rules' ``env.cpu_arch`` value for a ``platform.machine()`` name, or None for an architecture they
    do not know."""
    return _ARCH.get(machine.lower())


def env_facts(measured: Mapping[str, Any]) -> dict[str, bool | float | str]:
    """The ``env.*`` facts a measurement's provenance (:func:`provenance`) establishes."""
    cpu = measured.get("cpu", {})
    flags: Mapping[str, bool] = cpu.get("flags", {}) if isinstance(cpu, dict) else {}
    gpus = measured.get("gpus")
    nvidia = isinstance(gpus, list) and len(gpus) > 0
    libraries = measured.get("libraries", {})
    facts: dict[str, bool | float | str] = {
        "device": "gpu" if nvidia else "cpu",
        "nvidia_gpu": nvidia,
        "cpu_avx2": bool(flags.get("avx2")),
        "cpu_avx512": bool(flags.get("avx512f")),
        "cpu_vnni": int8_dot_product(flags),
        "cpu_amx": bool(flags.get("amx_int8")),
        "onnxruntime_available": isinstance(libraries, dict) and "onnxruntime" in libraries,
    }
    arch = cpu_arch(str(cpu.get("arch", ""))) if isinstance(cpu, dict) else None
    if arch is not None:
        facts["cpu_arch"] = arch
    return facts


def provenance() -> dict[str, Any]:
    """Everything a reader needs to judge or reproduce the numbers."""
    gpus = gpu.gpus()
    return {
        "time_utc": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "mcm_version": _core.__version__,
        "core_build": _core.BUILD_PROFILE,
        "cpu": cpu(),
        "gpus": str(gpus) if isinstance(gpus, Unavailable) else gpus,
        "os": platform.platform(),
        "python": sys.version.split()[0],
        "libraries": libraries(),
    }


def cpu() -> dict[str, Any]:
    """Model, flags, logical CPUs usable by this process, physical cores."""
    info = _cpuinfo()
    flags = set((info.get("flags") or info.get("Features") or "").split())
    return {
        "model": info.get("model name") or info.get("Hardware") or platform.processor() or "unknown",
        "arch": platform.machine(),
        "flags": {f: f in flags for f in FLAGS} if flags else "unavailable: no CPU flags in /proc/cpuinfo",
        "logical_cpus": os.cpu_count(),
        "usable_cpus": usable_cpus(),
        "physical_cores": _physical_cores(),
    }


def libraries() -> dict[str, str]:
    out: dict[str, str] = {}
    for name in PACKAGES:
        try:
            out[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            continue
    return out


def usable_cpus() -> int:
    """Logical CPUs this process may run on (the default thread count)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def _cpuinfo() -> dict[str, str]:
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return {}
    out: dict[str, str] = {}
    for line in text.splitlines():
        key, sep, value = line.partition(":")
        if sep and key.strip() not in out:
            out[key.strip()] = value.strip()
    return out


def _physical_cores() -> int | None:
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return None
    cores: set[tuple[str, str]] = set()
    package = core = ""
    for line in [*text.splitlines(), ""]:
        key, _, value = line.partition(":")
        key = key.strip()
        if key == "physical id":
            package = value.strip()
        elif key == "core id":
            core = value.strip()
        elif not line.strip() and core:
            cores.add((package, core))
            package = core = ""
    return len(cores) or None


__all__ = ["FLAGS", "PACKAGES", "cpu", "libraries", "provenance", "usable_cpus"]
