"""docker-compose.yml cannot run here (no Docker), so its shape is checked: services, commands, env, health."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from api.cli import build_parser

ROOT = Path(__file__).resolve().parents[2]
APP_SERVICES = ("migrate", "api", "worker", "beat")


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())  # type: ignore[no-any-return]


def test_the_services_are_all_there(compose: dict[str, Any]) -> None:
    assert set(compose["services"]) == {"postgres", "redis", "migrate", "api", "worker", "beat"}


def test_every_app_service_runs_an_existing_cli_command(compose: dict[str, Any]) -> None:
    expected = {"migrate": "migrate", "api": "serve", "worker": "worker", "beat": "beat"}
    for name, subcommand in expected.items():
        command = compose["services"][name]["command"]
        assert command[0] == "incident-engine" and command[1] == subcommand, name
        build_parser().parse_args(command[1:])  # exits (SystemExit) on an unknown option
        assert compose["services"][name]["build"] == "."
    assert "0.0.0.0" in compose["services"]["api"]["command"]
    assert "8000:8000" in compose["services"]["api"]["ports"]


def test_the_app_environment_points_at_postgres_and_redis(compose: dict[str, Any]) -> None:
    for name in APP_SERVICES:
        env = compose["services"][name]["environment"]
        assert env["DATABASE_URL"].startswith("postgresql+psycopg://") and "@postgres:5432/" in env["DATABASE_URL"]
        assert env["CELERY_BROKER_URL"].startswith("redis://redis:6379/")
        assert 5 <= int(env["TIMER_TICK_SECONDS"]) <= 15
        assert "OUTBOX_TOPICS" in env and "OUTBOX_WEBHOOK_SECRET" in env
    db = compose["services"]["postgres"]["environment"]
    assert f"{db['POSTGRES_USER']}:{db['POSTGRES_PASSWORD']}@postgres:5432/{db['POSTGRES_DB']}" in \
        compose["services"]["api"]["environment"]["DATABASE_URL"]


def test_healthchecks_and_start_order(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert "pg_isready" in " ".join(services["postgres"]["healthcheck"]["test"])
    assert services["redis"]["healthcheck"]["test"][-2:] == ["redis-cli", "ping"]
    assert "/healthz" in " ".join(services["api"]["healthcheck"]["test"])
    assert services["migrate"]["depends_on"] == {"postgres": {"condition": "service_healthy"}}
    assert services["migrate"]["restart"] == "no"
    for name in ("api", "worker", "beat"):
        depends = services[name]["depends_on"]
        assert depends["migrate"] == {"condition": "service_completed_successfully"}, name
        assert depends["redis"] == {"condition": "service_healthy"}, name


def test_postgres_data_lives_in_a_named_volume(compose: dict[str, Any]) -> None:
    assert "pgdata:/var/lib/postgresql/data" in compose["services"]["postgres"]["volumes"]
    assert "pgdata" in compose["volumes"]


def test_the_image_installs_the_project_and_serves_by_default() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "pip install" in dockerfile and "COPY . /app" in dockerfile
    assert 'CMD ["incident-engine", "serve", "--host", "0.0.0.0"' in dockerfile
    assert "USER " in dockerfile  # not root
