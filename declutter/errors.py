"""The one error family the library raises; the CLI turns it into a message and an exit code."""

from __future__ import annotations


class DeclutterError(Exception):
    """Base class of every error declutter raises on purpose.

    ``exit_code`` is what the command line returns for it: 1 for bad data or a bad model,
    2 for a usage mistake (as typer does for bad arguments).
    """

    exit_code: int = 1


class InputError(DeclutterError):
    """An input page, file or record cannot be read or is not text."""


class OutputError(DeclutterError):
    """An output file, folder or standard output cannot be written."""


class ModelError(DeclutterError):
    """A model file is missing, corrupt, foreign or from an incompatible version."""


class TrainingDataError(DeclutterError):
    """Labelled training pages are missing or malformed."""


class UsageError(DeclutterError):
    """Arguments that cannot work together (e.g. an output directory inside the input)."""

    exit_code = 2


class ParameterError(UsageError, ValueError):
    """A parameter outside its range (a threshold, a smoothing cost); also a ``ValueError``."""
