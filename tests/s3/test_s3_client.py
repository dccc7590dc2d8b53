"""stepwell.S3 against a real S3-compatible server (moto on 127.0.0.1): every method, end to end."""

from __future__ import annotations

import hashlib
import io
import os
import threading
import warnings
from pathlib import Path

import pytest

from stepwell import S3, S3GetObject, S3PutObject
from stepwell.data import S3Error, S3NotFound, S3UrlError
from stepwell.data import _transfer as transfer
from stepwell.exceptions import NotFoundError
from stepwell.flow import CurrentInfo, FlowSpec, use_current
from stepwell.testing.s3server import S3Server


@pytest.fixture
def root(
    s3_server: S3Server, s3_bucket: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> str:
    """``s3://<fresh bucket>/prefix``, the endpoint in the environment, cwd in a temp dir."""
    monkeypatch.setenv("STEPWELL_S3_ENDPOINT_URL", s3_server.endpoint_url)
    monkeypatch.chdir(tmp_path)
    return f"s3://{s3_bucket}/prefix"


# -- put / get ------------------------------------------------------------------------------
def test_put_and_get_one_object(root: str) -> None:
    with S3(s3root=root) as s3:
        url = s3.put("fruit", "pineapple")
        assert url == f"{root}/fruit"
        obj = s3.get("fruit")
        assert (obj.url, obj.key, obj.prefix) == (url, "fruit", root)
        assert obj.exists and obj.downloaded and obj.has_info
        assert obj.size == 9 and obj.blob == b"pineapple" and obj.text == "pineapple"
        assert obj.path is not None and Path(obj.path).read_bytes() == b"pineapple"
        assert obj.metadata is None
        assert obj.range_info == (9, 0, 9)
        assert isinstance(obj.last_modified, int) and obj.last_modified > 1_600_000_000
        assert repr(obj) == f"<S3Object {url} (9 bytes)>"


def test_full_urls_work_without_a_root(root: str) -> None:
    with S3() as s3:
        s3.put(f"{root}/a.bin", b"\x00\x01")
        obj = s3.get(f"{root}/a.bin")
        assert obj.blob == b"\x00\x01" and obj.key == f"{root}/a.bin" and obj.prefix is None
    with S3(s3root=root) as s3:  # a full URL also works under a root
        assert s3.get(f"{root}/a.bin").blob == b"\x00\x01"


def test_bucket_and_prefix_form_the_root(root: str, s3_bucket: str) -> None:
    with S3(bucket=s3_bucket, prefix="/prefix/sub/") as s3:
        assert s3.put("k", "v") == f"{root}/sub/k"
    with S3(s3root=f"{root}/sub") as s3:
        assert s3.get("k").text == "v"


def test_content_type_and_metadata_round_trip(root: str) -> None:
    meta = {"author": "ana", "rows": 3, "tags": ["a", "b"], "CaseKept": True}
    with S3(s3root=root) as s3:
        s3.put("doc.json", '{"x": 1}', content_type="application/json", metadata=meta)
        for obj in (s3.get("doc.json"), s3.info("doc.json")):
            assert obj.content_type == "application/json"
            assert obj.metadata == meta
        s3.put_many([S3PutObject("p", value=b"1", content_type="text/csv", metadata={"n": 1})])
        s3.put_files([S3PutObject("f", path=_file(Path("f.txt"), b"2"), metadata={"m": 2})])
        assert (s3.info("p").content_type, s3.info("p").metadata) == ("text/csv", {"n": 1})
        assert s3.get("f").metadata == {"m": 2}


def test_return_info_false_leaves_info_out(root: str) -> None:
    with S3(s3root=root) as s3:
        s3.put("k", "v", content_type="text/plain", metadata={"a": 1})
        obj = s3.get("k", return_info=False)
        assert obj.text == "v" and obj.size == 1 and not obj.has_info
        assert (obj.content_type, obj.metadata, obj.range_info, obj.last_modified) == ((None,) * 4)


def test_put_rejects_other_types(root: str) -> None:
    with S3(s3root=root) as s3, pytest.raises(TypeError, match="Serialize it first"):
        s3.put("k", {"a": 1})  # type: ignore[arg-type]


def test_put_accepts_an_s3putobject_as_key(root: str) -> None:
    with S3(s3root=root) as s3:
        url = s3.put(S3PutObject("k", value="hello", content_type="text/plain"))
        assert url == f"{root}/k"
        assert s3.get("k").content_type == "text/plain"


# -- overwrite=False ------------------------------------------------------------------------
def test_overwrite_false_keeps_existing_objects(root: str, tmp_path: Path) -> None:
    with S3(s3root=root) as s3:
        s3.put("a", "first")
        assert s3.put("a", "second", overwrite=False) == f"{root}/a"
        assert s3.get("a").text == "first"
        result = s3.put_many([("a", "third"), ("b", "new")], overwrite=False)
        assert result == [("a", f"{root}/a"), ("b", f"{root}/b")]
        assert [o.text for o in s3.get_many(["a", "b"])] == ["first", "new"]
        s3.put_files([("a", _file(tmp_path / "x", b"fourth"))], overwrite=False)
        assert s3.get("a").text == "first"
        s3.put("a", "fifth")  # overwrite=True (the default) replaces
        assert s3.get("a").text == "fifth"


def test_overwrite_false_keeps_a_large_object(root: str, tmp_path: Path) -> None:
    big = _file(tmp_path / "big", os.urandom(transfer.MULTIPART_BYTES + 1))
    with S3(s3root=root) as s3:
        s3.put("big", "small")
        s3.put_files([("big", big)], overwrite=False)
        assert s3.get("big").text == "small"


# -- missing objects ------------------------------------------------------------------------
def test_missing_object_raises_not_found(root: str) -> None:
    with S3(s3root=root) as s3:
        with pytest.raises(S3NotFound, match=f"No S3 object at {root}/nope") as caught:
            s3.get("nope")
        assert isinstance(caught.value, KeyError) and isinstance(caught.value, NotFoundError)
        with pytest.raises(S3NotFound):
            s3.info("nope")
        with pytest.raises(S3NotFound):
            s3.get_many(["nope"])


def test_return_missing_gives_objects_that_do_not_exist(root: str) -> None:
    with S3(s3root=root) as s3:
        s3.put("here", "1")
        here, gone = s3.get_many(["here", "gone"], return_missing=True)
        assert here.exists and here.text == "1"
        assert not gone.exists and not gone.downloaded and gone.key == "gone"
        assert gone.url == f"{root}/gone" and gone.blob is None and gone.size is None
        info = s3.info_many(["here", "gone"], return_missing=True)
        assert [o.exists for o in info] == [True, False]
        assert not s3.info("gone", return_missing=True).exists


# -- info -----------------------------------------------------------------------------------
def test_info_does_not_download(root: str) -> None:
    with S3(s3root=root) as s3:
        s3.put("k", b"12345", content_type="text/plain")
        obj = s3.info("k")
        assert obj.exists and not obj.downloaded and obj.path is None and obj.blob is None
        assert obj.size == 5 and obj.content_type == "text/plain" and obj.has_info
        assert [o.size for o in s3.info_many(["k", f"{root}/k"])] == [5, 5]


# -- ranges ---------------------------------------------------------------------------------
def test_range_gets(root: str) -> None:
    with S3(s3root=root) as s3:
        s3.put("digits", "0123456789")
        head, tail, last, whole = s3.get_many(
            [
                S3GetObject("digits", 0, 4),
                S3GetObject("digits", 4),
                S3GetObject("digits", -3),
                S3GetObject(f"{root}/digits", 2, 100),
            ]
        )
        assert (head.text, head.size, head.range_info) == ("0123", 4, (10, 0, 4))
        assert (tail.text, tail.range_info) == ("456789", (10, 4, 6))
        assert (last.text, last.range_info) == ("789", (10, 7, 3))
        assert whole.text == "23456789" and head.key == "digits"
        assert s3.get(S3GetObject("digits", 5, 2)).text == "56"


def test_range_past_the_end_is_a_clear_error(root: str) -> None:
    with S3(s3root=root) as s3:
        s3.put("digits", "0123456789")
        with pytest.raises(S3Error, match="past the end"):
            s3.get(S3GetObject("digits", 50, 2))
        with pytest.raises(ValueError, match="length must be positive"):
            s3.get(S3GetObject("digits", 0, 0))


# -- listing --------------------------------------------------------------------------------
TREE = ["a/0.txt", "a/b/1.txt", "a/c/2.txt", "a/d/e/3.txt", "f/4.txt", "ab/5.txt"]


@pytest.fixture
def tree(root: str) -> str:
    with S3(s3root=root) as s3:
        s3.put_many([(key, key) for key in TREE])
    return root


def test_list_paths_gives_the_next_level(tree: str) -> None:
    with S3(s3root=tree) as s3:
        found = s3.list_paths(["a", "f"])
        assert [(o.url, o.key, o.exists) for o in found] == [
            (f"{tree}/a/0.txt", "0.txt", True),
            (f"{tree}/a/b/", "b", False),
            (f"{tree}/a/c/", "c", False),
            (f"{tree}/a/d/", "d", False),
            (f"{tree}/f/4.txt", "4.txt", True),
        ]
        assert found[0].size == 7 and found[1].size is None and not found[0].downloaded
        assert found[0].prefix == f"{tree}/a"
        assert [o.key for o in s3.list_paths()] == ["a", "ab", "f"]
        assert all(not o.exists for o in s3.list_paths())
    with S3() as s3:
        assert [o.key for o in s3.list_paths([f"{tree}/a/d"])] == ["e"]


def test_list_recursive_gives_every_object(tree: str) -> None:
    with S3(s3root=tree) as s3:
        assert [o.key for o in s3.list_recursive()] == sorted(TREE)
        found = s3.list_recursive(["a", "f"])
        assert [o.key for o in found] == ["0.txt", "b/1.txt", "c/2.txt", "d/e/3.txt", "4.txt"]
        assert all(o.exists and not o.downloaded for o in found)
        assert [o.key for o in s3.list_recursive(["a/0.txt"])] == ["a/0.txt"]  # an object
        assert s3.list_recursive(["nothing-here"]) == []


def test_get_recursive_and_get_all(tree: str) -> None:
    with S3(s3root=tree) as s3:
        objs = s3.get_recursive(["a/d", "f"])
        assert [(o.key, o.text) for o in objs] == [("e/3.txt", "a/d/e/3.txt"), ("4.txt", "f/4.txt")]
        assert all(o.downloaded and not o.has_info for o in objs)
        everything = s3.get_all()
        assert [(o.key, o.text) for o in everything] == [(k, k) for k in sorted(TREE)]
        assert s3.get_recursive(["a/b"], return_info=True)[0].has_info


def test_listing_needs_a_root_or_urls(root: str) -> None:
    with S3() as s3:
        for call in (s3.list_paths, s3.list_recursive, s3.get_all):
            with pytest.raises(S3UrlError, match="needs a root"):
                call()
        with pytest.raises(TypeError, match="list"):
            s3.list_paths(f"{root}/a")  # type: ignore[arg-type]


# -- parallel transfers ---------------------------------------------------------------------
def test_many_small_objects_move_in_parallel(root: str, monkeypatch: pytest.MonkeyPatch) -> None:
    payloads = {f"many/{i:04d}": os.urandom(4096) for i in range(500)}
    in_flight, peak, lock = [0], [0], threading.Lock()
    real_download = transfer.download

    def counting_download(*args: object, **kwargs: object) -> transfer.Fetched:
        with lock:
            in_flight[0] += 1
            peak[0] = max(peak[0], in_flight[0])
        try:
            return real_download(*args, **kwargs)  # type: ignore[arg-type]
        finally:
            with lock:
                in_flight[0] -= 1

    monkeypatch.setattr(transfer, "download", counting_download)
    with S3(s3root=root) as s3:
        urls = s3.put_many(payloads.items())
        assert [key for key, _ in urls] == list(payloads)
        objs = s3.get_many(list(payloads))
        assert [o.blob for o in objs] == list(payloads.values())
        assert len(s3.list_recursive(["many"])) == 500
    assert peak[0] > 4, f"downloads did not overlap (at most {peak[0]} in flight)"


def test_large_object_goes_in_parts(root: str, tmp_path: Path) -> None:
    import obstore

    from stepwell.store._s3conn import S3Options, S3Url, open_store

    data = os.urandom(transfer.MULTIPART_BYTES + 3 * transfer.PART_BYTES // 2)
    path = _file(tmp_path / "big.bin", data)
    with S3(s3root=root) as s3:
        s3.put_files([("from-file", path)])
        s3.put("from-bytes", data)
        for key in ("from-file", "from-bytes"):
            obj = s3.get(key)
            assert obj.size == len(data)
            assert _sha(Path(obj.path or "")) == hashlib.sha256(data).hexdigest()
    bucket, prefix = root[len("s3://") :].split("/", 1)
    store = open_store(S3Url(bucket), S3Options.from_env())
    etag = obstore.head(store, f"{prefix}/from-file")["e_tag"] or ""
    assert "-" in etag, f"expected a multipart ETag (md5-parts), got {etag}"


def test_download_memory_stays_bounded(root: str, tmp_path: Path, s3_server: S3Server) -> None:
    """A 200 MB object is streamed to disk: peak RSS grows by far less than its size."""
    import subprocess
    import sys

    size = 200 << 20
    path = tmp_path / "huge.bin"
    with open(path, "wb") as out:
        block = os.urandom(1 << 20)
        for _ in range(size >> 20):
            out.write(block)
    with S3(s3root=root) as s3:
        s3.put_files([("huge", str(path)), ("tiny", _file(tmp_path / "t", b"x"))])
    code = (
        "import sys\n"
        "from stepwell import S3\n"
        "def hwm():\n"
        "    for line in open('/proc/self/status'):\n"
        "        if line.startswith('VmHWM'): return int(line.split()[1]) * 1024\n"
        f"with S3(s3root={root!r}, tmproot={str(tmp_path)!r}) as s3:\n"
        "    s3.get('tiny')\n"
        "    before = hwm()\n"
        "    obj = s3.get('huge')\n"
        "    print(hwm() - before, obj.size)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True,
        env=os.environ.copy(),
    )  # fmt: skip
    growth, got = map(int, out.stdout.split())
    assert got == size
    assert growth < 64 << 20, f"peak RSS grew by {growth >> 20} MiB downloading 200 MiB"


# -- temporary files ------------------------------------------------------------------------
def test_temporary_files_are_deleted_when_the_scope_ends(root: str, tmp_path: Path) -> None:
    downloads = tmp_path / "downloads"
    with S3(s3root=root, tmproot=downloads) as s3:
        s3.put_many([("a", "1"), ("b", "2")])
        paths = [Path(o.path or "") for o in s3.get_many(["a", "b"])]
        assert all(p.is_file() and downloads in p.parents for p in paths)
    assert not any(p.exists() for p in paths)
    assert list(downloads.iterdir()) == []
    s3 = S3(s3root=root, tmproot=downloads)
    path = Path(s3.get("a").path or "")
    assert path.is_file()
    s3.close()
    assert not path.exists() and list(downloads.iterdir()) == []


def test_default_tmproot_is_the_working_directory(root: str, tmp_path: Path) -> None:
    with S3(s3root=root) as s3:
        s3.put("a", "1")
        assert Path(s3.get("a").path or "").parent.parent == tmp_path
    assert list(tmp_path.iterdir()) == []


# -- errors ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"s3root": "http://bucket/x"}, "must start with 's3://'"),
        ({"s3root": "s3://Bad_Bucket/x"}, "lowercase letters"),
        ({"s3root": "s3://"}, "no bucket name"),
        ({"prefix": "x"}, "needs a bucket too"),
        ({"s3root": "s3://bucket/x", "bucket": "other"}, "not both"),
    ],
)
def test_bad_roots_are_clear_errors(kwargs: dict[str, str], message: str) -> None:
    with pytest.raises(S3UrlError, match=message) as caught:
        S3(**kwargs)
    assert isinstance(caught.value, ValueError)


