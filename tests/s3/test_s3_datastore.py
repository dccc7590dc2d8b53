"""Runs on the S3 datastore against a real S3-compatible server (moto, on 127.0.0.1)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from stepwell.store import ContentStore, Storage, get_storage
from stepwell.store._logs import PART_SEPARATOR, load_log, log_key
from stepwell.testing import run_flow
from stepwell.testing.s3server import S3Server, free_port

from ._proxy import TcpProxy

FLOWS = Path(__file__).parents[1] / "flows" / "s3"
DATA_FLOW = FLOWS / "s3_data_flow.py"
LIVE_FLOW = FLOWS / "live_log_flow.py"
DATASTORE_VARS = ("STEPWELL_DATASTORE", "STEPWELL_DATASTORE_ROOT")


def bucket_storage(env: dict[str, str]) -> Storage:
    return get_storage(
        "s3", root=env["STEPWELL_DATASTORE_ROOT"], endpoint_url=env["STEPWELL_S3_ENDPOINT_URL"]
    )


def client_of(monkeypatch: pytest.MonkeyPatch, *, keep_datastore: bool = False) -> None:
    """Read as a teammate would: no datastore setting, only the endpoint and credentials."""
    from stepwell.client import namespace, reset_client

    if not keep_datastore:
        for name in DATASTORE_VARS:
            monkeypatch.delenv(name, raising=False)
    reset_client()
    namespace(None)


def test_a_run_keeps_its_blobs_logs_cards_and_code_in_the_bucket(
    s3_env: dict[str, str], stepwell_home: Path
) -> None:
    run = run_flow(DATA_FLOW, home=stepwell_home)
    assert run.ok, run.stderr
    keys = list(bucket_storage(s3_env).list())
    assert any(k.startswith("objects/") for k in keys)
    start = run.tasks("start")[0]
    assert log_key("S3DataFlow", run.run_id, "start", start.task_id, 0, "stdout") in keys
    assert not [k for k in keys if PART_SEPARATOR in k], "parts are dropped once a log is whole"
    assert not (stepwell_home / "objects").exists(), "no blob is written to the local disk"
    record = run.metadata.get_run("S3DataFlow", run.run_id)
    assert record.datastore == s3_env["STEPWELL_DATASTORE_ROOT"]
    assert record.code_key and ContentStore.object_key(record.code_key) in keys


def test_the_client_reads_an_s3_run_with_no_datastore_setting(
    s3_env: dict[str, str], stepwell_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import shutil

    from stepwell import Run
    from stepwell.cards import get_cards

    run = run_flow(DATA_FLOW, "--size", "5000", home=stepwell_home)
    assert run.ok, run.stderr
    shutil.rmtree(stepwell_home / "logs")  # this machine's copies: only the bucket is left
    client_of(monkeypatch)
    found = Run(f"S3DataFlow/{run.run_id}")
    assert found.data.total == 1 + 4 + 9
    join = found["join"].task
    assert join.data.payload_sizes == [4096] * 3
    assert join.data.array_sum == float(sum(range(5000)))
    start = found["start"].task
    assert start.data.frame.shape == (5000, 2)
    assert start.data.array.dtype == "float64"
    assert start.data.where == s3_env["STEPWELL_DATASTORE_ROOT"]
    assert "hello from start" in start.stdout
    assert start.stdout_size > 0
    assert "total 14" in found["end"].task.stdout
    [card] = get_cards(start)
    assert "<html" in card.get().lower() and "array" in card.get()
    code = found.code
    assert code is not None and code.path.startswith(s3_env["STEPWELL_DATASTORE_ROOT"])
    assert "class S3DataFlow" in code.flowspec


def test_the_same_code_is_stored_once(s3_env: dict[str, str], stepwell_home: Path) -> None:
    first = run_flow(DATA_FLOW, "--size", "10", home=stepwell_home)
    second = run_flow(DATA_FLOW, "--size", "10", home=stepwell_home)
    assert first.ok and second.ok, second.stderr
    keys = [first.metadata.get_run("S3DataFlow", r.run_id).code_key for r in (first, second)]
    assert keys[0] == keys[1]


def test_top_level_options_select_the_s3_datastore(
    s3_env: dict[str, str], stepwell_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in DATASTORE_VARS:
        monkeypatch.delenv(name)
    root = s3_env["STEPWELL_DATASTORE_ROOT"] + "-by-option"
    command = ("--datastore", "s3", "--datastore-root", root, "run")
    run = run_flow(DATA_FLOW, "--size", "10", home=stepwell_home, command=command)
    assert run.ok, run.stderr
    assert run.metadata.get_run("S3DataFlow", run.run_id).datastore == root
    assert any(k.startswith("objects/") for k in bucket_storage({**s3_env,
               "STEPWELL_DATASTORE_ROOT": root}).list())  # fmt: skip


def test_metaflow_variable_names_select_the_s3_datastore(
    s3_server: S3Server, s3_bucket: str, stepwell_home: Path
) -> None:
    env = {
        "METAFLOW_DEFAULT_DATASTORE": "s3",
        "METAFLOW_DATASTORE_SYSROOT_S3": f"s3://{s3_bucket}/metaflow",
        "METAFLOW_S3_ENDPOINT_URL": s3_server.endpoint_url,
    }
    run = run_flow(DATA_FLOW, "--size", "10", home=stepwell_home, env=env)
    assert run.ok, run.stderr
    assert run.metadata.get_run("S3DataFlow", run.run_id).datastore == f"s3://{s3_bucket}/metaflow"


def test_a_wide_foreach_of_tiny_values_writes_no_blob_per_value(
    s3_env: dict[str, str], stepwell_home: Path, tmp_path: Path
) -> None:
    flow = tmp_path / "wide.py"
    flow.write_text(
        "from stepwell import FlowSpec, step\n\n\n"
        "class WideFlow(FlowSpec):\n"
        "    @step\n"
        "    def start(self):\n"
        "        self.items = list(range(60))\n"
        "        self.next(self.each, foreach='items')\n\n"
        "    @step\n"
        "    def each(self):\n"
        "        self.value = self.input * 2\n"
        "        self.next(self.join)\n\n"
        "    @step\n"
        "    def join(self, inputs):\n"
        "        self.total = sum(i.value for i in inputs)\n"
        "        self.next(self.end)\n\n"
        "    @step\n"
        "    def end(self):\n"
        "        pass\n\n\n"
        "if __name__ == '__main__':\n"
        "    WideFlow()\n"
    )
    run = run_flow(flow, home=stepwell_home)
    assert run.ok, run.stderr
    assert run.artifacts("join")["total"] == 2 * sum(range(60))
    blobs = [k for k in bucket_storage(s3_env).list("objects/")]
    assert len(blobs) < 10, blobs  # values ride in the metadata; only a few shared blobs


def test_logs_reach_the_bucket_while_the_task_runs(
    s3_env: dict[str, str], stepwell_home: Path, tmp_path: Path
) -> None:
    gate = tmp_path / "gate"
    env = {**os.environ, "STEPWELL_HOME": str(stepwell_home), "LIVELOG_GATE": str(gate)}
    process = subprocess.Popen(
        [sys.executable, str(LIVE_FLOW), "run"], env=env,
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    storage = bucket_storage(s3_env)
    try:
        seen = b""
        deadline = time.monotonic() + 60
        while b"first line" not in seen and time.monotonic() < deadline:
            keys = [k for k in storage.list("logs/LiveLogFlow/") if "/start/" in k]
            stdout = sorted({k.split(PART_SEPARATOR)[0] for k in keys if ".stdout" in k})
            seen = load_log(storage, stdout[0]) if stdout else b""
            time.sleep(0.2)
        assert b"first line" in seen, "the running task's output never reached the bucket"
        assert process.poll() is None, "the task was still running when its log was read"
    finally:
        gate.write_text("go")
        _, err = process.communicate(timeout=120)
    assert process.returncode == 0, err.decode()
    final = load_log(storage, stdout[0])
    assert b"first line" in final and b"second line" in final
    assert not [k for k in storage.list("logs/LiveLogFlow/") if PART_SEPARATOR in k]


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"STEPWELL_S3_ENDPOINT_URL": "http://127.0.0.1:{free}"}, "Cannot reach the S3 endpoint"),
        ({"STEPWELL_DATASTORE_ROOT": "s3://no-such-bucket-here/x"}, "does not exist"),
        ({"STEPWELL_DATASTORE_ROOT": "s3://Bad_Bucket/x"}, "bucket name"),
        ({"STEPWELL_DATASTORE_ROOT": "/not/an/s3/url"}, "must be an s3:// URL"),
    ],
)
def test_a_datastore_that_cannot_be_used_stops_the_run_with_one_message(
    s3_env: dict[str, str], stepwell_home: Path, change: dict[str, str], expected: str
) -> None:
    env = {k: v.format(free=free_port()) for k, v in change.items()}
    started = time.monotonic()
    run = run_flow(DATA_FLOW, "--size", "10", home=stepwell_home, env=env)
    assert not run.ok
    assert expected in run.stderr
    assert "Traceback" not in run.stderr and "Internal error" not in run.stderr
    assert run.run_id is None, "no run is recorded when its datastore cannot be used"
    assert time.monotonic() - started < 60


def test_refused_credentials_stop_the_run_naming_them(
    stepwell_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with S3Server.start(require_auth=True) as server:
        env = {**server.environment("any-bucket"), "AWS_ACCESS_KEY_ID": "not-a-known-key"}
        run = run_flow(DATA_FLOW, "--size", "10", home=stepwell_home, env=env)
    assert not run.ok
    assert "refused the credentials" in run.stderr and "AWS_ACCESS_KEY_ID" in run.stderr
    assert "Traceback" not in run.stderr


def test_nothing_stored_is_lost_when_the_server_goes_away_and_resume_completes(
    s3_server: S3Server, s3_env: dict[str, str], stepwell_home: Path, tmp_path: Path
) -> None:
    proxy = TcpProxy(int(s3_server.endpoint_url.rsplit(":", 1)[1]))
    gate = tmp_path / "gate"
    env = {
        **os.environ, "STEPWELL_HOME": str(stepwell_home), "STEPWELL_S3_ENDPOINT_URL": proxy.url,
        "STEPWELL_S3_RETRY_SECONDS": "3", "S3FLOW_GATE": str(gate),
    }  # fmt: skip
    run_id_file = tmp_path / "run-id"
    process = subprocess.Popen(
        [sys.executable, str(DATA_FLOW), "run", "--run-id-file", str(run_id_file)], env=env,
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while len(list(tmp_path.glob("gate.waiting-*"))) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert list(tmp_path.glob("gate.waiting-*")), "the foreach tasks never started"
        proxy.cut()  # the server is unreachable while the tasks store their results
        gate.write_text("go")
        _, err = process.communicate(timeout=180)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode != 0
    assert "Cannot reach the S3 endpoint" in err.decode()
    run_id = run_id_file.read_text().strip()

    proxy.restore()
    for waiting in tmp_path.glob("gate.waiting-*"):
        waiting.unlink()
    resumed = subprocess.run(
        [sys.executable, str(DATA_FLOW), "resume", "--origin-run-id", run_id,
         "--run-id-file", str(run_id_file)],
        env=env, capture_output=True, text=True, timeout=180,
    )  # fmt: skip
    proxy.close()
    assert resumed.returncode == 0, resumed.stderr
    new_id = run_id_file.read_text().strip()
    from stepwell.metadata import SqliteMetadataStore

    metadata = SqliteMetadataStore(stepwell_home / "stepwell.db")
    [start] = metadata.list_tasks("S3DataFlow", new_id, "start")
    assert start.origin_pathspec is not None, "start's stored results were reused, not redone"
    storage = get_storage("s3", root=s3_env["STEPWELL_DATASTORE_ROOT"],
                          endpoint_url=s3_server.endpoint_url)  # fmt: skip
    store = ContentStore(storage)
    from stepwell.runtime._refs import refs_of
    from stepwell.store import load_artifact

    [join] = metadata.list_tasks("S3DataFlow", new_id, "join")
    records = metadata.list_artifacts("S3DataFlow", new_id, "join", join.task_id)
    values = {n: load_artifact(store, r) for n, r in refs_of(records).items()}
    assert values["total"] == 14 and values["payload_sizes"] == [4096] * 3


def test_s3_run_self_keeps_data_beside_the_run(
    s3_env: dict[str, str], stepwell_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from stepwell import S3, Run

    run = run_flow(FLOWS / "s3_client_flow.py", home=stepwell_home)
    assert run.ok, run.stderr
    end = run.artifacts("end")
    assert end["greeting"] == "hello from the run"
    assert end["parts"] == [100] * 20
    root = s3_env["STEPWELL_DATASTORE_ROOT"]
    assert run.artifacts("start")["url"] == f"{root}/data/S3ClientFlow/{run.run_id}/greeting.txt"
    client_of(monkeypatch)
    with S3(run=Run(f"S3ClientFlow/{run.run_id}")) as s3:
        assert s3.get("greeting.txt").text == "hello from the run"


def test_s3_run_self_on_the_local_datastore_says_what_to_set(stepwell_home: Path) -> None:
    run = run_flow(FLOWS / "s3_client_flow.py", home=stepwell_home)
    assert not run.ok
    assert "--datastore s3" in run.stderr or "STEPWELL_DATASTORE=s3" in run.stderr


def test_the_ui_shows_an_s3_run_from_the_bucket(
    s3_env: dict[str, str], stepwell_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import json
    import shutil
    import urllib.request

    from stepwell.ui import serve

    run = run_flow(DATA_FLOW, "--size", "300", home=stepwell_home)
    assert run.ok, run.stderr
    shutil.rmtree(stepwell_home / "logs")
    client_of(monkeypatch)
    server = serve("127.0.0.1", 0, None, block=False)
    base = server.url.rstrip("/")

    def get(path: str) -> object:
        with urllib.request.urlopen(base + path, timeout=30) as response:
            return json.loads(response.read())

    try:
        start = run.tasks("start")[0]
        pathspec = f"S3DataFlow/{run.run_id}/start/{start.task_id}"
        task: dict = get(f"/api/tasks/{pathspec}")  # type: ignore[assignment]
        arts = {a["name"]: a for a in task["artifacts"]}
        assert arts["array"]["preview"]["shape"] == [300]
        assert arts["frame"]["preview"]["shape"] == [300, 2]
        logs: dict = get(f"/api/tasks/{pathspec}/logs")  # type: ignore[assignment]
        assert [line[1] for line in logs["lines"]] == ["hello from start"]
        cards: dict = get(f"/api/tasks/{pathspec}/cards")  # type: ignore[assignment]
        assert len(cards["cards"]) == 1
        shown: dict = get(f"/api/runs/S3DataFlow/{run.run_id}")  # type: ignore[assignment]
        assert shown["run"]["datastore"] == s3_env["STEPWELL_DATASTORE_ROOT"]
    finally:
        server.shutdown()
        server.server_close()


def test_listing_a_run_downloads_no_blob(
    s3_env: dict[str, str], stepwell_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With the S3 server out of reach, everything but values still reads (from metadata)."""
    from stepwell import Flow, Run
    from stepwell.exceptions import StorageError

    run = run_flow(DATA_FLOW, "--size", "500", home=stepwell_home)
    assert run.ok, run.stderr
    monkeypatch.setenv("STEPWELL_S3_ENDPOINT_URL", f"http://127.0.0.1:{free_port()}")
    monkeypatch.setenv("STEPWELL_S3_RETRY_SECONDS", "1")
    monkeypatch.setenv("STEPWELL_CACHE_BYTES", "0")  # not this machine's copies either
    client_of(monkeypatch)
    found = Flow("S3DataFlow").latest_run
    assert found is not None and found.id == run.run_id
    assert [s.id for s in found] == ["end", "join", "square", "start"]
    start = Run(f"S3DataFlow/{run.run_id}")["start"].task
    assert {a.id for a in start} >= {"array", "frame", "small", "items"}
    assert start["array"].size == 500 * 8 and start["frame"].type_name.endswith("DataFrame")
    assert start["small"].data == {"a": 1}  # small values travel with the metadata
    assert found.code is not None and found.code.key
    with pytest.raises(StorageError, match="Cannot reach the S3 endpoint"):
        _ = start["array"].data  # a value is downloaded only when used

    monkeypatch.delenv("STEPWELL_CACHE_BYTES")  # the machine that ran it kept a copy
    client_of(monkeypatch)
    array = Run(f"S3DataFlow/{run.run_id}")["start"].task["array"].data
    assert array.shape == (500,) and float(array.sum()) == float(sum(range(500)))


