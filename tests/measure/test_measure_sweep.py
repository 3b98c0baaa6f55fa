"""``mcm measure --sweep NAME=V1,V2,...``: one measurement per value of a dimension, one table; MACs follow the
analytic count at every length, for an ONNX export and for the PyTorch model it came from."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from archs import Bert, bert_macs

from conftest import FAST, RunCli
from mcm import metrics
from mcm.measure import inputs, sweep
from mcm.measure.inputs import InputSpec
from mcm.optimize import export

SIZE = {"hidden": 64, "intermediate": 128}
LENGTHS = (16, 32, 64)
#: An entry point building the same model (a module written to a temporary folder on sys.path).
ENTRY = """
import torch
from archs import Bert

def bert():
    torch.manual_seed(0)
    ids = torch.randint(0, 30522, (1, 32))
    return Bert(layers=1, hidden=64, heads=4, intermediate=128).eval(), (ids, torch.ones_like(ids))
"""


@pytest.fixture(scope="module")
def bert_onnx(tmp_path_factory: pytest.TempPathFactory) -> Path:
    torch.manual_seed(0)
    ids = torch.randint(0, 30522, (1, 32))
    module = Bert(layers=1, heads=4, **SIZE).eval()
    return export.export(module, (ids, torch.ones_like(ids)), tmp_path_factory.mktemp("bert")).path


@pytest.fixture
def entry_point(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    (tmp_path / "sweep_entry.py").write_text(ENTRY, encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    return "sweep_entry:bert"


def _swept(run_cli: RunCli, model: str, values: str, *more: str) -> dict[str, Any]:
    rc, out, err = run_cli(["measure", model, "--sweep", values, "--format", "json", "--threads", "1", *more])
    assert rc == 0, err
    found: dict[str, Any] = json.loads(out)
    return found


def _macs_follow_the_length(found: dict[str, Any], lengths: tuple[int, ...]) -> None:
    assert [row["value"] for row in found["rows"]] == list(lengths)
    assert found["inputs"] == ["input_ids", "attention_mask"]
    for length, report in zip(lengths, found["reports"], strict=True):
        assert report["inputs"]["shapes_by_batch"]["1"]["input_ids"] == [1, length]
        assert report["flops"]["macs_per_sample"] == bert_macs(1, length, **SIZE)
    macs = [row["macs_g"] for row in found["rows"]]
    assert macs == sorted(macs) and len(set(macs)) == len(macs)


def test_an_onnx_export_is_measured_at_each_sequence_length(run_cli: RunCli, bert_onnx: Path) -> None:
    found = _swept(run_cli, str(bert_onnx), "sequence=16,32,64", *FAST)
    assert found["schema"] == sweep.SCHEMA and found["name"] == "sequence" and not found["partial"]
    _macs_follow_the_length(found, LENGTHS)
    first, *rest = found["rows"]
    assert first["p50_ratio"] == 1.0 and all(r["latency_p50_ms"] > 0 and r["memory_mb"] > 0 for r in rest)
    assert all(r["p50_ratio"] == r["latency_p50_ms"] / first["latency_p50_ms"] for r in rest)


def test_the_table_has_a_row_per_value(run_cli: RunCli, bert_onnx: Path) -> None:
    rc, out, err = run_cli(["measure", str(bert_onnx), "--sweep", "sequence=16,32,64", "--counts"])
    assert rc == 0, err
    lines = out.splitlines()
    assert lines[1] == "sequence of input_ids, attention_mask; latency at batch 1"
    header = lines.index(next(line for line in lines if line.lstrip().startswith("sequence  ")))
    rows = [line.split() for line in lines[header + 1 : header + 4]]
    assert [r[0] for r in rows] == ["16", "32", "64"]
    for length, row in zip(LENGTHS, lines[header + 1 : header + 4], strict=True):
        assert metrics.format_value("macs_g", bert_macs(1, length, **SIZE) / 1e9) in row
    assert "\np50: unavailable, batch 1 was not timed: not measured: counts only (--counts)\n" in out


def test_a_pytorch_entry_point_is_swept_along_its_integer_inputs(run_cli: RunCli, entry_point: str) -> None:
    found = _swept(run_cli, entry_point, "sequence=16,48", *FAST)
    _macs_follow_the_length(found, (16, 48))
    assert all(r["latency_p50_ms"] > 0 and r["memory_mb"] > 0 for r in found["rows"])
    assert all(report["memory"]["cpu"]["fresh_process"] for report in found["reports"])


def test_ctrl_c_keeps_the_values_measured(
    run_cli: RunCli, bert_onnx: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    measured = sweep.measure_model
    calls: list[int] = []

    def stopped_at_the_second(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return measured(*args, **kwargs)

    monkeypatch.setattr(sweep, "measure_model", stopped_at_the_second)
    rc, out, _ = run_cli(["measure", str(bert_onnx), "--sweep", "sequence=16,32", "--counts"])
    assert rc == 130
    assert (
        "partial sweep: 1 of 2 values measured" in out and "\n      16 " in out and "\n      32 " not in out
    )


@pytest.mark.parametrize(
    ("values", "words"),
    [
        ("sequence=", "expected NAME=V1,V2,... with whole numbers"),
        ("=16,32", "expected NAME=V1,V2,..."),
        ("sequence=16,,32", "expected NAME=V1,V2,..."),
        ("sequence=16,abc", "expected NAME=V1,V2,..."),
        ("sequence=0,16", "0 is out of range (each value is 1 to 1,048,576)"),
        (f"sequence=16,{sweep.MAX_VALUE + 1}", "1048577 is out of range"),
        ("sequence=" + ",".join(map(str, range(1, 18))), "17 values, over the limit of 16"),
    ],
)
def test_bad_values_are_refused_before_anything_runs(
    run_cli: RunCli, bert_onnx: Path, values: str, words: str
) -> None:
    rc, out, err = run_cli(["measure", str(bert_onnx), "--sweep", values])
    assert (rc, out) == (2, "")
    assert f"mcm: error: --sweep {values!r}: {words}" in err


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (
            ["--sweep", "seqence=16"],
            "--sweep seqence: no input of {model} has a dimension 'seqence' (its inputs declare batch, sequence)"
            "\nhint: did you mean 'sequence'?",
        ),
        (
            ["--sweep", "batch=1,8"],
            "the batch dimension of input_ids: int64[batch,sequence]; give --batch 1,8",
        ),
        (
            ["--sweep", "sequence=16", "--shape", "input_ids=1x16"],
            "--sweep sequence and --shape input_ids=...: the sweep sets the sequence of input_ids",
        ),
        (["--sweep", "sequence=16", "--data", "x.npz"], "--sweep and --data: the data's arrays fix every"),
    ],
)
def test_a_sweep_the_model_cannot_take_is_refused(
    run_cli: RunCli, bert_onnx: Path, args: list[str], words: str
) -> None:
    rc, out, err = run_cli(["measure", str(bert_onnx), *args])
    assert (rc, out) == (2, "")
    assert words.format(model=bert_onnx) in err


def test_a_pytorch_model_takes_only_sequence(run_cli: RunCli, entry_point: str) -> None:
    rc, _, err = run_cli(["measure", entry_point, "--sweep", "seq=16,32"])
    assert rc == 2
    assert "sweep_entry:bert is a PyTorch model, whose inputs declare no dimension names" in err
    assert "hint: give --sweep sequence=16,32" in err


@pytest.mark.parametrize(
    ("specs", "taken"),
    [
        ([("input_ids", "int64", ("batch", 128)), ("attention_mask", "int64", ("batch", 128))], 2),
        ([("input_ids", "int32", (1, 128)), ("x", "float32", (1, 128))], 1),
        ([("user", "int64", (1, 1))], 0),  # one feature, not a sequence
        ([("input_ids", "int64", (1, 128)), ("ids", "int64", (1, 4))], 0),  # two lengths: which one?
        ([("input_ids", "int64", (1, 2, 128))], 0),
    ],
)
def test_the_sequence_inputs_are_the_integer_ones_of_rank_two(
    specs: list[tuple[str, str, tuple[int | str, ...]]], taken: int
) -> None:
    found = inputs.sequence_inputs([InputSpec(*s) for s in specs])
    assert found == tuple(s[0] for s in specs[:taken])
    assert np.all([inputs.is_sequence_input(InputSpec(*s)) for s in specs[:taken]])


def test_a_value_the_model_refuses_keeps_the_values_measured(run_cli: RunCli, bert_onnx: Path) -> None:
    rc, out, _ = run_cli(["measure", str(bert_onnx), "--sweep", "sequence=16,600", "--format", "json", *FAST])
    found = json.loads(out)
    assert rc == 2 and found["partial"] and [row["value"] for row in found["rows"]] == [16]
    assert found["stopped"].startswith("sequence=600: ")  # beyond its 512 positions: why, kept in the report
