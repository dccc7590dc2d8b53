"""Artifact sets: saving a task's values together, and loading them lazily."""

from __future__ import annotations

import json
import pathlib
import threading

import numpy as np
import pandas as pd
import pytest
from store_doubles import CountingStorage

from stepwell.exceptions import CorruptBlobError, SerializationError
from stepwell.store import (
    ArtifactRef,
    ArtifactSet,
    ContentStore,
    LocalStorage,
    load_artifact,
    save_artifacts,
)

TASK = "task TrainFlow/12/train/3"


@pytest.fixture
def counting(tmp_path: pathlib.Path) -> CountingStorage:
    return CountingStorage(LocalStorage(tmp_path / "store"))


def test_save_artifacts_records_how_each_value_was_stored(store: ContentStore) -> None:
    values = {"alpha": 0.5, "weights": np.zeros(1000), "table": pd.DataFrame({"a": [1]})}
    refs = save_artifacts(store, values)
    assert set(refs) == set(values)
    assert (refs["alpha"].serializer, refs["alpha"].type_name) == ("pickle", "builtins.float")
    weights = refs["weights"]
    assert (weights.serializer, weights.size) == ("numpy", 8000)
    assert weights.meta == {"dtype": "<f8", "shape": [1000], "fortran": False}
    assert refs["table"].serializer == "arrow"
    assert refs["alpha"].inline is not None and not store.exists(refs["alpha"].key)
    assert refs["weights"].inline is None and store.exists(refs["weights"].key)


def test_small_values_travel_inline_and_load_without_the_store(
    store: ContentStore, local: LocalStorage
) -> None:
    refs = save_artifacts(store, {"n": 7, "word": "x" * 100, "big": "y" * 5000})
    assert list(local.list("objects/")) == [ContentStore.object_key(refs["big"].key)]
    again = {k: ArtifactRef.from_dict(json.loads(json.dumps(r.to_dict()))) for k, r in refs.items()}
    assert load_artifact(store, again["n"]) == 7
    assert load_artifact(store, again["word"]) == "x" * 100
    assert load_artifact(store, again["big"]) == "y" * 5000
    assert refs["n"].key == save_artifacts(store, {"n": 7}, inline_bytes=0)["n"].key


def test_a_tampered_inline_payload_is_detected(store: ContentStore) -> None:
    import base64

    from stepwell.exceptions import CorruptBlobError

    ref = save_artifacts(store, {"n": 7})["n"]
    other = save_artifacts(store, {"n": 8})["n"]
    forged = ref._replace(meta={**ref.meta, "inline": other.meta["inline"]})
    assert base64.b64decode(forged.meta["inline"]) != ref.inline
    with pytest.raises(CorruptBlobError, match=ref.key):
        load_artifact(store, forged, context=TASK)


def test_equal_values_share_one_blob(store: ContentStore, local: LocalStorage) -> None:
    values = {"a": [1, 2, 3], "b": [1, 2, 3], "c": np.arange(5)}
    refs = save_artifacts(store, values, inline_bytes=0)
    assert refs["a"].key == refs["b"].key
    assert len(list(local.list("objects/"))) == 2


def test_refs_survive_a_json_round_trip(store: ContentStore) -> None:
    refs = save_artifacts(store, {"m": np.ones((2, 3), order="F")})
    again = ArtifactRef.from_dict(json.loads(json.dumps(refs["m"].to_dict())))
    assert again == refs["m"]
    np.testing.assert_array_equal(load_artifact(store, again), np.ones((2, 3)))


def test_an_unserializable_value_names_the_artifact_and_writes_nothing(
    store: ContentStore, local: LocalStorage
) -> None:
    with pytest.raises(SerializationError, match=r"Artifact 'lock'.*_thread\.lock") as caught:
        save_artifacts(store, {"fine": 1, "lock": threading.Lock()})
    assert caught.value.fields["artifact"] == "lock"
    assert list(local.list()) == []


def test_artifact_set_reads_nothing_until_asked(counting: CountingStorage) -> None:
    with ContentStore(counting) as store:
        refs = save_artifacts(store, {"x": list(range(10)), "y": np.arange(100_000)})
        counting.calls.clear()
        artifacts = ArtifactSet(store, refs, context=TASK)
        assert sorted(artifacts) == ["x", "y"] and len(artifacts) == 2 and "x" in artifacts
        assert artifacts.ref("y") == refs["y"]
        assert counting.reads() == 0
        assert artifacts["x"] == list(range(10))
        assert artifacts.is_loaded("x") and not artifacts.is_loaded("y")
        reads_for_x = counting.reads()
        assert artifacts["x"] == list(range(10))  # cached
        assert counting.reads() == reads_for_x
        np.testing.assert_array_equal(artifacts["y"], np.arange(100_000))
        with pytest.raises(KeyError):
            artifacts["z"]


def test_a_corrupt_artifact_names_the_artifact_and_task(
    store: ContentStore, local: LocalStorage
) -> None:
    refs = save_artifacts(store, {"model": {"coef": list(range(1000))}})
    key = refs["model"].key
    path = local.root / "objects" / key[:2] / key[2:]
    data = bytearray(path.read_bytes())
    data[-1] ^= 1
    path.write_bytes(bytes(data))
    artifacts = ArtifactSet(store, refs, context=TASK)
    with pytest.raises(CorruptBlobError) as caught:
        artifacts["model"]
    message = str(caught.value)
    assert key in message
    assert "artifact 'model' of task TrainFlow/12/train/3" in message


def test_a_value_that_no_longer_loads_is_a_serialization_error(store: ContentStore) -> None:
    refs = save_artifacts(store, {"frame": pd.DataFrame({"a": [1, 2]})}, inline_bytes=0)
    broken = ArtifactRef(refs["frame"].key, "numpy", "pandas.DataFrame", 1, {"dtype": "<f8"})
    with pytest.raises(SerializationError, match=r"artifact 'frame'.*pandas\.DataFrame"):
        load_artifact(store, broken, context="artifact 'frame'")
