"""The Pareto front of measured candidates: none of them is beaten on every objective at once."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

#: metric → True when higher is better.
OBJECTIVES: Mapping[str, bool] = {"speed_x": True, "model_size_mb": False, "accuracy": True}


def front(points: Sequence[Mapping[str, float]], objectives: Mapping[str, bool] = OBJECTIVES) -> list[int]:
    """Indices of the points no other point dominates (at least as good everywhere, better somewhere)."""

    def key(p: Mapping[str, float]) -> list[float]:
        return [p.get(m, float("nan")) * (1 if up else -1) for m, up in objectives.items()]

    keys = [key(p) for p in points]
    return [
        i
        for i, a in enumerate(keys)
        if not any(
            all(x >= y for x, y in zip(b, a, strict=True)) and any(x > y for x, y in zip(b, a, strict=True))
            for j, b in enumerate(keys)
            if j != i
        )
    ]
