#!/usr/bin/env bash
# Set everything up and run the main job: the model-selection example flow,
# on the embedded defaults (SQLite metadata and objects under ~/.stepwell,
# or STEPWELL_HOME if set). Extra arguments go to `run`.
source "$(dirname "$0")/_venv.sh" examples
.venv/bin/python examples/model_selection.py run "$@"
