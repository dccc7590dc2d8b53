"""stepwell.store's public names are exactly its __all__."""

from __future__ import annotations

import stepwell.store


def test_all_lists_every_public_name_and_only_those() -> None:
    public = {name for name in vars(stepwell.store) if not name.startswith("_")}
    assert sorted(stepwell.store.__all__) == stepwell.store.__all__
    assert set(stepwell.store.__all__) == public
