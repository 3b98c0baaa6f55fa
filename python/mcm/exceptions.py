"""The one exception hierarchy of mcm. The CLI maps these to messages and exit codes; nothing else should escape."""

from __future__ import annotations


class McmError(Exception):
    """Root of every error mcm raises on purpose."""

    #: Exit status the CLI uses for this error (2: bad usage or input).
    exit_code: int = 2


class StatsError(McmError, ValueError):
    """Samples or statistics arguments that cannot be used (empty, NaN, out of range, bad option)."""


class MeasurementError(McmError):
    """A measurement could not be taken or completed."""


class CallableError(MeasurementError):
    """The measured callable raised. ``partial`` holds the report of what was measured before it did."""

    def __init__(self, message: str, partial: object | None = None) -> None:
        super().__init__(message)
        self.partial = partial


__all__ = ["CallableError", "McmError", "MeasurementError", "StatsError"]
