"""Untrusted text never drives the terminal (issue #10): names and labels from rules, model and data files and
echoed arguments reach every output as visible escapes, never as control, C1 or format characters; Markdown
output shows rules text as written, never as HTML or markup."""

from __future__ import annotations

import asyncio
import io
import json
import re
import shutil
import sys
import unicodedata
from html import unescape
from pathlib import Path

import pytest

from mcm import sanitize
from mcm.cli.main import main
from mcm.measure.progress import TerminalProgress
from mcm.rules import Diagnostic, load_rules

ROOT = Path(__file__).resolve().parents[2]

TITLE = "\x1b]0;pwned\x07"  # OSC: set the window title
CLEAR = "\x1b[2J"  # CSI: clear the screen
CSI8 = "\u009b2J"  # 8-bit CSI: clear the screen
OSC8 = "\u009d0;x\u009c"  # 8-bit OSC ... ST
RLO = "\u202e"  # right-to-left override
ESCAPED = {
    TITLE: "\\x1b]0;pwned\\x07",
    CLEAR: "\\x1b[2J",
    CSI8: "\\x9b2J",
    OSC8: "\\x9d0;x\\x9c",
    RLO: "\\u202e",
}
#: What a loaded rules file can hold (C0 controls are refused with E004): C1 controls and a bidi override.
RULES_HOSTILE = CSI8 + OSC8 + RLO + "<script>|x|"


def forbidden(text: str) -> list[str]:
    """The characters in ``text`` that may act on a terminal or hide or reorder text."""
    return [
        c
        for c in text
        if (ord(c) < 0x20 and c not in "\n\t")
        or 0x7F <= ord(c) <= 0x9F
        or unicodedata.category(c) in ("Cf", "Cs", "Zl", "Zp")
    ]


def assert_clean(text: str, *hostile: str) -> None:
    """No forbidden character in ``text``, and each hostile string still visible there, escaped."""
    assert not forbidden(text), f"{forbidden(text)!r} in {text!r}"
    for h in hostile:
        assert ESCAPED[h] in text, f"{ESCAPED[h]!r} not in {text!r}"


def run_cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """``mcm ARGS`` in this process: (exit status, stdout, stderr)."""
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


# ---- the sanitizer


@pytest.mark.parametrize("text", ["latency_ms < 50 ms", "手机APP / mobile app", "⭐ → ✓ × –", "", "a\\x1b"])
def test_printable_text_comes_back_as_the_same_object(text: str) -> None:
    assert sanitize.terminal(text) is text and sanitize.inline(text) is text
    assert sanitize.terminal("two\n\tlines") == "two\n\tlines"


@pytest.mark.parametrize("hostile", list(ESCAPED))
def test_each_hostile_string_becomes_its_visible_escape(hostile: str) -> None:
    assert sanitize.terminal(f"a{hostile}b") == f"a{ESCAPED[hostile]}b"
    assert sanitize.inline(f"a{hostile}b") == f"a{ESCAPED[hostile]}b"


def test_inline_escapes_line_breaks_and_every_class_is_caught() -> None:
    assert sanitize.inline("a\nb\tc\rd") == "a\\nb\\tc\\rd"
    assert sanitize.terminal("a\rb\x7f\u2028\U000e0041\ud800") == "a\\rb\\x7f\\u2028\\U000e0041\\ud800"


def test_the_character_list_matches_unicodedata() -> None:
    """Every control, format, separator and surrogate code point of this Python's Unicode is escaped, and nothing
    else that is assigned (newer Cf characters are listed ahead of older Pythons, where they are unassigned)."""
    everything = "".join(map(chr, range(sys.maxunicode + 1)))
    escaped = set(
        re.findall(r"\\(?:x[0-9a-f]{2}|u[0-9a-f]{4}|U[0-9a-f]{8}|r)", sanitize.terminal(everything))
    )
    caught = {"\r" if e == "\\r" else chr(int(e[2:], 16)) for e in escaped}
    expected = {c for c in everything if forbidden(c)}
    assert expected <= caught
    assert {unicodedata.category(c) for c in caught - expected} <= {"Cn"}
    assert not forbidden(sanitize.terminal(everything))


