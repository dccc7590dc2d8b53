#!/usr/bin/env bash
# Set everything up and run the checks and the tests (what CI runs).
# Extra arguments go to pytest, e.g. scripts/test.sh -k shapes
source "$(dirname "$0")/_venv.sh" dev
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
