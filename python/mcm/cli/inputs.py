"""Reading the command line's assignments: ``--set metric=value``, ``--env key=value``, ``--data key=value``
(typed values and reports: :mod:`mcm.engine.fact_inputs`); the options that say how data files become inputs
(``mcm measure`` and ``mcm optimize`` share them)."""

from __future__ import annotations

import argparse
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from mcm.exceptions import FactsError


def add_data_arguments(parser: argparse.ArgumentParser) -> None:
    """``--preprocess`` (image folders), ``--tokenizer`` and ``--max-length`` (text files)."""
    parser.add_argument(
        "--preprocess",
        metavar="PRESET|KEY=VALUE,...",
        help="how an image folder becomes inputs: imagenet, or resize=256,crop=224,mean=a/b/c,std=a/b/c,"
        "layout=nchw|nhwc,dtype=float32|uint8",
    )
    parser.add_argument(
        "--tokenizer",
        type=Path,
        metavar="DIR",
        help='the tokenizer text files (.txt: a line per example; .jsonl: {"text": ..., "label": N}) are '
        "read with: a folder of its files (default: the model's, for a model directory)",
    )
    parser.add_argument(
        "--max-length",
        type=int,
        metavar="N",
        help="text data only: tokens per example, padded or truncated (default 128, or the model's largest if "
        "smaller)",
    )


@contextmanager
def data_file(path: Path | None, flag: str, args: argparse.Namespace) -> Iterator[Path | None]:
    """The data file ``path`` of ``flag`` as an ``.npz`` (:func:`mcm.measure.data_files.as_npz`), read as
    :func:`add_data_arguments`' options say."""
    from mcm.measure import data_files

    with data_files.as_npz(
        path,
        flag,
        model=args.model,
        preprocess=args.preprocess,
        tokenizer=args.tokenizer,
        max_length=args.max_length,
    ) as out:
        yield out


def assignments(items: Sequence[str] | None, flag: str) -> dict[str, str]:
    """``["latency_ms=120ms", ...]`` → ``{"latency_ms": "120ms"}``; values stay text (units parsed later)."""
    out: dict[str, str] = {}
    for item in items or ():
        key, sep, value = item.partition("=")
        if not sep or not key.strip() or not value.strip():
            raise FactsError(f"{flag} {item!r}: expected NAME=VALUE, e.g. {flag} latency_ms=120ms")
        out[key.strip()] = value.strip()
    return out


def metric_values(values: dict[str, str]) -> dict[str, float | str]:
    """``--set`` values: a bare number is already in the metric's canonical unit (``fps=4``, ``latency_ms=120``);
    anything else keeps its unit for the metric to check (``120ms``, ``94.5%``)."""
    out: dict[str, float | str] = {}
    for key, text in values.items():
        try:
            out[key] = float(text)
        except ValueError:
            out[key] = text
    return out