def render_markdown(text: str) -> str:
    """``text`` rendered as CommonMark with GFM tables and strike-through, as HTML."""
    markdown_it = pytest.importorskip("markdown_it")
    return str(markdown_it.MarkdownIt("commonmark").enable(["table", "strikethrough"]).render(text))


MARKUP = (
    "<script>alert(1)</script> <!-- c --> <http://x> | `code` *em* **b** _u_ __init__ ~~s~~ ~t~ "
    "[a](javascript:x) ![i](x.png) &amp; & \\ \\[ \\* \n# h " + CSI8 + RLO
)


def test_markdown_renders_back_to_the_text_as_written() -> None:
    cell = sanitize.markdown(MARKUP)
    assert_clean(cell)
    html = render_markdown(f"| h |\n|---|\n| {cell} |\n")
    tags = set(re.findall(r"</?([a-z]+)", html))
    assert tags == {"table", "thead", "tbody", "tr", "th", "td"}
    (shown,) = re.findall(r"<td>(.*)</td>", html, re.S)
    assert unescape(shown) == sanitize.inline(MARKUP)


def test_markdown_leaves_alone_what_markdown_leaves_alone() -> None:
    text = "measured.latency_ms 120 ms > 2 × constraint.latency_ms (50 ms) = 100 ms → true; a < b, R&D"
    assert sanitize.markdown(text) is text


def test_json_text_still_parses_to_the_same_data() -> None:
    data = {f"k{RLO}{CSI8}\x7f": [f"é中{OSC8}\U000e0001"]}
    text = sanitize.json_text(json.dumps(data, ensure_ascii=False, indent=2))
    assert_clean(text)
    assert json.loads(text) == data and "é中" in text


def test_shorten_cuts_a_long_echo_and_leaves_short_text_alone() -> None:
    paste = "x" * 2000
    assert sanitize.shorten(paste) == "x" * 60 + "…"
    assert sanitize.shorten(paste, 10) == "x" * 10 + "…"
    short = "50 parsecs"
    assert sanitize.shorten(short, 10) is short and sanitize.shorten("", 0) == ""
    assert sanitize.shorten("中文" * 40, 3) == "中文中…"
    assert_clean(sanitize.shorten(sanitize.inline(CLEAR * 30), 7))
    with pytest.raises(ValueError):
        sanitize.shorten("x", -1)


def test_a_diagnostic_keeps_its_caret_under_the_problem() -> None:
    line = f'scenario s {RLO}\u009b"x" {{ requ1re'
    col = line.index("requ1re") + 1
    rendered = Diagnostic("E011", f"bad {CSI8}", f"f{CLEAR}.rules", 3, col, line, hint=f"h{RLO}", span=7)
    text = rendered.render()
    assert_clean(text, CLEAR, CSI8, RLO)
    source, caret = text.split("\n")[1:3]
    at = caret.index("^")
    assert source[at:].startswith("requ1re") and caret[at:] == "^~~~~~~"


def test_progress_lines_are_sanitized() -> None:
    stream = io.StringIO()
    progress = TerminalProgress(stream, interval=60)
    progress(1, 2, f"timing {TITLE}{CSI8}", 0.0)
    progress.close()
    drawn = stream.getvalue().replace("\r\x1b[K", "")  # the progress line's own erase
    assert_clean(drawn, TITLE, CSI8)


# ---- rules files


def hostile_rules(directory: Path) -> Path:
    """Labels, reasons and a test name with C1 controls, a bidi override, HTML and a table bar."""
    h = RULES_HOSTILE
    path = directory / "hostile.rules"
    path.write_text(
        f"""mcm rules 1

technique int8_static "INT8 {h}" {{
  effect model_size_mb  /= 4
  effect latency_ms     /= 2x .. 4x
  difficulty 2
  requires data.calibration because "needs calibration {h}"
}}

technique fp16 "FP16 {h}" {{
  effect model_size_mb /= 2
  difficulty 1
  requires env.nvidia_gpu because "gpu {h}"
}}

scenario mobile "phone {h}" {{
  core      model_size_mb, latency_ms
  require   model_size_mb < 10 MB
  require   latency_ms < 100 ms
  stack     "stack {h}", int8_static
}}

decide for mobile policy first {{
  rule size_far_over:
    when measured.model_size_mb > 2 * constraint.model_size_mb
    then recommend int8_static because "reason {h}"
  otherwise recommend none because "within {h}"
}}

test "test {h}" for mobile {{
  given measured.model_size_mb = 40 MB, measured.latency_ms = 20 ms
  expect recommend fp16
}}
""",
        encoding="utf-8",
    )
    return path


