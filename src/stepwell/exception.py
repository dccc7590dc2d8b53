"""Metaflow's exception names, for flows and scripts moving from ``metaflow.exception``.

Each name is stepwell's own error class under the name Metaflow gives it, so
``except MetaflowNotFound`` catches what stepwell raises for a missing run,
and ``from stepwell.exception import MetaflowException`` works once the import
changes. Where Metaflow has an error stepwell never raises, a small subclass
of :class:`~stepwell.exceptions.StepwellError` stands in. stepwell's own code
raises the classes of :mod:`stepwell.exceptions`; this module only names them.

Example:
    >>> from stepwell import Flow
    >>> from stepwell.exception import MetaflowNotFound
    >>> try:
    ...     Flow("NoSuchFlow")
    ... except MetaflowNotFound:
    ...     pass
"""

from __future__ import annotations

from stepwell.client._errors import InvalidPathspecError, NamespaceMismatchError, TagError
from stepwell.exceptions import (
    BlobNotFoundError,
    CaughtException,
    ConfigError,
    DecoratorError,
    ExecutorError,
    InternalError,
    MergeConflictError,
    MergeMissingError,
    NotFoundError,
    ParameterError,
    StepwellError,
)

MetaflowException = StepwellError
MetaflowNotFound = NotFoundError
MetaflowNamespaceMismatch = NamespaceMismatchError
MetaflowInvalidPathspec = InvalidPathspecError
MetaflowInternalError = InternalError
MetaflowTaggingError = TagError
MetaflowDataMissing = BlobNotFoundError
InvalidDecoratorAttribute = DecoratorError
ParameterFieldFailed = ParameterError
ParameterFieldTypeMismatch = ParameterError
UnhandledInMergeArtifactsException = MergeConflictError
MissingInMergeArtifactsException = MergeMissingError
MetaflowExceptionWrapper = CaughtException
#: ``card get`` / ``get_cards`` on a task without that card raise NotFoundError.
CardNotPresentException = NotFoundError
ExternalCommandFailed = ExecutorError


class MetaflowUnknownUser(ConfigError):
    """No user name could be found for the run (set USER or STEPWELL_USER)."""

    headline = "Unknown user"


class CommandException(StepwellError):
    """A command line used wrongly."""

    headline = "Invalid command"


__all__ = [
    "CardNotPresentException",
    "CommandException",
    "ExternalCommandFailed",
    "InvalidDecoratorAttribute",
    "MetaflowDataMissing",
    "MetaflowException",
    "MetaflowExceptionWrapper",
    "MetaflowInternalError",
    "MetaflowInvalidPathspec",
    "MetaflowNamespaceMismatch",
    "MetaflowNotFound",
    "MetaflowTaggingError",
    "MetaflowUnknownUser",
    "MissingInMergeArtifactsException",
    "ParameterFieldFailed",
    "ParameterFieldTypeMismatch",
    "UnhandledInMergeArtifactsException",
]
