"""The one exception hierarchy of mcm. The CLI maps these to messages and exit codes; nothing else should escape."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mcm.rules.errors import Diagnostic


class McmError(Exception):
    """Root of every error mcm raises on purpose."""

    #: Exit status the CLI uses for this error (2: bad usage or input).
    exit_code: int = 2
    #: What to do about it, shown under the message.
    hint: str | None = None


class StatsError(McmError, ValueError):
    """Samples or statistics arguments that cannot be used (empty, NaN, out of range, bad option)."""


class MeasurementError(McmError):
    """A measurement could not be taken or completed."""


class CallableError(MeasurementError):
    """The measured callable raised. ``partial`` holds the report of what was measured before it did."""

    def __init__(self, message: str, partial: object | None = None) -> None:
        super().__init__(message)
        self.partial = partial


class ModelError(MeasurementError):
    """A model that cannot be loaded: missing, corrupt, an unsupported format, or refused as unsafe to load."""


class InputError(MeasurementError, ValueError):
    """Inputs that do not fit the model (shape, dtype, names, batch size): found before any timing."""


class UnitError(McmError, ValueError):
    """A unit, or a value with a unit, that cannot be used: unknown unit, or one that does not fit the metric."""

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.hint = hint


class UnknownMetricError(McmError, LookupError):
    """A metric name that is not in the catalogue; ``hint`` says which names come close."""

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.hint = hint


class RulesError(McmError):
    """Rules text that cannot be used. ``diagnostics`` holds every problem found (errors and warnings)."""

    def __init__(self, diagnostics: Sequence[Diagnostic]) -> None:
        self.diagnostics: tuple[Diagnostic, ...] = tuple(diagnostics)
        super().__init__("\n".join(d.render() for d in self.diagnostics))

    @property
    def errors(self) -> tuple[Diagnostic, ...]:
        """The diagnostics of severity ``error`` (a RulesError may carry warnings too)."""
        return tuple(d for d in self.diagnostics if d.severity == "error")


class FactsError(McmError, ValueError):
    """Facts or constraints given to the advisor that cannot be used: unknown name, wrong type, bad value."""

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.hint = hint


class AdviceError(McmError):
    """A request the engine cannot answer as asked (unknown or ambiguous scenario, a condition that cannot run)."""

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.hint = hint


class OptimizeError(McmError):
    """A technique that cannot be applied as asked (a requirement missing, a model type it cannot take), or an
    optimization run that cannot write its results."""

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.hint = hint


__all__ = [
    "AdviceError",
    "CallableError",
    "FactsError",
    "InputError",
    "McmError",
    "MeasurementError",
    "ModelError",
    "OptimizeError",
    "RulesError",
    "StatsError",
    "UnitError",
    "UnknownMetricError",
]
