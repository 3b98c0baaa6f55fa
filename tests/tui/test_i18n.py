"""Every UI string the TUI asks for exists, in English and in Chinese."""

from __future__ import annotations

import re
from pathlib import Path

from mcm.tui import i18n

TUI = Path(i18n.__file__).parent
LITERAL_KEY = re.compile(r"""\b(?:t|tr)\(\s*["']([a-z_]+\.[a-z_.]*[a-z_])["']\s*[,)]""")


def test_every_key_asked_for_is_in_the_table() -> None:
    asked = {key for path in TUI.rglob("*.py") for key in LITERAL_KEY.findall(path.read_text("utf-8"))}
    assert len(asked) > 40  # the scan finds the calls
    assert asked <= i18n.all_keys(), sorted(asked - i18n.all_keys())


def test_every_string_has_both_languages() -> None:
    for key in i18n.all_keys():
        en, zh = i18n.t(key, "en"), i18n.t(key, "zh")
        assert en.strip() and zh.strip(), key
