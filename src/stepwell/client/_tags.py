"""Tag values: what a valid tag is."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable

from stepwell.client._errors import TagError

MAX_TAG_LENGTH = 512

#: Prefixes of the system tags stepwell sets. A user tag may not take one: it would
#: pass for a system tag (``user:<name>`` would even put the run in that user's namespace).
SYSTEM_TAG_PREFIXES = (
    "user:",
    "runtime:",
    "python_version:",
    "stepwell_version:",
    "project:",
    "project_branch:",
)


def check_tag(tag: object, *, what: str = "tag") -> str:
    """``tag`` if it is a non-empty string of at most 512 characters without control characters."""
    if not isinstance(tag, str):
        raise TagError(f"Invalid {what} {tag!r}: expected a string, not {type(tag).__name__}.")
    if not tag.strip():
        raise TagError(f"Invalid {what} {tag!r}: it must not be empty or blank.")
    if len(tag) > MAX_TAG_LENGTH:
        raise TagError(
            f"Invalid {what} {tag[:40]!r}...: it has {len(tag)} characters; "
            f"the limit is {MAX_TAG_LENGTH}."
        )
    bad = [ch for ch in tag if unicodedata.category(ch) == "Cc"]
    if bad:
        raise TagError(
            f"Invalid {what} {tag!r}: it contains the control character {bad[0]!r}. "
            "Tags are printable text."
        )
    return tag


def check_tags(tags: Iterable[str], *, what: str = "tag") -> list[str]:
    if isinstance(tags, str):
        raise TagError(
            f"Expected a list of {what}s, not the string {tags!r}. "
            f"Pass [{tags!r}] (or use the singular method)."
        )
    return list(dict.fromkeys(check_tag(t, what=what) for t in tags))


def check_new_user_tags(tags: Iterable[str]) -> list[str]:
    """Tags to add as user tags: valid, and not shaped like a system tag."""
    checked = check_tags(tags)
    for tag in checked:
        if tag.startswith(SYSTEM_TAG_PREFIXES):
            prefix = tag.split(":", 1)[0] + ":"
            raise TagError(
                f"Cannot add the user tag {tag!r}: tags starting with {prefix!r} are system "
                "tags, set by stepwell only (a 'user:' tag decides whose namespace a run is in). "
                f"Reserved prefixes: {', '.join(SYSTEM_TAG_PREFIXES)}.",
                tag=tag,
            )
    return checked
