"""Hostile model files: opening one never runs code stored in it, whatever the command.

Each crafted file carries a payload that would create a marker file if anything unpickled, evaluated or called
it; every case asserts the exit status, the message, and that the marker (or any other new file) never appears.
The payloads were checked against plain ``torch.export.load``: the sample-input and shape-expression payloads
create the marker there.
"""

from __future__ import annotations

import io
import json
import os
import pickle
import warnings
import zipfile
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import onnx
import pytest
import torch
from onnx import TensorProto, helper, numpy_helper

from mcm.cli.main import main
from mcm.exceptions import ModelError
from mcm.measure import measure_model
from mcm.measure.torch_archive import check, weights_only_reason
from mcm.tui.session import Session

FAST = ("--batch", "1", "--min-time", "0.05", "--min-count", "5")
RULES = str(Path(__file__).resolve().parents[2] / "rules")


class Payload:
    """Unpickling this runs ``touch MARKER``."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[Callable[..., Any], tuple[str]]:
        return (os.system, (f"touch {self.marker}",))


class Stealthy:
    """Unpickling this runs ``touch MARKER`` and then yields valid sample inputs, so a load would succeed."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[Callable[..., Any], tuple[str]]:
        code = f"__import__('os').system('touch {self.marker}') and None or ((__import__('torch').ones(2, 4),), {{}})"
        return (eval, (code,))


