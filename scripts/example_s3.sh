#!/usr/bin/env bash
# The main job with its data in S3: starts a local S3-compatible server (moto, on
# 127.0.0.1), runs the example flow with --datastore s3, reads the run back from the
# bucket, and stops the server. Against a real bucket you need none of this:
#   python examples/model_selection.py --datastore s3 --datastore-root s3://BUCKET/stepwell run
# Extra arguments go to `run`.
source "$(dirname "$0")/_venv.sh" "examples,s3"
quiet_pip "moto[server]>=5"
exec .venv/bin/python - "$@" <<'PY'
import os
import subprocess
import sys

from stepwell.testing.s3server import S3Server

with S3Server.start() as server:
    bucket = server.new_bucket("stepwell-example")
    root = f"s3://{bucket}/stepwell"
    env = {**os.environ, **server.credentials, "STEPWELL_S3_ENDPOINT_URL": server.endpoint_url}
    print(f"S3-compatible server at {server.endpoint_url}; datastore {root}", flush=True)
    command = [sys.executable, "examples/model_selection.py", "--datastore", "s3",
               "--datastore-root", root, "run", *sys.argv[1:]]
    code = subprocess.call(command, env=env)
    if code == 0:
        check = (
            "from stepwell import Flow\n"
            "run = Flow('ModelSelectionFlow').latest_run\n"
            "print(f'Read back from {run.datastore_root}: best model {run.data.best_name}, '\n"
            "      f'code package {run.code.path}')\n"
        )
        code = subprocess.call([sys.executable, "-c", check], env=env)
sys.exit(code)
PY
