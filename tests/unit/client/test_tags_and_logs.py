"""Tag validation and log-line parsing (no store needed)."""

from __future__ import annotations

import datetime as dt

import pytest

from stepwell.client import TagError
from stepwell.client._logs import log_lines
from stepwell.client._tags import MAX_TAG_LENGTH, check_tag, check_tags


@pytest.mark.parametrize("good", ["a", "user:ada", "x" * MAX_TAG_LENGTH, "ünï ✓", "a b"])
def test_valid_tags(good: str) -> None:
    assert check_tag(good) == good


@pytest.mark.parametrize(
    ("bad", "reason"),
    [("", "empty"), (" \t", "empty"), ("x" * (MAX_TAG_LENGTH + 1), "limit is 512"),
     ("a\nb", "control"), ("a\x7fb", "control"), ("\x1b[31mred", "control"),
     (b"bytes", "expected a string"), (3, "expected a string")],
)  # fmt: skip
def test_invalid_tags(bad: object, reason: str) -> None:
    with pytest.raises(TagError, match=reason):
        check_tag(bad)


def test_check_tags_dedupes_and_refuses_a_bare_string() -> None:
    assert check_tags(["b", "a", "b"]) == ["b", "a"]
    with pytest.raises(TagError, match="not the string"):
        check_tags("ab")


def test_log_lines_parse_timestamps() -> None:
    raw = (
        b"2024-05-01T12:00:00.123456Z hello world\n"
        b"2024-05-01T12:00:01.000000Z \n"
        b"not a timestamp line\n"
    )
    lines = list(log_lines(raw))
    utc = dt.timezone.utc
    assert lines == [
        (dt.datetime(2024, 5, 1, 12, 0, 0, 123456, tzinfo=utc), "hello world"),
        (dt.datetime(2024, 5, 1, 12, 0, 1, tzinfo=utc), ""),
        (None, "not a timestamp line"),
    ]
    assert list(log_lines(b"")) == []
