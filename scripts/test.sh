#!/usr/bin/env bash
# Set everything up and run the checks and the tests (what CI runs).
# Extra arguments go to pytest, e.g. scripts/test.sh -k shapes
echo "== setup: .venv with stepwell[dev] (pytest, ruff, mypy, numpy/pandas/pyarrow, obstore," \
     "moto[server] for a local S3 server, psycopg, playwright, uv, ray, jsonschema and" \
     "kubernetes-validate for the Argo manifests), Metaflow's pinned wheel" \
     "(its tutorials, for tests/migration) and the wheels the @pypi tests serve on 127.0.0.1" \
     "(both cached in .venv/) and, if missing, Debian's chromium and postgresql"
source "$(dirname "$0")/_venv.sh" dev
# --- Metaflow's tutorials (tests/migration): the pinned wheel, downloaded once into
# .venv/metaflow-tutorials/ (never committed: Metaflow's code is not ours). If it cannot be
# fetched, STEPWELL_REQUIRE_TUTORIALS makes those tests fail instead of skipping.
.venv/bin/python tests/migration/_tutorials.py
export STEPWELL_REQUIRE_TUTORIALS=1
# --- end of the tutorials block
# --- @pypi environments (tests/environments): real wheels from PyPI, downloaded once into
# .venv/pypi-wheelhouse/; the tests serve them from an index on 127.0.0.1 (never PyPI itself).
.venv/bin/python tests/environments/_wheelhouse.py
export STEPWELL_REQUIRE_WHEELHOUSE=1
# --- end of the @pypi block
# --- Airflow DAGs (tests/deploy/test_airflow_*): Airflow 3 in its own venv, never in .venv itself.
# Made once (~70 s), reused while its pins (tests/deploy/airflow-constraints.txt) are unchanged.
echo "== setup: .venv/airflow-venv with apache-airflow 3 (pinned), its cncf.kubernetes provider" \
     "and stepwell from this checkout (the tests run generated DAGs with airflow dags test)"
.venv/bin/python tests/deploy/_airflow_env.py
export STEPWELL_REQUIRE_AIRFLOW=1
# --- end of the Airflow block
# --- UI browser tests (tests/e2e/test_ui_browser.py): Debian's chromium, installed only
# when missing (CI runs as root on a fresh clone); Playwright's Python package is a dev extra.
# Never `playwright install`: it downloads its own browser. The tests skip without chromium.
if [ ! -x /usr/bin/chromium ] && [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
      --no-install-recommends chromium chromium-driver >/dev/null; } \
    || echo "chromium not installed: the UI browser tests will be skipped." >&2
fi
# --- end of the UI browser block
# --- PostgreSQL tests (tests/pg, team tests): Debian's postgresql server binaries; the tests
# start their own server in a temporary directory (never the system's cluster). Skipped without.
if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 && ! command -v initdb >/dev/null \
   && [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
  # Only the binaries: no system cluster is created (nor started) by the package.
  mkdir -p /etc/postgresql-common/createcluster.d
  echo "create_main_cluster = false" > /etc/postgresql-common/createcluster.d/stepwell.conf
  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
      --no-install-recommends postgresql >/dev/null; } \
    || echo "postgresql not installed: the PostgreSQL tests will be skipped." >&2
fi
echo "== ruff";         .venv/bin/ruff check src tests benchmarks examples
echo "== mypy";         .venv/bin/mypy
echo "== import layers"; .venv/bin/lint-imports --no-cache
echo "== pytest"
set +e
.venv/bin/python -m pytest -m "not slow" "$@"
status=$?
set -e
if [ "$status" -eq 5 ]; then
  echo "pytest collected no tests: failing the run." >&2
  exit 1
fi
exit "$status"