class Small(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc = torch.nn.Linear(4, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu(self.fc(x))


@pytest.fixture(scope="module")
def program(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A valid ``torch.export`` archive with a dynamic batch (the base every hostile variant is made from)."""
    path = tmp_path_factory.mktemp("pt2") / "small.pt2"
    batch = torch.export.Dim("batch")
    exported = torch.export.export(Small().eval(), (torch.randn(2, 4),), dynamic_shapes={"x": {0: batch}})
    torch.export.save(exported, str(path))
    return path


def rewrite(
    source: Path,
    target: Path,
    change: Callable[[str, bytes], bytes | None],
    add: dict[str, bytes] | None = None,
) -> Path:
    """A copy of the archive with each entry passed through ``change`` (None drops it) and ``add`` appended."""
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(target, "w") as new:
        root = old.namelist()[0].split("/", 1)[0]
        for info in old.infolist():
            data = change(info.filename.split("/", 1)[1], old.read(info))
            if data is not None:
                new.writestr(info.filename, data, compress_type=zipfile.ZIP_DEFLATED)
        for name, data in (add or {}).items():
            new.writestr(f"{root}/{name}", data)
    return target


def pickled(obj: object) -> bytes:
    buffer = io.BytesIO()
    torch.save(obj, buffer)
    return buffer.getvalue()


def sample_inputs(marker: Path, stealthy: bool = False) -> Callable[[str, bytes], bytes]:
    payload = Stealthy(marker) if stealthy else Payload(marker)
    return lambda name, data: pickled(payload) if name.startswith("data/sample_inputs/") else data


def graph_edit(old: str, new: str) -> Callable[[str, bytes], bytes]:
    def change(name: str, data: bytes) -> bytes:
        if name.startswith("models/"):
            assert old.encode() in data
            return data.replace(old.encode(), new.encode(), 1)
        return data

    return change


def graph_json(edit: Callable[[dict[str, Any]], None]) -> Callable[[str, bytes], bytes]:
    def change(name: str, data: bytes) -> bytes:
        if name.startswith("models/"):
            document = json.loads(data)
            edit(document)
            return json.dumps(document).encode()
        return data

    return change


def enum_in_spec(document: dict[str, Any]) -> None:
    """A tree spec whose context is an enum: torch would ``import_module`` it (``ctypes:cdll`` loads a library)."""
    signature = document["graph_module"]["module_call_graph"][0]["signature"]
    spec = json.loads(signature["in_spec"])
    spec[1]["children_spec"][1]["context"] = json.dumps({"__enum__": True, "fqn": "this:s", "name": "x"})
    signature["in_spec"] = json.dumps(spec)


def duplicate_graph(marker: Path) -> Callable[[Path, Path, Path], Path]:
    """Two ``models/model.json`` entries: zipfile reads the last, torch's reader may read the first."""

    def make(base: Path, out: Path, _: Path) -> Path:
        with zipfile.ZipFile(base) as old:
            name = next(n for n in old.namelist() if "/models/" in n)
            bad = old.read(name).replace(
                b"Symbol(", f"(__import__('os').system('touch {marker}') and Symbol)(".encode(), 1
            )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # zipfile: "Duplicate name"
            with zipfile.ZipFile(base) as old, zipfile.ZipFile(out, "w") as new:
                new.writestr(name, bad)
                for info in old.infolist():
                    new.writestr(info.filename, old.read(info))
        return out

    return make


def pickled_weight(marker: Path) -> Callable[[str, bytes], bytes]:
    def change(name: str, data: bytes) -> bytes:
        if name.endswith("_weights_config.json"):
            config = json.loads(data)
            next(iter(config["config"].values()))["use_pickle"] = True
            return json.dumps(config).encode()
        if name == "data/weights/weight_0":
            return pickled(Payload(marker))
        return data

    return change


def opaque_constant(marker: Path) -> Callable[[str, bytes], bytes]:
    def change(name: str, data: bytes) -> bytes:
        if name.endswith("_constants_config.json"):
            entry = {"path_name": "opaque_obj_0", "is_param": False, "use_pickle": True, "tensor_meta": None}
            return json.dumps({"config": {"evil": entry}}).encode()
        return data

    return change


#: name -> how to make it from the valid archive and the marker path, and what the refusal says.
VARIANTS: dict[str, tuple[Callable[[Path, Path, Path], Path], str]] = {
    "pickle in the sample inputs": (
        lambda base, out, marker: rewrite(base, out, sample_inputs(marker)),
        "GLOBAL posix.system",
    ),
    "stealthy sample inputs (valid after the payload)": (
        lambda base, out, marker: rewrite(base, out, sample_inputs(marker, stealthy=True)),
        "GLOBAL eval",
    ),
    "eval in a shape expression": (
        lambda base, out, marker: rewrite(
            base,
            out,
            graph_edit(
                "Symbol(",
                f"(__import__('os').system('touch {marker}') and Symbol)(",
            ),
        ),
        "shape expression",
    ),
    "builtins reached without underscores": (
        lambda base, out, marker: rewrite(base, out, graph_edit("Symbol(", "exec(chr(49)) or Symbol(")),
        "uses 'exec'",
    ),
    "operator outside aten": (
        lambda base, out, marker: rewrite(
            base, out, graph_edit("torch.ops.aten.relu.default", "torch.os.system")
        ),
        "outside aten",
    ),
    "operator name with code": (
        lambda base, out, marker: rewrite(
            base, out, graph_edit("torch.ops.aten.relu.default", "torch.ops.aten.relu;import os")
        ),
        "outside aten",
    ),
    "control character that ends a generated comment": (
        lambda base, out, marker: rewrite(base, out, graph_edit('"linear"', '"linear\\rimport os"')),
        "control characters",
    ),
    "pickled weight": (
        lambda base, out, marker: rewrite(base, out, pickled_weight(marker)),
        "stored as a pickle",
    ),
    "opaque constant": (
        lambda base, out, marker: rewrite(
            base,
            out,
            opaque_constant(marker),
            add={"data/constants/opaque_obj_0": pickle.dumps(Payload(marker))},
        ),
        "opaque object",
    ),
    "native AOTInductor library": (
        lambda base, out, marker: rewrite(
            base, out, lambda n, d: d, add={"data/aotinductor/model/x.so": b"\x7fELF"}
        ),
        "AOTInductor native code",
    ),
    "Python in a guard (torch execs guards)": (
        lambda base, out, marker: rewrite(
            base,
            out,
            graph_json(
                lambda d: d.__setitem__(
                    "guards_code", [f"1#\n)\n__import__('os').system('touch {marker}')\ndef _():\n (1"]
                )
            ),
        ),
        "the guard",
    ),
    "module import through a tree spec": (
        lambda base, out, marker: rewrite(base, out, graph_json(enum_in_spec)),
        "not a plain container",
    ),
    "duplicate entries read differently": (
        lambda base, out, marker: duplicate_graph(marker)(base, out, marker),
        "two entries of the same name",
    ),
    "power tower in a shape expression": (
        lambda base, out, marker: rewrite(base, out, graph_edit("Symbol(", "9**9**9**9 + Symbol(")),
        "raises to a power",
    ),
    "huge shift in a shape expression": (
        lambda base, out, marker: rewrite(
            base, out, graph_edit("Symbol(", "LShift(Integer(1), Integer(999999999999)) + Symbol(")
        ),
        "uses 'LShift'",
    ),
    "escape sequence in a key torch logs": (
        lambda base, out, marker: rewrite(
            base, out, graph_json(lambda d: d["range_constraints"].__setitem__("\x1b]0;title\x07", {}))
        ),
        "is not a name",
    ),
    "zip bomb weight": (
        lambda base, out, marker: rewrite(
            base,
            out,
            lambda n, d: bytes(128 * 1024 * 1024) if n == "data/weights/weight_0" else d,
        ),
        "-fold",
    ),
    "legacy archive": (
        lambda base, out, marker: rewrite(base, out, lambda n, d: None if n == "archive_format" else d),
        "current 'pt2' format",
    ),
}


@pytest.fixture(params=sorted(VARIANTS))
def hostile(
    request: pytest.FixtureRequest, program: Path, tmp_path: Path
) -> Iterator[tuple[Path, Path, str]]:
    """(the crafted archive, the marker its payload would create, what the refusal names)."""
    make, needle = VARIANTS[request.param]
    marker = tmp_path / "PAYLOAD_RAN"
    yield make(program, tmp_path / "model.pt2", marker), marker, needle
    assert not marker.exists(), "the payload ran"


def files_under(folder: Path) -> set[Path]:
    return {p for p in folder.rglob("*")}


def cli(args: Sequence[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    rc = main(list(args))
    out, err = capsys.readouterr()
    return rc, out, err


def test_measure_refuses(hostile: tuple[Path, Path, str], capsys: pytest.CaptureFixture[str]) -> None:
    model, _, needle = hostile
    before = files_under(model.parent)
    rc, out, err = cli(["measure", str(model), *FAST], capsys)
    assert rc == 2 and out == "", err
    assert err.startswith("mcm: error: ") and "Traceback" not in err
    assert "refused" in err and needle in err, err
    assert files_under(model.parent) == before


def test_same_archive_named_pt_is_refused(
    hostile: tuple[Path, Path, str], capsys: pytest.CaptureFixture[str]
) -> None:
    model = hostile[0]
    renamed = model.rename(model.with_suffix(".pt"))
    rc, _, err = cli(["measure", str(renamed), *FAST], capsys)
    assert rc == 2 and "refused" in err, err


@pytest.mark.parametrize("variant", ["pickle in the sample inputs", "eval in a shape expression"])
def test_every_command_refuses(
    variant: str, program: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    marker = tmp_path / "PAYLOAD_RAN"
    model = str(VARIANTS[variant][0](program, tmp_path / "model.pt2", marker))
    for args in (
        ["measure", "demo", "--reference", model, *FAST],
        ["advise", RULES, "--scenario", "mobile", "--model", model],
    ):
        rc, _, err = cli(args, capsys)
        assert rc == 2 and "refused" in err, (args, err)
    with pytest.raises(ModelError, match="refused"):
        measure_model(model, batches=(1,), min_time=0.05, min_count=5)
    with pytest.raises(ModelError, match="refused"):
        Session([RULES]).measure(model, batches=(1,), min_time=0.05, min_count=5)
    assert not marker.exists()


def test_valid_archive_still_measures(program: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rc, out, err = cli(["measure", str(program), *FAST, "--format", "json"], capsys)
    assert rc == 0, err
    report = json.loads(out)
    assert report["model"]["format"] == "torch.export"
    assert report["metrics"]["latency_ms"] > 0


def test_transformer_with_dynamic_sequence_passes_the_check(tmp_path: Path) -> None:
    """A real graph (embedding, attention, layer norm, dynamic batch and sequence) is not refused."""
    layer = torch.nn.TransformerEncoderLayer(32, 4, 64, batch_first=True)

    class Encoder(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.embed = torch.nn.Embedding(100, 32)
            self.encoder = torch.nn.TransformerEncoder(layer, 2)

        def forward(self, ids: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
            return self.encoder(self.embed(ids), src_key_padding_mask=mask == 0)[:, 0]  # type: ignore[no-any-return]

    batch, seq = torch.export.Dim("batch"), torch.export.Dim("seq", max=128)
    example = (torch.randint(0, 100, (2, 8)), torch.ones(2, 8, dtype=torch.long))
    exported = torch.export.export(
        Encoder().eval(), example, dynamic_shapes={"ids": {0: batch, 1: seq}, "mask": {0: batch, 1: seq}}
    )
    path = tmp_path / "encoder.pt2"
    torch.export.save(exported, str(path))
    check(path)


def test_weights_only_reason_names_the_global() -> None:
    message = (
        "Weights only load failed. In PyTorch 2.6, we changed ... Do it only if you got the file from a trusted "
        "source.\n\n\nTrying to load unsupported GLOBAL posix.system whose module posix is blocked.\n\nCheck the "
        "documentation of torch.load to learn more"
    )
    assert weights_only_reason(message) == "unsupported GLOBAL posix.system whose module posix is blocked"


def test_torchscript_with_a_pickled_payload_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """TorchScript's own unpickler resolves only torch's types: a GLOBAL posix.system fails to load."""
    marker = tmp_path / "PAYLOAD_RAN"
    good = tmp_path / "good.pt"
    save_torchscript(good)
    with zipfile.ZipFile(good) as old, zipfile.ZipFile(tmp_path / "evil.pt", "w") as new:
        for info in old.infolist():
            data = old.read(info)
            new.writestr(
                info.filename,
                pickle.dumps(Payload(marker), protocol=2) if info.filename.endswith("/data.pkl") else data,
            )
    rc, _, err = cli(["measure", str(tmp_path / "evil.pt"), *FAST], capsys)
    assert rc == 2 and "not a loadable TorchScript file: Unknown type name 'posix.system'" in err, err
    assert not marker.exists()


def test_torchscript_error_never_has_an_empty_reason(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good = tmp_path / "good.pt"
    save_torchscript(good)
    with zipfile.ZipFile(good) as old, zipfile.ZipFile(tmp_path / "cut.pt", "w") as new:
        for info in old.infolist():
            if not info.filename.endswith("/data.pkl"):
                new.writestr(info.filename, old.read(info))
    rc, _, err = cli(["measure", str(tmp_path / "cut.pt"), *FAST], capsys)
    assert rc == 2, err
    reason = err.split("not a loadable TorchScript file:", 1)[1].splitlines()[0]
    assert reason.strip(), err


def save_torchscript(path: Path) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # torch.jit.trace is deprecated in torch 2.15
        torch.jit.save(torch.jit.trace(Small().eval(), torch.randn(2, 4)), str(path))


# ---- ONNX: external data stays inside the model's folder


def onnx_with_external(folder: Path, location: str) -> Path:
    weight = numpy_helper.from_array(torch.ones(4, 3).numpy(), "w")
    weight.data_location = TensorProto.EXTERNAL
    weight.ClearField("raw_data")
    for key, value in (("location", location), ("offset", "0"), ("length", "48")):
        entry = weight.external_data.add()
        entry.key, entry.value = key, value
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["x", "w"], ["y"])],
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", 4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", 3])],
        [weight],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    path = folder / "model.onnx"
    path.write_bytes(model.SerializeToString())
    return path


@pytest.mark.parametrize("location", ["../secret.bin", "/etc/hostname", "link.bin"])
def test_onnx_external_data_outside_its_folder_is_refused(
    location: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    secret = tmp_path / "secret.bin"
    secret.write_bytes(b"\0" * 48)
    folder = tmp_path / "model"
    folder.mkdir()
    (folder / "link.bin").symlink_to(secret)
    model = onnx_with_external(folder, location)
    rc, out, err = cli(["measure", str(model), *FAST], capsys)
    assert rc == 2 and out == "", err
    assert "Traceback" not in err and "not a valid ONNX model" in err and "tensor name: w" in err, err


def test_onnx_external_data_inside_its_folder_is_read(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "weights.bin").write_bytes(torch.ones(4, 3).numpy().tobytes())
    model = onnx_with_external(tmp_path, "weights.bin")
    onnx.checker.check_model(str(model))
    rc, _, err = cli(["measure", str(model), *FAST], capsys)
    assert rc == 0, err


# ---- files that are not regular files


@pytest.mark.parametrize("verb", ["measure", "optimize"])
def test_fifo_or_directory_as_model_is_refused_at_once(
    verb: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fifo = tmp_path / "model.onnx"
    os.mkfifo(fifo)
    folder = tmp_path / "folder.onnx"
    folder.mkdir()
    extra = [*FAST] if verb == "measure" else ["--scenario", "mobile", "--out", str(tmp_path / "out")]
    rc, _, err = cli([verb, str(fifo), *extra], capsys)  # a read would block for ever
    assert rc == 2 and "is a FIFO (named pipe), not a regular file" in err, err
    rc, _, err = cli([verb, str(folder), *extra], capsys)
    assert rc == 2 and "is a directory, not a model file" in err, err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["folder.onnx", "model.onnx"]


def test_torchscript_that_writes_files_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Found by a red-team pass: torch.from_file in __setstate__ creates and writes a file inside torch.jit.load."""
    import sys

    sys.path.insert(0, str(Path(__file__).parent / "models"))
    try:
        from writes_files import WritesFiles
    finally:
        sys.path.pop(0)
    marker = tmp_path / "WRITTEN"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # torch.jit.script is deprecated in torch 2.15
        torch.jit.save(torch.jit.script(WritesFiles(str(marker))), str(tmp_path / "model.pt"))
    marker.unlink(missing_ok=True)  # scripting does not run it, but make sure
    rc, _, err = cli(["measure", str(tmp_path / "model.pt"), "--shape", "x=1x4", *FAST], capsys)
    assert rc == 2 and "calls from_file(), which opens files" in err, err
    assert not marker.exists()
