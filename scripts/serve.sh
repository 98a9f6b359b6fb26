#!/usr/bin/env bash
# Install the project into .venv and start the service on the embedded SQLite default
# (instance/incident-engine.sqlite3), with the bundled procedures deployed, on 127.0.0.1:8000.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PY" -m venv .venv
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e .
exec .venv/bin/incident-engine serve "$@"
