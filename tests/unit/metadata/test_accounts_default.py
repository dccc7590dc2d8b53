"""A metadata store that keeps no accounts says so clearly."""

from __future__ import annotations

import pytest

from stepwell.exceptions import MetadataError
from stepwell.metadata import MetadataStore


class NoAccountsStore(MetadataStore):
    """A store implementing nothing: only the interface's defaults are called."""


NoAccountsStore.__abstractmethods__ = frozenset()


@pytest.mark.parametrize(
    "call",
    [
        lambda s: s.new_token("ada"),
        lambda s: s.list_tokens(),
        lambda s: s.revoke_token("abc"),
        lambda s: s.check_token("swt_x"),
        lambda s: s.has_tokens(),
    ],
    ids=["new_token", "list_tokens", "revoke_token", "check_token", "has_tokens"],
)
def test_account_methods_default_to_a_clear_error(call) -> None:
    with pytest.raises(MetadataError, match=r"NoAccountsStore\) keeps no accounts"):
        call(NoAccountsStore())
