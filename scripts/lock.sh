#!/usr/bin/env bash
# Regenerate requirements.lock (every package the service installs, pinned with hashes, build backend
# included) from pyproject.toml with pip-tools, then stamp it with pyproject's fingerprint. Run it after
# changing a dependency; CI (tests/unit/test_lock_file.py) fails while the lock and pyproject.toml differ.
# The Dockerfile installs from the lock, so the image gets exactly these versions.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
TOOLS=$(mktemp -d)
trap 'rm -rf "$TOOLS"' EXIT
"$PY" -m venv "$TOOLS/venv"
"$TOOLS/venv/bin/pip" install --quiet "pip-tools==7.6.2"
"$TOOLS/venv/bin/pip-compile" --quiet --generate-hashes --allow-unsafe --all-build-deps --strip-extras \
  --no-emit-index-url --no-emit-find-links --output-file=requirements.lock pyproject.toml
{ "$PY" scripts/lock_fingerprint.py; cat requirements.lock; } > "$TOOLS/lock" && mv "$TOOLS/lock" requirements.lock
echo "requirements.lock: $(grep -c '^[a-z0-9]' requirements.lock) packages pinned"
