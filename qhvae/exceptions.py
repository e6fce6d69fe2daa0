"""qhvae's exceptions: every error a user can cause or meet, in one place.

Each is a :class:`QhvaeError`, and also the built-in exception it is a case of, so code that
catches ``ValueError`` or ``RuntimeError`` keeps working. The command line maps them to its
exit status; any other exception is a bug in qhvae (or in a library), shown with its
traceback:

============================  =============================================  ===========
class                         what                                           ``qhvae``
============================  =============================================  ===========
:class:`ConfigError`          a bad option, value or sampler configuration   exit 2
:class:`DataError`            a missing, damaged or malformed dataset        exit 2
:class:`UnknownNameError`     an unknown sampler, study or arm name          exit 2
:class:`RunError`             a run directory that cannot be used            exit 2
:class:`TrainingFailed`       training stopped on an error while working     exit 1
:class:`TrainingDiverged`     training stopped at a non-finite loss          exit 3
:class:`SamplerError`         a sampler could not be built or failed         exit 1
============================  =============================================  ===========

Example:
    >>> try:
    ...     raise ConfigError("num_sweeps must be a positive integer, got 0")
    ... except ValueError as exc:  # a ConfigError is a ValueError too
    ...     isinstance(exc, QhvaeError)
    True
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = [
    "QhvaeError",
    "ConfigError",
    "UnknownNameError",
    "DataError",
    "DataNotFoundError",
    "RunError",
    "TrainingFailed",
    "TrainingDiverged",
    "SamplerError",
    "SamplerOutputError",
    "SamplerTimeoutError",
    "QPUError",
]


class QhvaeError(Exception):
    """The base of every error qhvae raises on purpose, worded for users."""


class ConfigError(QhvaeError, ValueError):
    """A bad option or value: an unknown name, a number out of range, options that conflict."""


class UnknownNameError(ConfigError, KeyError):
    """A name qhvae does not know: a sampler, a study, an arm; the message lists the known ones.

    A ``KeyError`` too (a lookup that failed), whose ``str`` is the message itself rather than
    its quoted repr.
    """

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


class DataError(QhvaeError, ValueError):
    """A dataset that cannot be used: not found, damaged, or not images the model takes."""


class DataNotFoundError(DataError, FileNotFoundError):
    """A dataset whose files are nowhere qhvae looked; the message lists where it looked."""


class RunError(QhvaeError):
    """A problem with a run (its directory, configuration or data), worded for users."""


class TrainingDiverged(RunError):
    """Training stopped at a non-finite loss; the run keeps its last finite checkpoint.

    Attributes:
        run_dir: the run directory.
    """

    def __init__(self, message: str, run_dir: str | os.PathLike):
        super().__init__(message)
        self.run_dir = Path(run_dir)


class TrainingFailed(RunError):
    """Training stopped on an error while working (a sampler, the disk), not on a bad setting.

    The run keeps its last checkpoint and ``progress.json`` says ``failed`` with the error;
    ``qhvae train --resume`` continues once the cause is fixed.
    """


class SamplerError(QhvaeError, RuntimeError):
    """A sampler could not be built or failed while sampling."""


class SamplerOutputError(SamplerError):
    """A sampler returned something that is not a valid set of binary samples."""


class SamplerTimeoutError(SamplerError):
    """A sampler call took longer than its ``call_timeout``."""


class QPUError(SamplerError):
    """The QPU could not be reached or refused the problem."""
