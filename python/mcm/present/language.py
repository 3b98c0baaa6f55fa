"""The display language and the names of metrics in it."""

from __future__ import annotations

import os
from typing import Literal

from mcm import metrics
from mcm.sanitize import inline

Lang = Literal["en", "zh"]


def default_lang() -> Lang:
    """Chinese when the locale (``LC_ALL``, ``LC_MESSAGES``, ``LANG``) says so, else English."""
    lang = os.environ.get("LC_ALL") or os.environ.get("LC_MESSAGES") or os.environ.get("LANG") or ""
    return "zh" if lang.lower().startswith("zh") else "en"


def label(metric: str, lang: Lang) -> str:
    """The metric's name for people (``latency_ms`` → "Latency (mean)" / "延迟"); an unknown name (from a file or
    an argument) is shown as written, through :func:`mcm.sanitize.inline`."""
    m = metrics.get(metric)
    if m is None:
        return inline(metric)
    return m.zh if lang == "zh" else m.en
