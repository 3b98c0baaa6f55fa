"""GPU paths (CUDA peak memory, NVML energy, CUDA / TensorRT providers): measured where present, and
"unavailable: <reason>" where not. The gpu-marked tests skip with the same reason the report gives."""

from __future__ import annotations

import pytest

from mcm.measure import gpu, measure_model, power
from mcm.measure.onnx_runner import choose_providers
from mcm.measure.unavailable import Unavailable

QUICK = {"min_time": 0.05, "min_count": 10, "batches": (1,)}


def test_without_a_gpu_each_path_says_why() -> None:
    found = gpu.gpus()
    if not isinstance(found, Unavailable):
        pytest.skip(f"this machine has a GPU: {found}")
    report = measure_model("demo", **QUICK)
    assert report.sections["memory"]["gpu_peak_mb"] == {"unavailable": "the model runs on the CPU"}
    providers = report.sections["runtime"]["providers"]
    for name in ("CUDAExecutionProvider", "TensorrtExecutionProvider"):
        assert providers[name].startswith("unavailable: ")
    nvml = power.meter_for("cuda:0")
    assert isinstance(nvml, Unavailable) and nvml.reason.startswith("no NVML energy counter")
    assert report.sections["provenance"]["gpus"].startswith("unavailable: no NVIDIA GPU")


def test_provider_choice() -> None:
    chosen, notes = choose_providers(["CUDAExecutionProvider", "CPUExecutionProvider"], None)
    assert chosen == ["CUDAExecutionProvider", "CPUExecutionProvider"]
    assert notes["TensorrtExecutionProvider"].startswith("unavailable: not in this onnxruntime build")
    chosen, notes = choose_providers(
        ["TensorrtExecutionProvider", "CUDAExecutionProvider", "CPUExecutionProvider"], "no NVIDIA GPU"
    )
    assert (
        chosen == ["CPUExecutionProvider"] and notes["CUDAExecutionProvider"] == "unavailable: no NVIDIA GPU"
    )


@pytest.mark.gpu
def test_cuda_peak_memory_of_a_torch_model() -> None:
    import torch

    if not torch.cuda.is_available():
        pytest.skip("unavailable: torch sees no CUDA device")

    class Buffered(torch.nn.Module):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return x + torch.ones(64 * 2**20 // 4, device=x.device)[-1]

    import numpy as np

    report = measure_model(Buffered(), inputs={"x": np.ones((1, 4), np.float32)}, **QUICK)
    assert report.sections["runtime"]["device"].startswith("cuda")
    assert report.metrics["memory_mb"] == pytest.approx(64, rel=0.1)


@pytest.mark.gpu
def test_nvml_energy_counter() -> None:
    meter = power.meter_for("cuda:0")
    if isinstance(meter, Unavailable):
        pytest.skip(str(meter))
    import time

    energy = power.measure(meter, lambda: (time.sleep(0.3), 1)[1])
    assert not isinstance(energy, Unavailable) and energy.power_w > 0


@pytest.mark.gpu
@pytest.mark.parametrize("provider", ["CUDAExecutionProvider", "TensorrtExecutionProvider"])
def test_gpu_provider_runs_the_demo(provider: str) -> None:
    report = measure_model("demo", **QUICK)
    note = report.sections["runtime"]["providers"][provider]
    if note.startswith("unavailable: "):
        pytest.skip(note)
    assert provider in report.sections["runtime"]["providers_active"]
    assert report.metrics["accuracy"] > 0.95
