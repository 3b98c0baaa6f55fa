"""The parse cache: a hit gives the same AST as a parse, any change misses, and an entry cannot run code."""

from __future__ import annotations

import os
import pickle
import re
import shutil
import sys
from pathlib import Path

import pytest

from mcm.exceptions import RulesError
from mcm.rules import cache, load_rules
from mcm.rules.errors import Reporter

RULES = Path(__file__).resolve().parents[2] / "rules"


@pytest.fixture
def private(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("MCM_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("MCM_RULES_CACHE", raising=False)
    return tmp_path / "cache" / "rules"


def entries(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if not p.name.startswith(".tmp-"))


def test_a_hit_equals_a_fresh_parse_and_skips_the_parser(private: Path, tmp_path: Path) -> None:
    fresh = load_rules(RULES)
    assert len(entries(private)) == len(list(RULES.glob("*.rules")))
    assert all(oct(p.stat().st_mode & 0o777) == "0o600" for p in entries(private))
    assert oct(private.stat().st_mode & 0o777) == "0o700"
    cached = load_rules(RULES)
    assert cached.files == fresh.files
    assert [cache._encode(f) for f in cached.files] == [
        cache._encode(f) for f in fresh.files
    ]  # positions too
    assert [f.scenarios for f in cached.files] == [f.scenarios for f in fresh.files]
    assert [w.render() for w in cached.warnings] == [w.render() for w in fresh.warnings]


def test_an_edit_or_another_name_misses(private: Path, tmp_path: Path) -> None:
    copy = tmp_path / "r"
    shutil.copytree(RULES, copy)
    load_rules(copy)
    before = set(entries(private))
    mobile = copy / "mobile.rules"
    mobile.write_text(
        mobile.read_text().replace("require   latency_ms < 100 ms", "require   latency_ms < 90 ms")
    )
    edited = load_rules(copy)
    assert edited.scenarios["mobile"].constraint("latency_ms").value.value == 90  # type: ignore[union-attr]
    assert len(set(entries(private)) - before) == 1
    renamed = tmp_path / "other"
    copy.rename(renamed)
    assert load_rules(renamed).scenarios["mobile"].pos.file.startswith(str(renamed))


class Boom:
    def __reduce__(self) -> tuple[object, ...]:
        return (os.system, ("touch " + str(Path(os.environ["MCM_CACHE_DIR"]) / "pwned"),))


HOSTILE = [
    pickle.dumps(Boom()),  # not JSON at all
    b'{"@": "system", "v": ["touch pwned"]}',  # a name outside the AST
    b'{"@": "__class__", "v": []}',
    b'{"@": "RulesFile", "v": [1]}',  # the wrong arity
    b'{"not": "an AST"}',
    b"[1, 2, 3]",
    b'{"@": "Pos", "v": ["f", 1, 1]}',  # a valid node, but not a file
    b"\x80\x05garbage",
]


@pytest.mark.parametrize("payload", HOSTILE)
def test_a_tampered_entry_runs_nothing_and_is_a_miss(private: Path, payload: bytes) -> None:
    fresh = load_rules(RULES / "iot.rules")
    for entry in entries(private):
        entry.write_bytes(payload)
    assert load_rules(RULES / "iot.rules").files == fresh.files
    assert not (private.parent / "pwned").exists() and not Path("pwned").exists()


@pytest.mark.skipif(not hasattr(os, "getuid"), reason="POSIX permissions")
def test_a_directory_open_to_others_is_not_used(private: Path) -> None:
    private.mkdir(parents=True)
    private.chmod(0o777)
    assert cache.directory() is None
    load_rules(RULES / "iot.rules")
    assert entries(private) == []


def test_off_and_unusable_directories_still_load(
    private: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MCM_RULES_CACHE", "off")
    load_rules(RULES / "iot.rules")
    assert not private.exists()
    monkeypatch.delenv("MCM_RULES_CACHE")
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    monkeypatch.setenv("MCM_CACHE_DIR", str(blocker))
    assert cache.directory() is None
    assert load_rules(RULES / "iot.rules").scenarios


def test_a_file_with_errors_is_not_cached(private: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.rules"
    bad.write_text("mcm rules 1\nscenario x {\n")
    reporter = Reporter()
    assert cache.parse(bad.read_bytes(), str(bad), reporter) is None and reporter.diagnostics
    assert entries(private) == []


def test_a_hit_does_not_import_lark(private: Path) -> None:
    import subprocess

    code = (
        "import sys; from mcm.rules import load_rules; load_rules(sys.argv[1]); print('lark' in sys.modules)"
    )
    runs = [
        subprocess.run(
            [sys.executable, "-c", code, str(RULES)], capture_output=True, text=True, check=True
        ).stdout.strip()
        for _ in range(2)
    ]
    assert runs == ["True", "False"]


def test_a_hit_still_shows_the_source_line_in_errors(private: Path, tmp_path: Path) -> None:
    bad = tmp_path / "typo.rules"
    bad.write_text("mcm rules 1\nscenario s {\n  core latncy_ms\n}\n")
    messages = []
    for _ in range(2):
        with pytest.raises(RulesError) as caught:
            load_rules(bad)
        messages.append(caught.value.errors[0].render())
    assert len(entries(private)) == 1  # the parse was clean: the second load was a hit
    assert messages[0] == messages[1] and "core latncy_ms" in messages[1] and "^~~" in messages[1]


def test_a_well_formed_entry_of_the_wrong_types_is_forgotten(private: Path) -> None:
    fresh = load_rules(RULES / "iot.rules")
    wrong = re.compile(r'(\{"@":"Quantity","v":\[)([0-9.e+-]+),')
    for entry in entries(private):
        entry.write_text(wrong.sub(r'\1"\2",', entry.read_text()))  # numbers turned into strings
    assert any('"v":["' in e.read_text() for e in entries(private))
    assert load_rules(RULES / "iot.rules").files == fresh.files  # parsed again, not an internal error
    assert not any(wrong.pattern in e.read_text() for e in entries(private))
    assert all(not re.search(r'"Quantity","v":\["', e.read_text()) for e in entries(private))  # rewritten


def test_an_entry_that_is_a_link_is_not_followed(private: Path, tmp_path: Path) -> None:
    load_rules(RULES / "iot.rules")
    target = tmp_path / "elsewhere.json"
    for entry in entries(private):
        target.write_bytes(entry.read_bytes())
        entry.unlink()
        entry.symlink_to(target)
    target.write_text('{"@": "Pos", "v": ["x", 1, 1]}')
    assert load_rules(RULES / "iot.rules").scenarios["iot"]


def test_an_oversized_entry_is_not_written(private: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cache, "MAX_ENTRY_BYTES", 100)
    load_rules(RULES / "iot.rules")
    assert entries(private) == []
