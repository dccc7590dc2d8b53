"""Task.exception: the recorded traceback text rebuilt as Metaflow's exception object."""

from __future__ import annotations

import pickle

from stepwell.client._exception import TaskException
from stepwell.exceptions import CaughtException

TRACEBACK = (
    "Traceback (most recent call last):\n"
    '  File "/src/train_flow.py", line 12, in train\n'
    "    raise ValueError(f'bad rate {self.rate}')\n"
    "ValueError: bad rate 2.0\n"
)


def test_type_message_and_stacktrace_as_metaflow_shows_them() -> None:
    error = TaskException.from_text(TRACEBACK)
    assert (error.type, error.exception) == ("builtins.ValueError", "bad rate 2.0")
    assert error.stacktrace == TRACEBACK and str(error) == TRACEBACK
    assert "train_flow.py" in error and 12 not in error  # type: ignore[operator]
    assert isinstance(error, CaughtException)  # stepwell.exception.MetaflowExceptionWrapper


def test_a_chained_failure_reports_the_last_exception() -> None:
    text = (
        TRACEBACK
        + "\nThe above exception was the direct cause of the following exception:\n\n"
        + "Traceback (most recent call last):\n"
        + '  File "/src/train_flow.py", line 14, in train\n'
        + "    raise mylib.TrainingError('gave up')\n"
        + "mylib.TrainingError: gave up\n  after 3 tries\n"
    )
    error = TaskException.from_text(text)
    assert (error.type, error.exception) == ("mylib.TrainingError", "gave up\n  after 3 tries")


def test_failures_without_a_python_traceback() -> None:
    crashed = TaskException.from_text("TaskCrashed: the task was killed by SIGKILL.")
    assert (crashed.type, crashed.exception) == ("TaskCrashed", "the task was killed by SIGKILL.")
    bare = TaskException.from_text("KeyboardInterrupt")
    assert (bare.type, bare.exception) == ("builtins.KeyboardInterrupt", "")
    odd = TaskException.from_text("exited with code 3")
    assert (odd.type, odd.exception) == ("builtins.Exception", "exited with code 3")


def test_pickles_with_its_fields() -> None:
    again = pickle.loads(pickle.dumps(TaskException.from_text(TRACEBACK)))
    assert (again.type, again.exception, again.stacktrace) == (
        "builtins.ValueError",
        "bad rate 2.0",
        TRACEBACK,
    )