def test_include_file_contents_are_stored_in_the_bucket(
    s3_env: dict[str, str], stepwell_home: Path, tmp_path: Path
) -> None:
    table = tmp_path / "table.csv"
    table.write_text("a,b\n" + "".join(f"{i},{i * i}\n" for i in range(2000)))
    blob = tmp_path / "blob.bin"
    blob.write_bytes(os.urandom(50_000))
    flow = Path(__file__).parents[1] / "flows" / "runtime" / "include_file_flow.py"
    run = run_flow(flow, "--table", str(table), "--blob", str(blob), home=stepwell_home)
    assert run.ok, run.stderr
    start = run.artifacts("start")
    assert (start["rows"], start["blob_size"]) == (2001, 50_000)
    [task] = run.tasks("start")
    records = run.metadata.list_artifacts("IncludeFileFlow", run.run_id, "start", task.task_id)
    keys = set(bucket_storage(s3_env).list("objects/"))
    assert ContentStore.object_key(records["blob"].key) in keys
    assert ContentStore.object_key(records["table"].key) in keys
    assert run.artifacts("start")["blob"] == blob.read_bytes()


def test_dump_logs_and_card_commands_read_an_s3_run(
    s3_env: dict[str, str], stepwell_home: Path
) -> None:
    import shutil

    run = run_flow(DATA_FLOW, "--size", "2000", home=stepwell_home)
    assert run.ok, run.stderr
    shutil.rmtree(stepwell_home / "logs")
    shutil.rmtree(stepwell_home / "cache")  # nothing of the run is left on this machine
    env = {k: v for k, v in os.environ.items() if k not in DATASTORE_VARS}
    env["STEPWELL_HOME"] = str(stepwell_home)
    start = run.tasks("start")[0]
    task = f"{run.run_id}/start/{start.task_id}"

    def cli(*args: str) -> str:
        done = subprocess.run([sys.executable, str(DATA_FLOW), *args], env=env,
                              capture_output=True, text=True, timeout=120)  # fmt: skip
        assert done.returncode == 0, done.stderr
        return done.stdout

    assert "hello from start" in cli("logs", task)
    dumped = cli("dump", task, "--include", "small,items")
    assert "{'a': 1}" in dumped and "[1, 2, 3]" in dumped
    assert "<html" in cli("card", "get", task).lower()


