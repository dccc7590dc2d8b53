"""Every error stepwell raises on purpose.

A :class:`StepwellError` carries a class-level ``headline`` (what kind of
failure this is), a ``message`` (what failed, the bad value, where it came
from, what is valid, one fix), an optional ``location`` (``file:line`` of the
user's code) and structured ``fields`` for programs. The CLI prints known
errors as headline + location + message, never as a traceback.

Subclasses also inherit the fitting builtin, so ``except ValueError`` keeps
working for callers who do not know stepwell.

The tree::

    StepwellError
    ├── ConfigError (ValueError)            a bad setting or stepwell.toml value
    ├── FlowDefinitionError (TypeError)     a malformed FlowSpec, step or decorator use
    │   ├── DecoratorError                  unknown/invalid decorator attribute
    │   └── LintError                       the static graph is invalid (one or many findings)
    ├── FlowAttributeError (AttributeError) a step assigns a flow-level constant
    ├── ParameterError (ValueError)         a bad or missing flow parameter value
    ├── StorageError (OSError)              the artifact store failed
    │   ├── BlobNotFoundError (KeyError)    a blob key is absent
    │   └── CorruptBlobError                a blob's bytes do not match its hash
    ├── SerializationError (ValueError)     an artifact could not be (de)serialized
    ├── MetadataError                       the metadata store failed or is inconsistent
    │   └── NotFoundError (KeyError)        a flow/run/step/task/artifact does not exist
    ├── RuntimeFlowError (RuntimeError)     the run itself went wrong
    │   ├── TransitionError                 a step's runtime self.next() disagrees with the graph
    │   ├── MergeConflictError              merge_artifacts found conflicting values
    │   │   └── MergeMissingError           merge_artifacts(include=) names what no input has
    │   ├── ForeachError                    a foreach over nothing, too many splits, ...
    │   └── TaskFailedError                 a task failed (carries the user's traceback text)
    ├── ExecutorError (RuntimeError)        an executor could not launch or track a task
    └── InternalError (RuntimeError)        a bug in stepwell itself (please report it)

Metaflow's names for these (``MetaflowException``, ``MetaflowNotFound``, ...)
are aliases kept in :mod:`stepwell.exception`, so ``except MetaflowNotFound``
catches what stepwell raises.
"""

from __future__ import annotations

from typing import Any, ClassVar


class StepwellError(Exception):
    """Base of every error stepwell raises on purpose."""

    headline: ClassVar[str] = "stepwell error"

    def __init__(self, message: str = "", *, location: str | None = None, **fields: Any) -> None:
        super().__init__(message)
        self.message = message
        self.location = location
        self.fields = fields

    def __str__(self) -> str:
        if self.location:
            return f"{self.message}\n  at {self.location}"
        return self.message

    def render(self) -> str:
        """Headline, location and message, as the CLI prints them."""
        lines = [f"{self.headline}: {self.message.splitlines()[0] if self.message else ''}"]
        if self.location:
            lines.append(f"  at {self.location}")
        lines.extend(f"  {line}" for line in self.message.splitlines()[1:])
        return "\n".join(lines)


class ConfigError(StepwellError, ValueError):
    headline = "Invalid configuration"


class FlowDefinitionError(StepwellError, TypeError):
    headline = "Invalid flow"


class DecoratorError(FlowDefinitionError):
    headline = "Invalid decorator"


class LintError(FlowDefinitionError):
    """One or more findings of the graph linter; ``findings`` holds them all."""

    headline = "The flow is not valid"

    def __init__(self, findings: list[Any]) -> None:
        self.findings = list(findings)
        text = "\n".join(str(f) for f in self.findings)
        count = len(self.findings)
        plural = "s" if count != 1 else ""
        super().__init__(f"{count} problem{plural} found.\n{text}")

    def render(self) -> str:
        return f"{self.headline}: {self.message}"


class FlowAttributeError(StepwellError, AttributeError):
    headline = "Flow attribute not modifiable"


class ParameterError(StepwellError, ValueError):
    headline = "Invalid parameter"


class StorageError(StepwellError, OSError):
    headline = "Artifact store error"


class BlobNotFoundError(StorageError, KeyError):
    headline = "Blob not found"

    def __str__(self) -> str:  # KeyError would otherwise repr() the message
        return StepwellError.__str__(self)


class CorruptBlobError(StorageError):
    headline = "Corrupt blob"


class SerializationError(StepwellError, ValueError):
    headline = "Artifact serialization failed"


class MetadataError(StepwellError):
    headline = "Metadata store error"


class NotFoundError(MetadataError, KeyError):
    headline = "Not found"

    def __str__(self) -> str:
        return StepwellError.__str__(self)


class RuntimeFlowError(StepwellError, RuntimeError):
    headline = "Run failed"


class TransitionError(RuntimeFlowError):
    headline = "Invalid transition"


class MergeConflictError(RuntimeFlowError):
    headline = "Conflicting artifacts in merge_artifacts"


class MergeMissingError(MergeConflictError):
    headline = "Missing artifacts in merge_artifacts"


class ForeachError(RuntimeFlowError):
    headline = "Invalid foreach"


class TaskFailedError(RuntimeFlowError):
    headline = "Task failed"


class ExecutorError(StepwellError, RuntimeError):
    headline = "Executor error"


class InternalError(StepwellError, RuntimeError):
    headline = "Internal error"


def _excepthook(kind: type[BaseException], value: BaseException, tb: Any) -> None:
    if isinstance(value, StepwellError):
        import sys

        print(value.render(), file=sys.stderr)
    else:
        _previous_hook(kind, value, tb)


_previous_hook: Any = None


def render_if_uncaught() -> None:
    """Print a StepwellError that ends the program as headline + location, not a traceback.

    Called where a flow file can fail while Python executes it (a bad decorator
    or parameter in the class body), before stepwell's CLI can catch anything.
    """
    import sys

    global _previous_hook
    if sys.excepthook is not _excepthook:
        _previous_hook = sys.excepthook
        sys.excepthook = _excepthook


class CaughtException(Exception):
    """What ``@catch(var=...)`` stores when a step failed after its last retry.

    Plain data that pickles anywhere: the failure's type name, message and
    traceback text (a task killed by a signal has no Python exception, only a
    message). ``str()`` gives ``"TypeName: message"``.
    """

    def __init__(self, exception_type: str, message: str, traceback: str = "") -> None:
        super().__init__(exception_type, message, traceback)
        self.exception_type = exception_type
        self.message = message
        self.traceback = traceback

    def __str__(self) -> str:
        return f"{self.exception_type}: {self.message}"


class RunStopped(BaseException):
    """The run's process got SIGTERM (or SIGHUP): its tasks are stopped, the run recorded so.

    A BaseException, like KeyboardInterrupt: it ends the scheduler's loop wherever it is.
    """

    def __init__(self, signum: int) -> None:
        import signal

        self.signal_name = signal.Signals(signum).name
        self.exit_code = 128 + signum
        super().__init__(f"stopped by {self.signal_name}")
