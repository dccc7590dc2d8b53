#!/usr/bin/env bash
# The main job as a team: starts a PostgreSQL (runs) and a local S3-compatible server (data)
# on 127.0.0.1 in temporary directories, creates the schema, runs the example flow as
# alice and bob at the same time, shows everyone's runs, and stops both servers.
# Needs PostgreSQL's server binaries (Debian: apt-get install postgresql). Against a real
# team database and bucket you need none of this (docs/team.md):
#   python examples/model_selection.py --metadata postgresql://USER@HOST/DB \
#       --datastore s3 --datastore-root s3://BUCKET/stepwell run
# Extra arguments go to `run`.
source "$(dirname "$0")/_venv.sh" "examples,s3,postgres"
quiet_pip "moto[server]>=5"
exec .venv/bin/python - "$@" <<'PY'
import os
import subprocess
import sys
import tempfile

from stepwell.metadata import open_metadata
from stepwell.testing.pgserver import PostgresServer
from stepwell.testing.s3server import S3Server

with PostgresServer.start() as pg, S3Server.start() as s3, \
        tempfile.TemporaryDirectory(prefix="stepwell-team-") as scratch:
    url = pg.new_database("stepwell")
    store = open_metadata(url, home=scratch)
    print(f"PostgreSQL at {url}: schema version {store.upgrade()[1]}", flush=True)
    bucket = s3.new_bucket("stepwell-team")
    shared = {**os.environ, **s3.environment(bucket), "STEPWELL_METADATA": url}
    runs = [
        subprocess.Popen(
            [sys.executable, "examples/model_selection.py", "--quiet", "run", *sys.argv[1:]],
            env={**shared, "STEPWELL_USER": user, "STEPWELL_HOME": f"{scratch}/{user}"},
        )
        for user in ("alice", "bob")
    ]
    codes = [run.wait() for run in runs]
    show = (
        "from stepwell import Flow, namespace\n"
        "print('alice sees (her namespace):', [r.pathspec for r in Flow('ModelSelectionFlow')])\n"
        "namespace(None)\n"
        "for r in Flow('ModelSelectionFlow'):\n"
        "    print(f'  {r.pathspec} by {r.user}: {r.status}, best {r.data.best_name}, '\n"
        "          f'data in {r.datastore_root}')\n"
    )
    env = {**shared, "STEPWELL_USER": "alice", "STEPWELL_HOME": f"{scratch}/alice"}
    codes.append(subprocess.call([sys.executable, "-c", show], env=env))
    store.close()
sys.exit(max(codes))
PY
