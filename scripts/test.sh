#!/usr/bin/env bash
# Install the project with its test extras into .venv and run the whole test suite
# (unit, SQLite and PostgreSQL integration, API, real Celery workers). PostgreSQL must be reachable on
# 127.0.0.1:5432 (override with INCIDENT_ENGINE_PG_ADMIN_URL), Redis on 127.0.0.1:6379 (databases 10 and up;
# INCIDENT_ENGINE_TEST_REDIS) and RabbitMQ on 127.0.0.1:5672 (INCIDENT_ENGINE_TEST_AMQP); extra arguments
# go to pytest. The report page's browser test needs headless Chromium and its driver (Debian packages
# chromium, chromium-driver; installed here if absent).
set -euo pipefail
cd "$(dirname "$0")/.."
{ command -v chromium && command -v chromedriver; } >/dev/null || (apt-get update && apt-get install -y chromium chromium-driver)
PY=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PY" -m venv .venv
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e '.[test]'
.venv/bin/ruff check .
.venv/bin/lint-imports
.venv/bin/mypy
exec .venv/bin/python -m pytest -p no:cacheprovider -n "${PYTEST_WORKERS:-2}" "$@"
