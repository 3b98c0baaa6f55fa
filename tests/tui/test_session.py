"""The guided session's state (mcm.tui.session), on the shipped rules: validation as typed, rules errors kept with
their location, reload, and the same decision as the `mcm advise` command line it stands for."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from mcm.cli.main import main
from mcm.engine.facts import parse_constraint
from mcm.exceptions import AdviceError, FactsError, McmError, UnknownMetricError
from mcm.metrics import lookup
from mcm.tui.session import ConstraintRow, Session, SessionError

ROOT = Path(__file__).resolve().parents[2]
RULES = str(ROOT / "rules")


def cli_json(capsys: pytest.CaptureFixture[str], args: list[str]) -> tuple[int, dict[str, Any]]:
    capsys.readouterr()
    code = main(["advise", *args, "--format", "json"])
    captured = capsys.readouterr()
    assert code in (0, 1, 3), captured.err
    return code, json.loads(captured.out)


def copy_rules(tmp_path: Path) -> Path:
    target = tmp_path / "rules"
    shutil.copytree(ROOT / "rules", target, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    return target


@pytest.fixture
def session() -> Session:
    return Session([RULES])


# ---- rules and scenarios


def test_the_shipped_rules_load_with_every_scenario_and_its_constraints(session: Session) -> None:
    assert session.error is None
    infos = {s.name: s for s in session.scenarios()}
    assert {"mobile", "video", "cloud", "edge", "iot", "general"} <= set(infos)
    mobile = infos["mobile"]
    assert mobile.file.endswith("mobile.rules") and mobile.line > 0
    assert mobile.core == ("model_size_mb", "power_w", "latency_ms")
    assert mobile.ignored == ("throughput_qps",)
    assert [r.text() for r in mobile.constraints] == [
        "model_size_mb < 10 MB",
        "latency_ms < 100 ms",
        "power_w < 2 W",
        "prefer accuracy >= 85 %",
    ]
    assert "int8_static" in mobile.stack and "TFLite / PyTorch Mobile" in mobile.stack


def test_choosing_a_scenario_takes_its_constraints_and_an_unknown_one_is_refused(session: Session) -> None:
    session.choose("iot")
    assert session.scenario == "iot"
    assert [r.metric for r in session.constraints] == [r.metric for r in session.scenario_defaults()]
    assert session.user_constraints() == [] and session.removed_constraints() == ()
    with pytest.raises(AdviceError) as caught:
        session.choose("mobil")
    assert "unknown scenario 'mobil'" in str(caught.value)
    assert caught.value.hint is not None and "mobile" in caught.value.hint
    assert session.scenario == "iot"


def test_a_single_path_string_is_one_rules_path_not_characters() -> None:
    assert Session(RULES).rules_paths == (RULES,)


# ---- validation as typed


@pytest.mark.parametrize(
    ("metric", "text", "value", "unit"),
    [
        ("latency_ms", "50 ms", 50.0, "ms"),
        ("latency_ms", "50", 50.0, "ms"),
        ("latency_ms", "0.2 s", 200.0, "ms"),
        ("latency", "1500us", 1.5, "ms"),
        ("accuracy", "85 %", 0.85, "%"),
        ("accuracy", "0.85", 0.85, "%"),
        ("model_size_mb", "1 GB", 1024.0, "MB"),
        ("accuracy_drop", "2 pp", 0.02, "pp"),
    ],
)
def test_limits_parse_to_canonical_values(
    session: Session, metric: str, text: str, value: float, unit: str
) -> None:
    got, shown = session.parse_limit(metric, text)
    assert got == pytest.approx(value) and shown == unit


@pytest.mark.parametrize(
    ("metric", "text", "message", "hint"),
    [
        ("latency_ms", "fast", "not a number with a unit", "e.g. 120 ms"),
        ("latency_ms", "50 kg", "unknown unit 'kg'", None),
        ("latency_ms", "50 MB", "does not fit latency_ms", "latency_ms accepts"),
        ("latency_ms", "-5 ms", "latency_ms must be at least 0", None),
        ("latency_ms", "  ", "no value", "latency_ms accepts"),
        ("latency_ms", "nan", "finite", None),
        ("accuracy", "85", "between 0 and 1", "write 90 % or 0.90"),
        ("accuracy_drop", "3 %", "ambiguous", None),
        ("latency_ms", "50 µs", "unknown unit", "us"),
    ],
)
def test_bad_limits_are_refused_with_a_message_and_a_hint(
    session: Session, metric: str, text: str, message: str, hint: str | None
) -> None:
    with pytest.raises(McmError) as caught:
        session.parse_limit(metric, text)
    assert message in str(caught.value)
    assert str(caught.value).startswith(f"constraint.{metric}")
    if hint is not None:
        assert caught.value.hint is not None and hint in caught.value.hint


def test_unknown_metrics_are_refused_with_a_suggestion(session: Session) -> None:
    session.choose("mobile")
    for call in (
        lambda: session.parse_limit("latncy_ms", "5 ms"),
        lambda: session.set_constraint("latncy_ms", "<", "5 ms"),
        lambda: session.set_measured("latncy_ms", "5 ms"),
        lambda: session.remove_constraint("latncy_ms"),
    ):
        with pytest.raises(UnknownMetricError) as caught:
            call()
        assert caught.value.hint is not None and "latency_ms" in caught.value.hint


def test_bad_operators_are_refused_and_nothing_changes(session: Session) -> None:
    session.choose("mobile")
    before = list(session.constraints)
    with pytest.raises(FactsError) as caught:
        session.set_constraint("latency_ms", "=<", "50 ms")
    assert caught.value.hint == "write '<='"
    with pytest.raises(FactsError):
        session.set_constraint("latency_ms", "<", "50 furlongs")
    assert session.constraints == before


def test_edited_rows_keep_the_engines_order(session: Session) -> None:
    session.choose("mobile")
    session.set_constraint("memory_mb", "<", "200 MB")
    session.remove_constraint("latency_ms")
    session.set_constraint("model_size_mb", "<", "5 MB")
    assert [r.metric for r in session.constraints] == ["model_size_mb", "power_w", "accuracy", "memory_mb"]
    session.set_constraint("latency_ms", "<=", "80 ms")  # back at its place in the scenario, not at the end
    assert [r.metric for r in session.constraints] == [
        "model_size_mb",
        "latency_ms",
        "power_w",
        "accuracy",
        "memory_mb",
    ]
    assert [r.metric for r in session.user_constraints()] == ["model_size_mb", "latency_ms", "memory_mb"]
    assert session.removed_constraints() == ()
    session.set_constraint("model_size_mb", "<", "10 MB")  # the scenario's own value again: not an override
    assert [r.metric for r in session.user_constraints()] == ["latency_ms", "memory_mb"]
    session.reset_constraints()
    assert session.constraints == list(session.scenario_defaults())


@pytest.mark.parametrize(
    ("metric", "value"),
    [("latency_ms", 123.456789012345), ("accuracy", 0.8765432101), ("model_size_mb", 1e-7), ("power_w", 1e6)],
)
def test_a_row_text_reads_back_to_exactly_its_value(metric: str, value: float) -> None:
    row = ConstraintRow(metric, "<=", value, False, "")
    limit = parse_constraint(row.text())
    assert (limit.metric, limit.op, limit.value, limit.hard) == (metric, "<=", value, False)
    assert lookup("latency_ms").literal(100.0) == "100 ms" and lookup("accuracy").literal(0.85) == "85 %"


def test_measured_values_are_checked_like_set_and_empty_text_removes(session: Session) -> None:
    assert session.set_measured("latency", "0.12 s") == pytest.approx(120.0)
    assert session.set_measured("accuracy", "94.5 %") == pytest.approx(0.945)
    assert session.set_measured("model_size_mb", "98") == 98.0
    assert set(session.measured) == {"latency_ms", "accuracy", "model_size_mb"}
    with pytest.raises(FactsError) as caught:
        session.set_measured("accuracy", "94.5")
    assert caught.value.hint is not None and "90 %" in caught.value.hint
    assert session.measured["accuracy"] == pytest.approx(0.945)
    assert session.set_measured("latency_ms", "") is None
    assert "latency_ms" not in session.measured


def test_env_and_data_facts_are_checked_like_the_flags(session: Session) -> None:
    assert session.set_env("nvidia_gpu", "yes") is True
    assert session.set_env("env.threads", "1") == 1.0  # a number, not the flag `typed` would make of "1"
    assert session.set_env("device", "cpu") == "cpu"
    assert session.set_data("calibration", "true") is True
    assert session.env == {"nvidia_gpu": True, "threads": 1.0, "device": "cpu"}
    with pytest.raises(FactsError) as caught:
        session.set_env("nvidia_gpus", "true")
    assert caught.value.hint is not None and "nvidia_gpu" in caught.value.hint
    with pytest.raises(FactsError):
        session.set_env("nvidia_gpu", "maybe")
    with pytest.raises(FactsError):
        session.set_env("threads", "four")
    with pytest.raises(FactsError):
        session.set_env("device", "true")  # the command line would read it as a flag
    with pytest.raises(FactsError):
        session.set_data("calibrashun", "true")
    assert session.set_env("threads", "") is None
    assert "threads" not in session.env


def test_a_baseline_report_gives_measured_values(session: Session, tmp_path: Path) -> None:
    report = tmp_path / "report.json"
    report.write_text(
        json.dumps({"schema": "mcm.measure/1", "metrics": {"latency_ms": 120.5, "accuracy": 0.9}}), "utf-8"
    )
    session.set_measured("power_w", "3 W")
    assert session.load_baseline(report) == {"latency_ms": 120.5, "accuracy": 0.9}
    assert session.measured == {"power_w": 3.0, "latency_ms": 120.5, "accuracy": 0.9}
    bad = tmp_path / "bad.json"
    for text, message in (
        ("{not json", "not valid JSON"),
        ('{"metrics": {"latency_ms": "fast"}}', "not a number"),
        ('{"metrics": {"latncy_ms": 3}}', "unknown metric"),
        ('{"metrics": {"accuracy": 90}}', "between 0 and 1"),
    ):
        bad.write_text(text, "utf-8")
        with pytest.raises(FactsError, match=message):
            session.load_baseline(bad)
    with pytest.raises(FactsError, match="cannot read"):
        session.load_baseline(tmp_path / "missing.json")
    assert session.measured == {"power_w": 3.0, "latency_ms": 120.5, "accuracy": 0.9}


def test_a_measure_report_gives_metrics_and_env_but_set_env_wins(session: Session) -> None:
    from mcm.measure.report import MeasureReport

    report = MeasureReport(
        model={"name": "m"},
        settings={},
        metrics={"latency_ms": 12.5, "model_size_mb": 40.0, "accuracy": 0.91},
        unavailable={},
        sections={"provenance": {"cpu": {"flags": {"avx2": True}, "arch": "x86_64"}, "gpus": []}},
        warnings=[],
    )
    session.set_env("nvidia_gpu", "true")  # the target, not the machine measured on
    session.set_measured("latency_ms", "99 ms")
    session.use_report(report)
    assert session.measured == {"latency_ms": 12.5, "model_size_mb": 40.0, "accuracy": 0.91}
    assert session.env["nvidia_gpu"] is True
    assert session.env["cpu_avx2"] is True and session.env["cpu_arch"] == "x86_64"
    assert session.env["device"] == "cpu"


def test_measuring_the_demo_model_feeds_the_session(session: Session) -> None:
    pytest.importorskip("onnxruntime")
    report = session.measure("demo", min_time=0.02, min_count=5, repeats=2, warmup=1)
    assert session.measured["latency_ms"] == report.metrics["latency_ms"]
    assert session.env["device"] in ("cpu", "gpu") and "nvidia_gpu" in session.env
    session.choose("mobile")
    assert session.decide().facts.measured["model_size_mb"] == report.metrics["model_size_mb"]


# ---- rules errors and reload


def test_a_rules_syntax_error_is_kept_with_its_location_and_reload_clears_it(tmp_path: Path) -> None:
    rules = copy_rules(tmp_path)
    mobile = rules / "mobile.rules"
    good = mobile.read_text("utf-8")
    session = Session([str(rules)])
    session.choose("mobile")
    session.set_constraint("latency_ms", "<", "60 ms")
    session.set_measured("latency_ms", "300 ms")

    mobile.write_text(
        good.replace("require   latency_ms < 100 ms", "require   latency_ms < < 100 ms"), "utf-8"
    )
    session.reload()  # no exception
    assert session.error is not None
    first = session.error.errors[0]
    assert first.file.endswith("mobile.rules") and (first.line, first.col) == (10, 26)
    assert f"{first.file}:10:26: error[" in str(session.error)
    assert session.scenarios() == ()
    with pytest.raises(SessionError) as caught:
        session.decide()
    assert caught.value.hint is not None and "mobile.rules:10:26" in caught.value.hint
    assert session.decision is None
    assert session.scenario == "mobile"  # the state waits for the fix

    mobile.write_text(good, "utf-8")
    session.reload()
    assert session.error is None and len(session.scenarios()) == 6
    assert session.scenario == "mobile"
    assert [r.text() for r in session.user_constraints()] == ["latency_ms < 60 ms"]
    assert session.decide().scenario == "mobile"


def test_a_session_can_start_on_broken_rules(tmp_path: Path) -> None:
    broken = tmp_path / "broken.rules"
    broken.write_text("mcm rules 1\nscenario x {\n  core latency_ms\n", "utf-8")
    session = Session([broken])
    assert session.error is not None and session.scenarios() == ()
    assert session.error.errors[0].file == str(broken)
    with pytest.raises(SessionError):
        session.choose("x")
    broken.write_text("mcm rules 1\nscenario x {\n  core latency_ms\n}\n", "utf-8")
    session.reload()
    assert session.error is None and [s.name for s in session.scenarios()] == ["x"]


def test_reload_follows_the_file_for_unedited_rows_and_keeps_edits(tmp_path: Path) -> None:
    rules = copy_rules(tmp_path)
    mobile = rules / "mobile.rules"
    session = Session([str(rules)])
    session.choose("mobile")
    session.set_constraint("latency_ms", "<", "60 ms")
    session.remove_constraint("accuracy")
    text = mobile.read_text("utf-8").replace("require   power_w < 2 W", "require   power_w < 3 W")
    mobile.write_text(text, "utf-8")
    session.reload()
    rows = {r.metric: r.text() for r in session.constraints}
    assert rows == {
        "model_size_mb": "model_size_mb < 10 MB",
        "latency_ms": "latency_ms < 60 ms",
        "power_w": "power_w < 3 W",
    }
    assert session.removed_constraints() == ("accuracy",)
    mobile.unlink()  # the scenario is gone: nothing of it is kept
    session.reload()
    assert session.error is None and session.scenario is None and session.constraints == []


# ---- the same decision as the command line


CASES: list[tuple[str, list[tuple[str, str, str, bool]], dict[str, str], dict[str, str], dict[str, str]]] = [
    # (scenario, constraint edits, measured, env, data)
    (
        "general",
        [("latency_ms", "<", "50 ms", True), ("accuracy", ">=", "0.90", False)],
        {"accuracy": "94.5 %", "latency_ms": "120ms", "model_size_mb": "98MB"},
        {"nvidia_gpu": "true"},
        {},
    ),
    (
        "general",
        [],
        {"accuracy": "0.945", "latency_ms": "120", "model_size_mb": "98"},
        {"nvidia_gpu": "false", "onnxruntime_available": "true", "threads": "1"},
        {"calibration": "yes"},
    ),
    (
        "mobile",
        [
            ("latency_ms", "<", "0.08 s", True),
            ("memory_mb", "<=", "0.5 GB", False),
            ("model_size_mb", "<", "12.345678901 MB", True),
        ],
        {"model_size_mb": "98 MB", "latency_ms": "300 ms", "power_w": "3.5 W", "accuracy": "76 %"},
        {"device": "cpu", "cpu_vnni": "false"},
        {"calibration": "true", "training": "false"},
    ),
    (
        "iot",
        [("power_w", "<", "500 mW", True), ("latency_ms", "<", "200 ms", False)],
        {"model_size_mb": "4 MB", "memory_mb": "300 MB", "power_w": "2 W"},
        {"device": "mcu"},
        {"calibration": "true"},
    ),
    (
        "video",
        [("fps", ">=", "60 fps", True)],
        {"fps": "20 fps", "latency_ms": "45 ms"},
        {"nvidia_gpu": "true"},
        {},
    ),
    ("cloud", [], {}, {}, {}),
    ("edge", [("accuracy", ">=", "80 %", True)], {"latency_ms": "70 ms", "memory_mb": "900 MB"}, {}, {}),
]


@pytest.mark.parametrize(("scenario", "edits", "measured", "env", "data"), CASES)
def test_the_session_decides_as_its_command_line(
    capsys: pytest.CaptureFixture[str],
    scenario: str,
    edits: list[tuple[str, str, str, bool]],
    measured: dict[str, str],
    env: dict[str, str],
    data: dict[str, str],
) -> None:
    session = Session([RULES])
    session.choose(scenario)
    for metric, op, text, hard in edits:
        session.set_constraint(metric, op, text, hard)
    for metric, text in measured.items():
        session.set_measured(metric, text)
    for key, text in env.items():
        session.set_env(key, text)
    for key, text in data.items():
        session.set_data(key, text)
    decision = session.decide()
    assert session.decision is decision
    args = session.cli_args()
    assert args[:3] == [RULES, "--scenario", scenario]
    assert args.count("--constraint") == len(session.user_constraints())
    code, cli = cli_json(capsys, args)
    assert decision.to_dict() == cli
    assert code == (0 if decision.meets_constraints else 3 if decision.undecided else 1)


def test_an_unchanged_scenario_row_stays_the_scenarios(session: Session) -> None:
    session.choose("mobile")
    session.set_constraint("latency_ms", "<", "80 ms")
    session.set_measured("latency_ms", "90 ms")
    checks = {c["metric"]: c for c in session.decide().to_dict()["constraints"]}  # type: ignore[union-attr]
    assert checks["latency_ms"]["source"] == "user" and checks["latency_ms"]["status"] == "violated"
    assert checks["model_size_mb"]["source"] == "scenario"
    assert str(checks["model_size_mb"]["pos"]).endswith("mobile.rules:9:13")


def test_a_removed_scenario_constraint_is_dropped_but_has_no_command_line(session: Session) -> None:
    session.choose("mobile")
    session.set_measured("power_w", "3.5 W")
    session.set_measured("latency_ms", "50 ms")
    with_power = session.decide()
    assert "power_w" in [c.metric for c in with_power.constraints]
    assert any(t.rule == "power_over" and t.status == "fired" for t in with_power.trace)
    session.remove_constraint("power_w")
    decision = session.decide()
    assert [c.metric for c in decision.constraints] == ["model_size_mb", "latency_ms", "accuracy"]
    power_rule = next(t for t in decision.trace if t.rule == "power_over")
    assert power_rule.status == "error"  # constraint.power_w is no longer a fact: never read as false
    with pytest.raises(SessionError) as caught:
        session.cli_args()
    assert "power_w" in str(caught.value) and caught.value.hint is not None
    session.remove_constraint("power_w")  # removing twice is fine
    session.set_constraint("power_w", "<", "2 W")
    assert session.removed_constraints() == ()
    assert session.decide().to_dict() == with_power.to_dict()


def test_without_a_scenario_the_only_one_is_used_and_several_need_a_name(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(AdviceError, match="several scenarios"):
        Session([RULES]).decide()
    single = Session([str(ROOT / "rules" / "mobile.rules")])
    single.set_constraint("latency_ms", "<", "50 ms")
    single.set_measured("latency_ms", "70 ms")
    decision = single.decide()
    assert decision.scenario == "mobile"
    assert "--scenario" not in single.cli_args()
    assert cli_json(capsys, single.cli_args())[1] == decision.to_dict()


def test_importing_the_session_loads_no_heavy_module() -> None:
    code = (
        "import sys, mcm.tui.session, mcm.tui.export\n"
        "heavy = [m for m in sys.modules if m.split('.')[0] in ('textual', 'numpy', 'torch', 'onnxruntime', 'rich')]\n"
        "assert not heavy, heavy\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)


def test_latest_decides_on_the_inputs_as_they_are_now(session: Session) -> None:
    """What the app returns on quit: nothing before a plan was asked for, then always the current inputs' plan."""
    session.choose("mobile")
    session.set_measured("latency_ms", "300 ms")
    assert session.latest() is None
    shown = session.decide()
    session.set_constraint("latency_ms", "<", "500 ms")
    latest = session.latest()
    assert latest is not None and latest is not shown
    limits = {c.metric: c.limit for c in latest.constraints}
    assert limits["latency_ms"] == 500 and {c.metric: c.limit for c in shown.constraints}["latency_ms"] == 100


# ---- issue #14: the facts a scenario reads, pending edits


def test_scenario_facts_are_those_its_rules_and_their_techniques_read() -> None:
    session = Session()
    assert session.scenario_facts() == ()
    session.choose("iot")
    read = session.scenario_facts()
    assert "data.calibration" in read  # int8_static, recommended by the iot rules, requires it
    assert "env.nvidia_gpu" not in read  # only tensorrt reads it, and no iot rule recommends it
    assert session.facts_needed("int8_static") == ("data.calibration",)
    session.set_data("calibration", "true")
    assert session.facts_needed("int8_static") == ()


def test_commit_edits_asks_every_editor() -> None:
    from mcm.tui.session import FieldProblem

    session = Session()
    problem = FieldProblem("constraints", "Peak memory", "not a number")
    session.add_editor("constraints", lambda: [problem])
    session.add_editor("baseline", list)
    assert session.commit_edits() == [problem]
    session.remove_editor("constraints")
    assert session.commit_edits() == []
