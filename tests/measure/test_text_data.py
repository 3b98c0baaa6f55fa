"""Text files as data (.txt, .jsonl), tokenized with a model directory's tokenizer or --tokenizer DIR."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from onnx import TensorProto, helper

from conftest import FAST, RunCli, save_graph
from mcm.exceptions import InputError
from mcm.measure import text

transformers = pytest.importorskip("transformers")

WORDS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "hello", "world", "good", "bad", "movie"]
ID = {w: i for i, w in enumerate(WORDS)}
PAD, CLS, SEP = ID["[PAD]"], ID["[CLS]"], ID["[SEP]"]
POSITIONS = 64  # the tiny model's largest sequence: the default length is held to it


@pytest.fixture(scope="module")
def tokenizer_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder with a real WordPiece tokenizer over :data:`WORDS` and nothing else."""
    folder = tmp_path_factory.mktemp("tokenizer")
    transformers.BertTokenizerFast(vocab=dict(ID)).save_pretrained(folder)
    return folder


@pytest.fixture(scope="module")
def bert_dir(tmp_path_factory: pytest.TempPathFactory, tokenizer_dir: Path) -> Path:
    """A tiny two-class BERT model directory (safetensors) with its tokenizer saved into it."""
    folder = tmp_path_factory.mktemp("bert")
    config = transformers.BertConfig(
        vocab_size=len(WORDS), hidden_size=32, num_hidden_layers=1, num_attention_heads=2, intermediate_size=37,
        max_position_embeddings=POSITIONS, num_labels=2,
    )  # fmt: skip
    transformers.BertForSequenceClassification(config).save_pretrained(folder, safe_serialization=True)
    transformers.AutoTokenizer.from_pretrained(tokenizer_dir).save_pretrained(folder)
    return folder


def _write(path: Path, content: str | bytes) -> Path:
    path.write_bytes(content.encode() if isinstance(content, str) else content)
    return path


def _arrays(path: Path, tokenizer: Path, **options: object) -> dict[str, np.ndarray]:
    with text.as_npz(path, tokenizer, **options) as npz, np.load(npz) as z:  # type: ignore[arg-type]
        return {k: z[k] for k in z.files}


def test_a_text_file_is_measured_through_the_model_directory_tokenizer(
    tmp_path: Path, bert_dir: Path, run_cli: RunCli
) -> None:
    data = _write(tmp_path / "texts.txt", "hello world\ngood movie\n\nbad movie\n")
    rc, out, err = run_cli(
        ["measure", str(bert_dir), "--data", str(data), "--batch", "1", "--format", "json", *FAST]
    )
    assert rc == 0, err
    inputs = json.loads(out)["inputs"]
    assert inputs["source"] == "data"
    assert inputs["shapes_by_batch"]["1"] == {"input_ids": [1, POSITIONS], "attention_mask": [1, POSITIONS]}


def test_known_words_get_their_ids_and_the_padding_is_masked(tmp_path: Path, tokenizer_dir: Path) -> None:
    data = _write(tmp_path / "texts.txt", b"\xef\xbb\xbfhello world\r\n\r\n  \ngood bad movie\r\n")
    arrays = _arrays(data, tokenizer_dir, max_length=8, token_types=False)
    assert sorted(arrays) == ["attention_mask", "input_ids"]  # no labels; no token types unless asked for
    assert all(a.dtype == np.int64 and a.shape == (2, 8) for a in arrays.values())  # the blank lines skipped
    assert arrays["input_ids"].tolist() == [
        [CLS, ID["hello"], ID["world"], SEP, PAD, PAD, PAD, PAD],
        [CLS, ID["good"], ID["bad"], ID["movie"], SEP, PAD, PAD, PAD],
    ]
    assert arrays["attention_mask"].tolist() == [[1, 1, 1, 1, 0, 0, 0, 0], [1, 1, 1, 1, 1, 0, 0, 0]]


def test_long_examples_are_truncated_and_token_types_made_when_wanted(
    tmp_path: Path, tokenizer_dir: Path
) -> None:
    data = _write(tmp_path / "long.txt", "good " * 50 + "\nhello\n")
    arrays = _arrays(data, tokenizer_dir, max_length=5, token_types=True)
    assert arrays["input_ids"].tolist() == [[CLS, *[ID["good"]] * 3, SEP], [CLS, ID["hello"], SEP, PAD, PAD]]
    assert arrays["attention_mask"][0].tolist() == [1] * 5
    assert arrays["token_type_ids"].tolist() == [[0] * 5] * 2


def test_the_default_length_is_128_unless_the_model_takes_fewer(tmp_path: Path, tokenizer_dir: Path) -> None:
    data = _write(tmp_path / "texts.txt", "hello\n")
    assert _arrays(data, tokenizer_dir)["input_ids"].shape == (1, 128)


def test_jsonl_labels_reach_accuracy(tmp_path: Path, bert_dir: Path, run_cli: RunCli) -> None:
    rows = [("good movie", 1), ("bad movie", 0), ("hello world", 1), ("bad bad", 0)]
    data = _write(
        tmp_path / "labelled.jsonl", "".join(json.dumps({"text": t, "label": y}) + "\n" for t, y in rows)
    )
    rc, out, err = run_cli(
        ["measure", str(bert_dir), "--data", str(data), "--batch", "1", "--format", "json", *FAST]
    )
    assert rc == 0, err
    report = json.loads(out)
    assert 0 <= report["metrics"]["accuracy"] <= 1
    assert report["accuracy"]["evaluated"] == len(rows)