def test_bad_keys_are_clear_errors(root: str) -> None:
    with S3() as s3:
        with pytest.raises(S3UrlError, match="not a full s3:// URL"):
            s3.get("relative/key")
        with pytest.raises(S3UrlError, match="lowercase letters"):
            s3.get("s3://UPPER/key")
        with pytest.raises(S3UrlError, match="names a bucket, not an object"):
            s3.put(f"s3://{root.split('/')[2]}", "x")
    with S3(s3root=root) as s3, pytest.raises(S3UrlError, match=r"'\.\.'"):
        s3.get("../escape")


def test_missing_bucket_says_so(root: str) -> None:
    with S3(s3root="s3://no-such-bucket-here/p") as s3:
        for call in (lambda: s3.put("k", "v"), lambda: s3.get("k"), lambda: s3.list_paths()):
            with pytest.raises(S3Error, match="bucket 'no-such-bucket-here' does not exist") as e:
                call()
            assert not isinstance(e.value, S3NotFound)
        with pytest.raises(S3Error, match="does not exist"):
            s3.get("k", return_missing=True)


def test_unreachable_endpoint_says_what_to_check(
    root: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from stepwell.testing.s3server import free_port

    monkeypatch.setenv("STEPWELL_S3_ENDPOINT_URL", f"http://127.0.0.1:{free_port()}")
    monkeypatch.setenv("STEPWELL_S3_RETRY_SECONDS", "0.5")
    with S3(s3root=root) as s3, pytest.raises(S3Error, match="STEPWELL_S3_ENDPOINT_URL"):
        s3.get("k")


def test_metaflow_only_arguments(root: str, s3_server: S3Server, monkeypatch) -> None:
    monkeypatch.delenv("STEPWELL_S3_ENDPOINT_URL")
    params = {"endpoint_url": s3_server.endpoint_url}
    with S3(s3root=root, client_params=params) as s3:  # the endpoint is honoured
        assert s3.get(s3.put("k", "v")).text == "v"
    with pytest.warns(UserWarning, match="ignores role"):
        S3(s3root=root, role="arn:aws:iam::1:role/x")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        S3(s3root=root, encryption=None)
    with pytest.raises(TypeError, match=r"unexpected argument.*colour"):
        S3(s3root=root, colour="blue")


# -- S3(run=...) ----------------------------------------------------------------------------
class DataFlow(FlowSpec):
    pass


def _info(datastore_root: str | None) -> CurrentInfo:
    extras = {"datastore_root": datastore_root} if datastore_root else {}
    return CurrentInfo("DataFlow", "42", "start", "1", extras=extras)


def test_run_self_roots_keys_in_the_run(root: str) -> None:
    with use_current(_info(root)), S3(run=DataFlow(use_cli=False)) as s3:
        url = s3.put("model.bin", b"weights")
        assert url == f"{root}/data/DataFlow/42/model.bin"
        assert s3.get("model.bin").blob == b"weights"
        assert [o.key for o in s3.list_paths()] == ["model.bin"]
    bucket = root.split("/")[2]
    with use_current(_info(root)), S3(run=DataFlow(use_cli=False), prefix="elsewhere") as s3:
        assert s3.put("k", "v") == f"s3://{bucket}/elsewhere/data/DataFlow/42/k"


def test_run_object_roots_keys_in_that_run(root: str) -> None:
    class PastRun:
        pathspec = "DataFlow/42"
        datastore_root = root

    with S3(run=PastRun()) as s3:
        s3.put("k", "v")
        assert s3.get(f"{root}/data/DataFlow/42/k").text == "v"


def test_run_self_needs_the_s3_datastore(tmp_path: Path) -> None:
    with use_current(_info(str(tmp_path))), pytest.raises(S3UrlError) as caught:
        S3(run=DataFlow(use_cli=False))
    text = str(caught.value)
    assert "--datastore s3" in text and "STEPWELL_DATASTORE=s3" in text and "s3root=" in text
    with pytest.raises(S3UrlError, match="only while a step runs"):
        S3(run=DataFlow(use_cli=False))


# -- data formats ---------------------------------------------------------------------------
def test_parquet_round_trip(root: str) -> None:
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    table = pa.table({"id": list(range(1000)), "name": [f"row{i}" for i in range(1000)]})
    buffer = io.BytesIO()
    pq.write_table(table, buffer)
    with S3(s3root=root) as s3:
        s3.put("tables/part-0.parquet", buffer.getvalue())
        obj = s3.get("tables/part-0.parquet")
        assert pq.read_table(obj.path).equals(table)
        assert pq.read_table(io.BytesIO(obj.blob or b"")).equals(table)


# -- helpers --------------------------------------------------------------------------------
def _file(path: Path, data: bytes) -> str:
    path.write_bytes(data)
    return str(path)


def _sha(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def test_many_objects_in_memory_go_whole_and_a_few_go_in_parts(root: str) -> None:
    """With enough objects to fill the connections, each goes in one PUT (no part requests)."""
    import obstore

    from stepwell.store._s3conn import S3Options, S3Url, open_store

    size = transfer.MULTIPART_BYTES + 1024
    many = [(f"many/{i}", os.urandom(size)) for i in range(transfer.PART_CONCURRENCY)]
    few = [(f"few/{i}", os.urandom(size)) for i in range(2)]
    with S3(s3root=root) as s3:
        s3.put_many(many)
        s3.put_many(few)
        assert [o.size for o in s3.get_many([k for k, _ in many + few])] == [size] * 10
    bucket, prefix = root[len("s3://") :].split("/", 1)
    store = open_store(S3Url(bucket), S3Options.from_env())

    def etag(key: str) -> str:
        return str(obstore.head(store, f"{prefix}/{key}")["e_tag"] or "")

    assert all("-" not in etag(k) for k, _ in many), "single PUTs have a plain MD5 ETag"
    assert all("-" in etag(k) for k, _ in few), "a few large objects go in parts"
