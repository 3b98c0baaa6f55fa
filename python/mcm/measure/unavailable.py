"""A measurement that could not be taken, with the reason (reports say "unavailable: <reason>", never 0)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Unavailable:
    """Why a value is missing: no counter, no GPU, no data, not asked for."""

    reason: str

    def __str__(self) -> str:
        return f"unavailable: {self.reason}"

    def to_dict(self) -> dict[str, str]:
        return {"unavailable": self.reason}


__all__ = ["Unavailable"]
