"""The one exception hierarchy of mcm. The CLI maps these to messages and exit codes; nothing else should escape."""

from __future__ import annotations

from collections.abc import Sequence
from enum import IntEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mcm.rules.errors import Diagnostic


class ExitStatus(IntEnum):
    """What every command (each `mcm` verb, `mcm-tui`) exits with; :data:`EXIT_STATUS_HELP` says it to users."""

    OK = 0
    NOT_MET = 1
    BAD_INPUT = 2
    UNDECIDED = 3
    INTERNAL_ERROR = 70
    INTERRUPTED = 130
    BROKEN_PIPE = 141
    TERMINATED = 143


#: The exit statuses as every command's ``--help`` shows them.
EXIT_STATUS_HELP = """\
exit status:
  0    success: the constraints hold
  1    constraints not met (mcm rules: a test failed or lint warned)
  2    bad input: usage, arguments, files, rules
  3    undecided (mcm advise): no plan meets the constraints on the facts given, but one would with facts or
       measurements not given (JSON "undecided" lists them): give them to decide
  70   internal error: one line, the traceback in a private file (--debug shows it instead)
  130  interrupted (SIGINT, Ctrl-C): cleaned up; mcm measure keeps a partial report
  141  the reader of the output went away (a closed pipe, as `mcm ... | head`)
  143  terminated (SIGTERM): as 130"""


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised in the main thread by the command-line entry points. A KeyboardInterrupt, so that every
    cleanup and partial report that Ctrl-C gets, SIGTERM gets too; the exit status tells them apart (143, not 130)."""


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
    "EXIT_STATUS_HELP",
    "AdviceError",
    "CallableError",
    "ExitStatus",
    "FactsError",
    "InputError",
    "McmError",
    "MeasurementError",
    "ModelError",
    "OptimizeError",
    "RulesError",
    "StatsError",
    "Terminated",
    "UnitError",
    "UnknownMetricError",
]