def test_resume_on_s3_refers_to_the_origins_stored_parameters(
    s3_env: dict[str, str], stepwell_home: Path, tmp_path: Path
) -> None:
    """A big IncludeFile value is reused by reference, not read into the scheduler."""
    table = tmp_path / "table.csv"
    table.write_text("a\n" + "1\n" * 5000)
    blob = tmp_path / "blob.bin"
    blob.write_bytes(os.urandom(20_000))
    flow = Path(__file__).parents[1] / "flows" / "runtime" / "include_file_flow.py"
    first = run_flow(flow, "--table", str(table), "--blob", str(blob), home=stepwell_home)
    assert first.ok, first.stderr
    again = run_flow(flow, "start", "--origin-run-id", first.run_id or "", home=stepwell_home,
                     command=("resume",))  # fmt: skip
    assert again.ok, again.stderr
    assert again.run_id != first.run_id
    assert again.artifacts("start")["blob"] == blob.read_bytes()
    assert again.artifacts("start")["rows"] == 5001

    def key(run: object, name: str) -> str:
        [task] = run.tasks("start")  # type: ignore[attr-defined]
        records = run.metadata.list_artifacts(  # type: ignore[attr-defined]
            "IncludeFileFlow",
            run.run_id,
            "start",
            task.task_id,  # type: ignore[attr-defined]
        )
        return str(records[name].key)

    assert key(again, "blob") == key(first, "blob")
