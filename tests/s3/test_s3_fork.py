"""obstore's threads do not survive fork(): a forked child that would hang gets a clear error."""

from __future__ import annotations

import subprocess
import sys
import textwrap

from stepwell.testing.s3server import S3Server

CHILD = textwrap.dedent(
    """
    import os, sys
    from stepwell import S3
    from stepwell.exceptions import StorageError
    from stepwell.store import get_storage

    root, endpoint = sys.argv[1], sys.argv[2]
    storage = get_storage("s3", root=root, endpoint_url=endpoint)
    storage.save_bytes("before/fork", b"parent wrote this")  # S3 is in use in this process
    pid = os.fork()
    if pid == 0:
        code = 0
        for attempt in (lambda: storage.load_bytes("before/fork"),
                        lambda: S3(s3root=root).get("before/fork")):
            try:
                attempt()
                code = 3  # it worked: no guard needed (a future obstore may allow it)
            except StorageError as err:
                if "forked" not in str(err) or "spawn" not in str(err):
                    code = 4
        os._exit(code)
    _, status = os.waitpid(pid, 0)
    print("child-exit", os.waitstatus_to_exitcode(status))
    print("parent-still-works", storage.load_bytes("before/fork") == b"parent wrote this")
    """
)


def test_a_forked_child_of_a_process_that_used_s3_gets_an_error_not_a_hang(
    s3_server: S3Server, s3_bucket: str
) -> None:
    done = subprocess.run(
        [sys.executable, "-c", CHILD, f"s3://{s3_bucket}/fork", s3_server.endpoint_url],
        capture_output=True, text=True, timeout=60,
        env={**__import__("os").environ, "STEPWELL_S3_ENDPOINT_URL": s3_server.endpoint_url},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "child-exit 0" in done.stdout, done.stdout + done.stderr
    assert "parent-still-works True" in done.stdout
