"""stepwell.store's public names are exactly its __all__, each imported on first use."""

from __future__ import annotations

import stepwell.store


def test_all_lists_every_public_name_and_only_those() -> None:
    assert sorted(stepwell.store.__all__) == stepwell.store.__all__
    assert set(stepwell.store.__all__) == set(stepwell.store._LAZY)
    for name in stepwell.store.__all__:
        assert getattr(stepwell.store, name) is not None, name
    public = {name for name in vars(stepwell.store) if not name.startswith("_")}
    assert public - {"TYPE_CHECKING", "annotations", "lazy_attributes"} == set(
        stepwell.store.__all__
    )
