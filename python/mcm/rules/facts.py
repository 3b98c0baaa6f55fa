"""The facts a condition may name besides metrics: ``env.*`` (hardware and runtime) and ``data.*`` (what data the
user has). A closed catalogue, so that a typo is an error with a hint rather than a fact that is never there.

``measured.*``, ``baseline.*`` and ``constraint.*`` name metrics (``mcm.metrics``); ``constraint.M`` is the limit
of the scenario's ``require``/``prefer`` on M (or the one given on the command line).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Literal

FactType = Literal["bool", "string", "number"]

SCOPES = ("measured", "constraint", "baseline", "env", "data")
METRIC_SCOPES = ("measured", "constraint", "baseline")


@dataclass(frozen=True, slots=True)
class Fact:
    """An ``env`` or ``data`` fact; ``values`` lists the known values of a string fact (others warn)."""

    scope: Literal["env", "data"]
    name: str
    type: FactType
    en: str
    zh: str
    values: tuple[str, ...] = ()

    @property
    def path(self) -> str:
        return f"{self.scope}.{self.name}"


_RUNTIMES = (
    "onnxruntime",
    "tensorrt",
    "torch",
    "tflite",
    "tflite_micro",
    "openvino",
    "coreml",
    "tvm",
    "ncnn",
)
#: Where a runtime runs the graph: ONNX Runtime's execution providers, TFLite's delegates.
_PROVIDERS = (
    "cpu",
    "cuda",
    "tensorrt",
    "openvino",
    "coreml",
    "directml",
    "qnn",
    "xnnpack",
    "nnapi",
    "gpu_delegate",
)
# fmt: off
_FACTS = (
    Fact("env", "device", "string", "target device kind", "目标设备类型", ("cpu", "gpu", "npu", "dsp", "mcu")),
    Fact("env", "cpu_arch", "string", "CPU architecture", "CPU 架构", ("x86_64", "arm64", "armv7", "riscv")),
    Fact("env", "nvidia_gpu", "bool", "an NVIDIA GPU is present", "有 NVIDIA GPU"),
    Fact("env", "npu", "bool", "an NPU or DSP accelerator is present", "有 NPU/DSP 加速器"),
    Fact("env", "cpu_avx2", "bool", "the CPU has AVX2", "CPU 支持 AVX2"),
    Fact("env", "cpu_avx512", "bool", "the CPU has AVX-512", "CPU 支持 AVX-512"),
    Fact("env", "cpu_vnni", "bool", "the CPU has VNNI (fast INT8 dot products)", "CPU 支持 VNNI"),
    Fact("env", "cpu_amx", "bool", "the CPU has AMX", "CPU 支持 AMX"),
    Fact("env", "runtime", "string", "the deployment runtime", "部署运行时", _RUNTIMES),
    Fact("env", "execution_provider", "string", "the runtime's execution provider or delegate", "执行后端/委托",
         _PROVIDERS),
    Fact("env", "tensorrt_available", "bool", "TensorRT can be used", "可用 TensorRT"),
    Fact("env", "onnxruntime_available", "bool", "ONNX Runtime can be used", "可用 ONNX Runtime"),
    Fact("env", "openvino_available", "bool", "OpenVINO can be used", "可用 OpenVINO"),
    Fact("env", "tflite_available", "bool", "TFLite can be used", "可用 TFLite"),
    Fact("env", "model_kind", "string", "what dominates the model's compute", "模型主要算子类型",
         ("cnn", "transformer", "mlp", "rnn", "detector", "other")),
    Fact("env", "threads", "number", "inference threads", "推理线程数"),
    Fact("env", "batch_size", "number", "batch size", "批大小"),
    Fact("data", "calibration", "bool", "calibration data is available", "有校准数据"),
    Fact("data", "calibration_samples", "number", "calibration samples", "校准样本数"),
    Fact("data", "training", "bool", "training data is available", "有训练数据"),
    Fact("data", "training_samples", "number", "training samples", "训练样本数"),
    Fact("data", "labels", "bool", "labelled evaluation data is available", "有带标签的评估数据"),
)
# fmt: on

FACTS: Mapping[str, Fact] = MappingProxyType({f.path: f for f in _FACTS})


def names_in(scope: str) -> tuple[str, ...]:
    """The fact names of an ``env`` or ``data`` scope."""
    return tuple(f.name for f in _FACTS if f.scope == scope)


__all__ = ["FACTS", "METRIC_SCOPES", "SCOPES", "Fact", "FactType", "names_in"]
