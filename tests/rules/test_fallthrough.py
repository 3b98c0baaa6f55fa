"""Under policy first, a rule whose techniques all have requirements can fall through: the rules after it are
reachable, and the checker must not call them unreachable (E050)."""

from __future__ import annotations

import pytest

from mcm.exceptions import RulesError
from mcm.rules import load_text

TEMPLATE = """mcm rules 1
scenario s {{ core latency_ms
  require latency_ms < 5 ms }}
technique trt "T" {{ effect latency_ms /= 2
  {requires} }}
technique q "Q" {{ effect latency_ms /= 2 }}
decide for s policy first {{
  rule a: when measured.latency_ms > 1 ms then recommend trt because "x"
  rule b: when measured.latency_ms > 2 ms then recommend q because "y"
}}
"""


def test_a_rule_after_one_that_can_fall_through_is_reachable() -> None:
    load_text(TEMPLATE.format(requires="requires env.nvidia_gpu"), "t.rules")


def test_a_rule_after_one_that_always_applies_is_unreachable() -> None:
    with pytest.raises(RulesError) as info:
        load_text(TEMPLATE.format(requires=""), "t.rules")
    assert [d.code for d in info.value.errors] == ["E050"]
