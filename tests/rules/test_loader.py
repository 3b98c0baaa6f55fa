"""Loading files: directories, includes (diamonds, depth caps), definitions across files."""

from __future__ import annotations

from pathlib import Path

import pytest
from rules_helpers import GOOD, HEADER

from mcm.exceptions import RulesError
from mcm.rules import load_rules
from mcm.rules.loader import MAX_INCLUDE_DEPTH

TECHNIQUE = "technique {name} {{\n  effect latency_ms /= 2\n}}\n"


def _write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_directory_loads_every_rules_file_once(tmp_path: Path) -> None:
    _write(tmp_path, "a.rules", HEADER + 'include "lib/common.rules"\n' + TECHNIQUE.format(name="a"))
    _write(tmp_path, "b.rules", HEADER + 'include "lib/common.rules"\n' + TECHNIQUE.format(name="b"))
    _write(tmp_path, "lib/common.rules", HEADER + TECHNIQUE.format(name="common"))
    ruleset = load_rules(tmp_path)
    assert list(ruleset.techniques) == ["common", "a", "b"]
    assert [Path(f.path).name for f in ruleset.files] == ["common.rules", "a.rules", "b.rules"]


def test_several_paths(tmp_path: Path) -> None:
    a = _write(tmp_path, "a.rules", HEADER + TECHNIQUE.format(name="a"))
    b = _write(tmp_path, "b.rules", HEADER + TECHNIQUE.format(name="b"))
    assert list(load_rules(a, b).techniques) == ["a", "b"]


def test_duplicate_across_files_points_at_the_first(tmp_path: Path) -> None:
    _write(tmp_path, "lib.rules", HEADER + TECHNIQUE.format(name="int8"))
    main = _write(tmp_path, "main.rules", HEADER + 'include "lib.rules"\n' + TECHNIQUE.format(name="int8"))
    with pytest.raises(RulesError) as caught:
        load_rules(main)
    (error,) = caught.value.errors
    assert (error.code, Path(error.file).name, error.line) == ("E040", "main.rules", 3)
    assert error.hint is not None and "lib.rules:2:11" in error.hint


def test_include_depth_is_capped(tmp_path: Path) -> None:
    for level in range(MAX_INCLUDE_DEPTH + 2):
        _write(tmp_path, f"f{level}.rules", HEADER + f'include "f{level + 1}.rules"\n')
    _write(tmp_path, f"f{MAX_INCLUDE_DEPTH + 2}.rules", HEADER)
    with pytest.raises(RulesError) as caught:
        load_rules(tmp_path / "f0.rules")
    assert [e.code for e in caught.value.errors] == ["E023"]


def test_include_must_name_a_rules_file(tmp_path: Path) -> None:
    main = _write(tmp_path, "main.rules", HEADER + 'include "notes.txt"\n')
    with pytest.raises(RulesError) as caught:
        load_rules(main)
    assert [e.code for e in caught.value.errors] == ["E020"]


def test_include_of_a_directory_is_not_read(tmp_path: Path) -> None:
    (tmp_path / "sub.rules").mkdir()
    main = _write(tmp_path, "main.rules", HEADER + 'include "sub.rules"\n')
    with pytest.raises(RulesError) as caught:
        load_rules(main)
    assert [e.code for e in caught.value.errors] == ["E001"]


def test_subdirectory_include_and_its_own_confinement(tmp_path: Path) -> None:
    _write(tmp_path, "top.rules", HEADER + TECHNIQUE.format(name="top"))
    _write(tmp_path, "lib/inner.rules", HEADER + 'include "../top.rules"\n')
    main = _write(tmp_path, "main.rules", HEADER + 'include "lib/inner.rules"\n')
    with pytest.raises(RulesError) as caught:
        load_rules(main)
    (error,) = caught.value.errors
    assert (error.code, Path(error.file).name) == ("E021", "inner.rules")


def test_good_files_load_with_expected_warnings() -> None:
    ruleset = load_rules(GOOD)
    assert [w.code for w in ruleset.warnings] == ["W001"]  # int8_dynamic is left to plan search