FACTS = ("--set", "model_size_mb=40MB", "--set", "latency_ms=20ms")


def test_advise_text_escapes_reasons_and_messages(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_cli(capsys, "advise", str(hostile_rules(tmp_path)), *FACTS)
    assert code in (1, 3) and err == ""
    assert_clean(out, CSI8, OSC8, RLO)
    assert f"reason {ESCAPED[CSI8]}" in out and f"gpu {ESCAPED[CSI8]}" in out


def test_advise_markdown_is_never_html_or_markup(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(capsys, "advise", str(hostile_rules(tmp_path)), *FACTS, "--format", "markdown")
    assert code in (1, 3)
    assert_clean(out)
    html = render_markdown(out)
    assert "<script" not in html and f"reason {sanitize.inline(RULES_HOSTILE)}" in unescape(html)
    assert "|x|" not in out  # a table bar from a rules file never splits a cell


def test_advise_json_parses_to_the_text_as_written(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run_cli(capsys, "advise", str(hostile_rules(tmp_path)), *FACTS, "--format", "json")
    assert code in (1, 3)
    assert_clean(out)
    reasons = [r["reason"] for r in json.loads(out)["recommendations"]]
    assert reasons == [f"reason {RULES_HOSTILE}"]


def test_scenarios_table_escapes_labels(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(capsys, "scenarios", str(hostile_rules(tmp_path)))
    assert code == 0
    assert_clean(out, CSI8, OSC8, RLO)


def test_rules_test_and_lint_escape_names_and_source_lines(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rules = str(hostile_rules(tmp_path))
    code, out, _ = run_cli(capsys, "rules", "test", rules)
    assert code == 1
    assert_clean(out, CSI8, OSC8, RLO)
    code, out, _ = run_cli(capsys, "rules", "lint", rules)
    assert code == 1 and "W001" in out
    assert_clean(out, CSI8, OSC8, RLO)
    code, out, _ = run_cli(capsys, "rules", "lint", rules, "--format", "json")
    assert_clean(out)


def test_a_rules_file_with_escape_sequences_is_refused_cleanly(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / f"bad{TITLE}.rules"
    path.write_text(f'mcm rules 1\nscenario s "x{CLEAR}" {{\n}}\n', encoding="utf-8")
    code, out, err = run_cli(capsys, "advise", str(path))
    assert code == 2 and out == "" and "E004" in err
    assert_clean(err, TITLE, CLEAR)
    code, _, err = run_cli(capsys, "advise", str(tmp_path / f"missing{CLEAR}.rules"))
    assert code == 2 and "E001" in err
    assert_clean(err, CLEAR)


# ---- command-line arguments and data files


GENERAL = str(ROOT / "rules" / "general.rules")


@pytest.mark.parametrize(
    "args",
    [
        ("--set", f"lat{CLEAR}ency_ms=1"),
        ("--set", f"latency_ms=1{TITLE}"),
        ("--scenario", f"x{TITLE}{CSI8}"),
        ("--constraint", f"latency_ms<1{CLEAR}"),
        ("--env", f"x{CLEAR}{RLO}=1"),
    ],
)
def test_arguments_echoed_in_errors_are_escaped(
    args: tuple[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run_cli(capsys, "advise", GENERAL, *args)
    assert code == 2 and out == "" and err.startswith("mcm: error: ")
    assert_clean(err, *(h for h in ESCAPED if h in args[1]))


def test_baseline_keys_are_escaped(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    baseline = tmp_path / "baseline.json"
    baseline.write_text(json.dumps({"metrics": {f"lat{CLEAR}{CSI8}": 1.0}}), encoding="utf-8")
    code, out, err = run_cli(capsys, "advise", GENERAL, "--baseline", str(baseline))
    assert code == 2 and out == ""
    assert_clean(err, CLEAR, CSI8)


# ---- model files


def hostile_onnx(path: Path) -> Path:
    """``y = relu(x)`` whose input, output and batch dimension are named with escape sequences."""
    import onnx
    from onnx import TensorProto, helper

    x, y, n = f"in{TITLE}", f"out{CLEAR}", f"N{CSI8}{RLO}"
    graph = helper.make_graph(
        [helper.make_node("Relu", [x], [y])],
        f"g{TITLE}",
        [helper.make_tensor_value_info(x, TensorProto.FLOAT, [n, 4])],
        [helper.make_tensor_value_info(y, TensorProto.FLOAT, [n, 4])],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], producer_name=f"p{CLEAR}")
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, str(path))
    return path


MEASURE = ("--batch", "1", "--min-time", "0.05", "--min-count", "5")


def test_measure_escapes_input_and_dimension_names(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    model = hostile_onnx(tmp_path / f"m{CSI8}.onnx")
    code, out, err = run_cli(capsys, "measure", str(model), *MEASURE)
    assert code == 0
    assert_clean(out + err, TITLE, CSI8, RLO)
    code, out, _ = run_cli(capsys, "measure", str(model), *MEASURE, "--format", "json")
    assert code == 0 and json.loads(out)["inputs"]["signature"][0]["name"] == f"in{TITLE}"
    code, out, err = run_cli(capsys, "measure", str(model), *MEASURE, "--shape", f"x{CLEAR}=1x4")
    assert code == 2 and out == ""
    assert_clean(err, TITLE, CLEAR)


# ---- the TUI


def test_tui_shows_rules_labels_escaped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Textual strips only BEL, BS, VT, FF and CR: C1 controls and bidi overrides in a label would reach the
    terminal. What the screen writes must hold them escaped."""
    pytest.importorskip("textual")
    from mcm.tui.app import McmApp
    from mcm.tui.screens.technique import explain

    monkeypatch.chdir(ROOT)
    rules = tmp_path / "rules"
    shutil.copytree(ROOT / "rules", rules, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    mobile = rules / "mobile.rules"
    hostile = CSI8 + OSC8 + RLO
    text = mobile.read_text(encoding="utf-8").replace('"手机APP / mobile app"', f'"phone {hostile}"')
    mobile.write_text(text.replace('"TFLite / PyTorch Mobile"', f'"TFLite {hostile}"'), encoding="utf-8")

    async def screen_output() -> str:
        app = McmApp([str(rules)], lang="en")
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.pause(0.5)
            for _ in range(6):  # walk the list until mobile's detail (its stack) is drawn too
                drawn = app.screen._compositor.render_full_update().render_segments(app.console)
                if "TFLite" in drawn:
                    return drawn
                await pilot.press("down")
                await pilot.pause()
            raise AssertionError("mobile's detail was never drawn")

    drawn = asyncio.run(screen_output())
    assert_clean(drawn.replace("\x1b", ""), CSI8, OSC8, RLO)  # Textual's own escape sequences aside

    technique = next(iter(load_rules(str(hostile_rules(tmp_path))).techniques.values()))
    assert_clean(explain(technique, "en").plain, CSI8, OSC8, RLO)


def test_warnings_shown_during_a_command_are_sanitized(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Found by a red-team pass: a TorchScript model's warnings.warn reached stderr with its escape sequences."""
    import warnings

    from mcm.cli import main as cli_main
    from mcm.cli import scenarios

    original = scenarios.run

    def warns_then_runs(args: object) -> int:
        warnings.warn("\x1b]0;title\x07\x1b[2Jfrom the model", UserWarning, stacklevel=1)
        return original(args)  # type: ignore[arg-type]

    monkeypatch.setattr(scenarios, "run", warns_then_runs)
    with warnings.catch_warnings():
        warnings.simplefilter("always")
        before = warnings.showwarning
        assert cli_main.main(["scenarios"]) == 0
        assert warnings.showwarning is before
    err = capsys.readouterr().err
    assert "from the model" in err and "\x1b" not in err and "\\x1b]0;title" in err