def test_a_model_directory_without_a_tokenizer_says_what_is_missing(
    tmp_path: Path, bert_dir: Path, run_cli: RunCli
) -> None:
    model = tmp_path / "bare"
    model.mkdir()
    for name in ("config.json", "model.safetensors"):
        (model / name).write_bytes((bert_dir / name).read_bytes())
    data = _write(tmp_path / "texts.txt", "hello\n")
    rc, out, err = run_cli(["measure", str(model), "--data", str(data), *FAST])
    assert rc == 2 and out == ""
    assert "no tokenizer in it" in err and "tokenizer.json" in err and "--tokenizer DIR" in err


@pytest.mark.parametrize(
    ("lines", "where", "words"),
    [
        ('{"text": "hello", "label": 1}\n\n{"text": "good", "label": 0,}\n', ":3:", "not valid JSON"),
        ('{"text": "hello"}\n["good"]\n', ":2:", 'no "text" string'),
        ('{"text": "hello", "label": "1"}\n', ":1:", '"label" is a string; expected a class index'),
        ('{"text": "hello", "label": -1}\n', ":1:", '"label" is -1; expected a class index'),
        ('{"text": "hello", "label": 1}\n{"text": "good"}\n', ":2:", 'no "label", but line 1 has one'),
        ('{"text": "hello"}\n' + "[" * 100 + "]" * 100 + "\n", ":2:", "nested 100 deep"),
    ],
)
def test_bad_jsonl_lines_are_located(tmp_path: Path, lines: str, where: str, words: str) -> None:
    data = _write(tmp_path / "bad.jsonl", lines)
    with pytest.raises(InputError, match=words) as e:
        text.read_examples(data)
    assert str(e.value).startswith(f"{data}{where} ")


def test_invalid_utf8_is_located(tmp_path: Path) -> None:
    data = _write(tmp_path / "bad.txt", b"hello\nwor\xffld\n")
    with pytest.raises(InputError, match=r"bad\.txt:2: invalid UTF-8 at byte 4; expected UTF-8 text"):
        text.read_examples(data)


def test_text_for_an_onnx_model_needs_a_tokenizer_and_then_feeds_it(
    tmp_path: Path, tokenizer_dir: Path, run_cli: RunCli
) -> None:
    names = ("input_ids", "attention_mask", "token_type_ids")
    model = save_graph(
        tmp_path / "ids.onnx",
        [
            helper.make_node("Add", list(names[:2]), ["a"]),
            helper.make_node("Add", ["a", names[2]], ["s"]),
            helper.make_node("Cast", ["s"], ["y"], to=TensorProto.FLOAT),
        ],
        [helper.make_tensor_value_info(n, TensorProto.INT64, ["batch", "seq"]) for n in names],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", "seq"])],
    )
    data = _write(tmp_path / "texts.txt", "hello world\n")
    rc, out, err = run_cli(["measure", str(model), "--data", str(data), *FAST])
    assert rc == 2 and out == ""
    assert "a text file needs a tokenizer" in err and "give --tokenizer DIR" in err
    rc, out, err = run_cli(["optimize", str(model), "--eval", str(data), "--out", str(tmp_path / "out")])
    assert rc == 2 and "--eval" in err and "give --tokenizer DIR" in err and not (tmp_path / "out").exists()
    rc, out, err = run_cli(
        ["measure", str(model), "--data", str(data), "--tokenizer", str(tokenizer_dir), "--max-length", "16",
         "--format", "json", *FAST]
    )  # fmt: skip
    assert rc == 0, err
    assert json.loads(out)["inputs"]["shapes_by_batch"]["1"]["token_type_ids"] == [1, 16]


def test_limits_on_size_examples_and_length(
    tmp_path: Path, bert_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = _write(tmp_path / "texts.txt", "hello\nworld\ngood\n")
    with pytest.raises(InputError, match=rf"--max-length 65: .* at most {POSITIONS}, the model's largest"):
        _arrays(data, bert_dir, max_length=POSITIONS + 1)
    monkeypatch.setattr(text, "MAX_EXAMPLES", 2)
    with pytest.raises(InputError, match=r"more than 2 examples"):
        text.read_examples(data)
    monkeypatch.setattr(text, "MAX_TEXT_BYTES", 10)
    with pytest.raises(InputError, match=r"texts\.txt: 17 B, over the 10 B limit for a text file"):
        text.read_examples(data)


def test_text_is_refused_as_training_data(tmp_path: Path) -> None:
    from mcm.measure import data_files

    texts = tmp_path / "t.txt"
    texts.write_text("hello\n")
    with (
        pytest.raises(InputError, match="text cannot be training data") as e,
        data_files.as_npz(texts, "--train", model="m.onnx", tokenizer=tmp_path),
    ):
        pass
    assert "an .npz or an image folder" in (e.value.hint or "")


def test_a_huge_line_is_cut_before_it_is_tokenized(tmp_path: Path, tokenizer_dir: Path) -> None:
    big = _write(tmp_path / "big.txt", b"good " * 4_000_000 + b"\nhello\n")  # 20 MB on one line
    arrays = _arrays(big, tokenizer_dir, max_length=6, token_types=False)
    assert arrays["input_ids"].tolist() == [
        [CLS, *[ID["good"]] * 4, SEP],  # its first tokens, as if all of it had been tokenized
        [CLS, ID["hello"], SEP, PAD, PAD, PAD],
    ]
