# Sourced by the scripts here: make .venv (once) and install stepwell with the given extras.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
PYTHON="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
# pip's notes about unreachable extra index folders (a machine's pip.conf) are not ours.
quiet_pip() { .venv/bin/python -m pip install --quiet "$@" 2> >(grep -v "^WARNING: Location" >&2); }
quiet_pip --upgrade pip
quiet_pip -e ".[$1]"
