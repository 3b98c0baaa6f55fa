"""Serving cost from a price per instance-hour and a measured throughput.

Per million inferences: ``price_per_hour / 3600 / throughput × 10⁶`` (an instance kept busy). Per day at a given
QPS: whole instances, ``ceil(qps / throughput) × price_per_hour × 24``, with the utilization that implies.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Cost:
    """Cost figures for one price and one throughput (samples/s), optionally at a target QPS."""

    price_per_hour: float
    throughput: float
    qps: float | None = None

    @property
    def per_million(self) -> float:
        return self.price_per_hour / 3600 / self.throughput * 1e6

    @property
    def instances(self) -> int | None:
        return None if self.qps is None else max(1, math.ceil(self.qps / self.throughput))

    @property
    def per_day(self) -> float | None:
        n = self.instances
        return None if n is None else n * self.price_per_hour * 24

    def to_dict(self) -> dict[str, Any]:
        n = self.instances
        return {
            "price_per_hour_usd": self.price_per_hour,
            "throughput_samples_per_s": self.throughput,
            "usd_per_million": self.per_million,
            "qps": self.qps,
            "instances": n,
            "usd_per_day": self.per_day,
            "utilization": None if n is None or self.qps is None else self.qps / (n * self.throughput),
        }


__all__ = ["Cost"]
