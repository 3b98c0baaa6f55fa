"""The `mcm-tui` entry point: its arguments, a clear message without Textual, McmError as exit 2."""

from __future__ import annotations

import builtins
from typing import Any

import pytest
from tui_helpers import ROOT

from mcm.tui import main as tui_entry


def test_without_textual_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    real = builtins.__import__

    def no_textual(name: str, *args: Any, **kwargs: Any) -> Any:
        if name == "mcm.tui.app":
            raise ModuleNotFoundError("No module named 'textual'", name="textual")
        return real(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_textual)
    assert tui_entry.main([]) == 2
    captured = capsys.readouterr()
    assert "install mcm[tui]" in captured.err and captured.out == ""


def test_unknown_scenario_is_a_message_and_exit_2(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(ROOT)
    assert tui_entry.main(["--scenario", "moblie", "--lang", "en"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("mcm-tui: ") and "moblie" in err and "Traceback" not in err


def test_arguments() -> None:
    args = tui_entry.parser().parse_args(
        ["a.rules", "--rules", "b.rules", "--scenario", "iot", "--lang", "zh"]
    )
    assert (args.rules, args.more_rules, args.scenario, args.lang) == (["a.rules"], ["b.rules"], "iot", "zh")
