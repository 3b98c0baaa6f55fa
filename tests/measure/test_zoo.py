"""Models named from a zoo (``torchvision:NAME``, ``timm:NAME``) and entry points in the current directory."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

from conftest import FAST, RunCli
from mcm.exceptions import ModelError
from mcm.measure import loader


def test_a_torchvision_name_is_measured_with_its_published_counts(run_cli: RunCli) -> None:
    pytest.importorskip("torchvision")
    rc, out, err = run_cli(
        ["measure", "torchvision:resnet18", "--shape", "x=1x3x224x224", "--format", "json", *FAST]
    )
    assert rc == 0, err
    metrics = json.loads(out)["metrics"]
    assert metrics["params_m"] == pytest.approx(11.689512)  # torchvision's published 11,689,512
    assert metrics["macs_g"] == pytest.approx(1.814, rel=0.01)  # and 1.81 GFLOPS (multiply-adds)


def test_the_input_size_follows_the_weights_preset() -> None:
    pytest.importorskip("torchvision")
    _, example = loader.build("torchvision:inception_v3")
    assert tuple(example.shape) == (1, 3, 299, 299)


@pytest.mark.parametrize(
    ("name", "words", "hint"),
    [
        ("torchvision:resnet81", "torchvision has no model 'resnet81'", "resnet18"),
        ("torchvision:resnet18/IMAGENET9K", "resnet18 has no weights 'IMAGENET9K'", "IMAGENET1K_V1"),
    ],
)
def test_a_wrong_zoo_name_says_what_exists(name: str, words: str, hint: str) -> None:
    pytest.importorskip("torchvision")
    with pytest.raises(ModelError, match=words) as e:
        loader.factory(name)
    assert hint in (e.value.hint or "")


def test_a_timm_name_is_measured_with_its_published_counts(run_cli: RunCli) -> None:
    pytest.importorskip("timm")
    rc, out, err = run_cli(["measure", "timm:resnet18", "--counts", "--format", "json"])
    assert rc == 0, err
    metrics = json.loads(out)["metrics"]
    assert metrics["params_m"] == pytest.approx(11.689512)  # timm's resnet18: torchvision's architecture
    assert metrics["macs_g"] == pytest.approx(1.814, rel=0.01)


def test_a_timm_model_runs_at_the_input_size_it_was_trained_at(run_cli: RunCli) -> None:
    pytest.importorskip("timm")
    _, example = loader.build("timm:vit_tiny_patch16_384")
    assert tuple(example.shape) == (1, 3, 384, 384)  # its pretrained_cfg's input_size, not 224
    rc, out, err = run_cli(["measure", "timm:mobilenetv3_small_050", "--format", "json", *FAST])
    assert rc == 0, err
    report = json.loads(out)
    assert report["metrics"]["latency_p50_ms"] > 0 and report["metrics"]["params_m"] < 2


@pytest.mark.parametrize(
    ("name", "words", "hint"),
    [
        ("timm:resnt50", "timm has no model 'resnt50'", "'resnet50'"),
        ("timm:resnet18/IMAGENET1K_V1", "timm weights are named /pretrained", None),
    ],
)
def test_a_wrong_timm_name_says_what_exists(name: str, words: str, hint: str | None) -> None:
    pytest.importorskip("timm")
    with pytest.raises(ModelError, match=words) as e:
        loader.factory(name)
    assert hint is None or hint in (e.value.hint or "")


def test_timm_names_say_what_to_install_when_timm_is_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "timm", None)  # as if it were not installed: importing it fails
    with pytest.raises(ModelError, match=r"timm:resnet18: needs timm \(pip install timm\)"):
        loader.factory("timm:resnet18")


def test_an_entry_point_in_the_current_directory_needs_no_pythonpath(
    tmp_path: Path, run_cli: RunCli, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "mymodel_here.py").write_text(
        "import torch\n\ndef build():\n    return torch.nn.Linear(4, 2), torch.randn(1, 4)\n"
    )
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr("sys.path", [p for p in __import__("sys").path if p not in ("", os.getcwd())])
    rc, out, err = run_cli(["measure", "mymodel_here:build", "--format", "json", *FAST])
    assert rc == 0, err
    assert json.loads(out)["metrics"]["params_m"] == pytest.approx(10e-6)


def _bert_dir(path: Path) -> Path:
    transformers = pytest.importorskip("transformers")
    config = transformers.BertConfig(
        vocab_size=100, hidden_size=32, num_hidden_layers=1, num_attention_heads=2, intermediate_size=64,
        max_position_embeddings=64,
    )  # fmt: skip
    transformers.BertModel(config).save_pretrained(path)
    return path


def test_a_hugging_face_model_directory_is_measured(tmp_path: Path, run_cli: RunCli) -> None:
    model = _bert_dir(tmp_path / "bert")
    rc, out, err = run_cli(["measure", str(model), "--format", "json", *FAST])
    assert rc == 0, err
    report = json.loads(out)
    assert report["model"]["kind"] == "transformer"
    assert report["metrics"]["params_m"] == pytest.approx(sum(
        p.numel() for p in __import__("transformers").BertModel.from_pretrained(model).parameters()
    ) / 1e6)  # fmt: skip
    synthetic = report["inputs"]["synthetic"]
    assert "input_ids: token ids uniform below 100" in synthetic and "attention_mask: ones" in synthetic


def test_a_model_directory_with_pickled_weights_only_is_refused(tmp_path: Path, run_cli: RunCli) -> None:
    import torch
    from safetensors.torch import load_file

    model = _bert_dir(tmp_path / "bert")
    weights = model / "model.safetensors"
    torch.save(load_file(weights), model / "pytorch_model.bin")  # the pickled form older tools write
    weights.unlink()
    rc, out, err = run_cli(["measure", str(model), *FAST])
    assert rc == 2 and out == "" and "no .safetensors weights" in err and "could run code" in err
