"""The traceback a failed step shows: the user's frames, none of stepwell's."""

from __future__ import annotations

import os

from stepwell.runtime._task import _STEPWELL_DIR, format_user_traceback


def _raise_from(filename: str, source: str) -> BaseException:
    """Run ``source`` as if it were the file ``filename``; return what it raised."""
    try:
        exec(compile(source, filename, "exec"), {})
    except BaseException as exc:  # the test wants whatever was raised
        return exc
    raise AssertionError("the code did not raise")


BOOM = "def boom():\n    raise ValueError('bad value 42')\n\nboom()\n"


def test_user_frames_are_kept_and_stepwell_frames_trimmed() -> None:
    user = _raise_from("/home/me/flows/my_flow.py", BOOM)
    text = format_user_traceback(user)
    assert text.startswith("Traceback (most recent call last):\n")
    assert 'File "/home/me/flows/my_flow.py", line 2, in boom' in text
    assert 'File "/home/me/flows/my_flow.py", line 4, in <module>' in text
    assert text.endswith("ValueError: bad value 42\n")

    inside = _raise_from(f"{_STEPWELL_DIR}/runtime/_fake.py", BOOM)
    trimmed = format_user_traceback(inside)
    assert "_fake.py" not in trimmed
    assert trimmed.endswith("ValueError: bad value 42\n")


def test_a_user_package_whose_name_starts_with_stepwell_is_not_trimmed() -> None:
    filename = f"{_STEPWELL_DIR.rstrip(os.sep)}_flows/my_flow.py"
    text = format_user_traceback(_raise_from(filename, BOOM))
    assert f'File "{filename}", line 2, in boom' in text


def test_the_cause_of_a_chained_exception_is_shown() -> None:
    source = (
        "try:\n"
        "    {}['missing']\n"
        "except KeyError as err:\n"
        "    raise RuntimeError('could not load the config') from err\n"
    )
    text = format_user_traceback(_raise_from("/home/me/flows/my_flow.py", source))
    assert "KeyError: 'missing'" in text
    assert "direct cause" in text
    assert text.endswith("RuntimeError: could not load the config\n")
