"""docker-compose.yml cannot run here (no Docker), so its shape is checked: services, commands, env, health,
where the secrets come from (.env), the volumes, the Prometheus scrape and what the image leaves out."""
from __future__ import annotations

import fnmatch
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from api.cli import build_parser

ROOT = Path(__file__).resolve().parents[2]
APP_SERVICES = ("migrate", "api", "worker", "fitness-worker", "beat")
_VARIABLE = re.compile(r"\$\{(\w+)(?:(:?[-?])([^}]*))?\}")


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())  # type: ignore[no-any-return]


def interpolate(text: str, env: dict[str, str]) -> str:
    """Compose's ${VAR}, ${VAR:-default} and ${VAR:?error} over `env` (enough for this file)."""

    def value(match: re.Match[str]) -> str:
        name, op, arg = match.group(1), match.group(2), match.group(3) or ""
        found = env.get(name)
        if op in (":?", "?") and not found:
            raise ValueError(f"{name}: {arg}")
        return found if found else (arg if op in (":-", "-") else "")

    return _VARIABLE.sub(value, text.replace("$$", "\0")).replace("\0", "$")


def dot_env(path: Path) -> dict[str, str]:
    pairs = (line.split("=", 1) for line in path.read_text().splitlines() if "=" in line and not line.startswith("#"))
    return {key.strip(): value for key, value in pairs}


def test_the_services_are_all_there(compose: dict[str, Any]) -> None:
    assert set(compose["services"]) == {"postgres", "redis", *APP_SERVICES, "prometheus"}


def test_every_app_service_runs_an_existing_cli_command(compose: dict[str, Any]) -> None:
    expected = {"migrate": "migrate", "api": "serve", "worker": "worker", "fitness-worker": "worker", "beat": "beat"}
    for name, subcommand in expected.items():
        command = compose["services"][name]["command"]
        assert command[0] == "incident-engine" and command[1] == subcommand, name
        build_parser().parse_args(command[1:])  # exits (SystemExit) on an unknown option
        assert compose["services"][name]["build"] == "."
    assert "0.0.0.0" in compose["services"]["api"]["command"]
    assert "8000:8000" in compose["services"]["api"]["ports"]


def test_fitness_tests_have_a_worker_of_their_own(compose: dict[str, Any]) -> None:
    """The api sets fitness_dispatch (Celery schedules, since CELERY_BROKER_URL is set), so the runs go to
    the fitness queue, which only `worker --fitness` serves."""
    services = compose["services"]
    assert "--fitness" in services["fitness-worker"]["command"]
    assert "--fitness" not in services["worker"]["command"]
    assert services["api"]["environment"]["CELERY_BROKER_URL"] and "SCHEDULER" not in services["api"]["environment"]


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


def test_the_jwt_secret_is_required_from_env_and_the_same_everywhere(compose: dict[str, Any]) -> None:
    """Not generated per container (each replica would sign its own tokens, and a recreate would void them):
    one value from .env, and compose refuses to start without it."""
    values = {compose["services"][name]["environment"]["JWT_SECRET"] for name in APP_SERVICES}
    assert len(values) == 1
    (value,) = values
    assert _VARIABLE.fullmatch(value) and _VARIABLE.fullmatch(value).group(2) == ":?"  # type: ignore[union-attr]
    text = (ROOT / "docker-compose.yml").read_text()
    with pytest.raises(ValueError, match="JWT_SECRET"):
        interpolate(text, {})
    resolved = yaml.safe_load(interpolate(text, {"JWT_SECRET": "s" * 40, "METRICS_TOKEN": "m"}))
    assert {resolved["services"][n]["environment"]["JWT_SECRET"] for n in APP_SERVICES} == {"s" * 40}


def test_dot_env_example_names_every_value_compose_reads(compose: dict[str, Any]) -> None:
    read = set(_VARIABLE.findall((ROOT / "docker-compose.yml").read_text()))
    example = dot_env(ROOT / ".env.example")
    assert {name for name, _op, _arg in read} <= set(example)
    assert len(example["JWT_SECRET"]) < 32  # a placeholder the service refuses, never a usable secret
    assert ".env" in (ROOT / ".gitignore").read_text().split()
    interpolate((ROOT / "docker-compose.yml").read_text(), example)  # the example alone satisfies compose


def test_the_instance_folder_is_a_volume_of_every_app_service(compose: dict[str, Any]) -> None:
    for name in APP_SERVICES:
        assert "instance:/app/instance" in compose["services"][name]["volumes"], name
        # per-process metric files stay in the container; the shared volume would mix replicas' files
        assert compose["services"][name]["environment"]["PROMETHEUS_MULTIPROC_DIR"].startswith("/tmp/")
    assert "instance" in compose["volumes"]
    assert "INCIDENT_ENGINE_INSTANCE=/app/instance" in (ROOT / "Dockerfile").read_text()


def test_prometheus_scrapes_with_the_metrics_token_from_env(compose: dict[str, Any]) -> None:
    services = compose["services"]
    prometheus = services["prometheus"]
    assert prometheus["environment"]["METRICS_TOKEN"] == services["api"]["environment"]["METRICS_TOKEN"]
    assert services["api"]["environment"]["METRICS_TOKEN"].startswith("${METRICS_TOKEN")
    assert prometheus["profiles"] == ["monitoring"]
    mounted = {v.split(":")[1]: v.split(":")[0] for v in prometheus["volumes"]}
    config = yaml.safe_load((ROOT / mounted["/etc/prometheus/prometheus.yml"]).read_text())
    (job,) = config["scrape_configs"]
    assert job["metrics_path"] == "/metrics"
    assert job["authorization"]["type"] == "Bearer"
    script = " ".join(prometheus["entrypoint"])
    assert f'> {job["authorization"]["credentials_file"]}' in script and '"$$METRICS_TOKEN"' in script
    assert job["dns_sd_configs"][0]["names"] == ["api"] and job["dns_sd_configs"][0]["port"] == 8000


def test_healthchecks_and_start_order(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert "pg_isready" in " ".join(services["postgres"]["healthcheck"]["test"])
    assert services["redis"]["healthcheck"]["test"][-2:] == ["redis-cli", "ping"]
    assert "/healthz" in " ".join(services["api"]["healthcheck"]["test"])
    assert services["migrate"]["depends_on"] == {"postgres": {"condition": "service_healthy"}}
    assert services["migrate"]["restart"] == "no"
    for name in ("api", "worker", "fitness-worker", "beat"):
        depends = services[name]["depends_on"]
        assert depends["migrate"] == {"condition": "service_completed_successfully"}, name
        assert depends["redis"] == {"condition": "service_healthy"}, name


def test_postgres_data_lives_in_a_named_volume(compose: dict[str, Any]) -> None:
    assert "pgdata:/var/lib/postgresql/data" in compose["services"]["postgres"]["volumes"]
    assert "pgdata" in compose["volumes"]


def test_the_image_installs_the_locked_packages_and_serves_by_default() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "pip install --require-hashes --no-deps -r requirements.lock" in dockerfile
    assert "--no-deps --no-build-isolation -e ." in dockerfile  # nothing resolved outside the lock
    assert "COPY . /app" in dockerfile
    assert 'CMD ["incident-engine", "serve", "--host", "0.0.0.0"' in dockerfile
    assert "USER " in dockerfile  # not root


def _ignored(path: str, patterns: list[str]) -> bool:
    """Docker's rule: the last matching pattern wins; `!` re-includes; a folder pattern covers its content."""
    ignored = False
    for pattern in patterns:
        negate = pattern.startswith("!")
        bare = pattern.lstrip("!").rstrip("/")
        parts = path.split("/")
        prefixes = ["/".join(parts[:n]) for n in range(1, len(parts) + 1)]
        if any(fnmatch.fnmatch(p, bare) or fnmatch.fnmatch(p, bare.replace("**/", "")) for p in prefixes):
            ignored = not negate
    return ignored


def test_dockerignore_keeps_tests_artifacts_and_local_folders_out() -> None:
    patterns = [line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines()
                if line.strip() and not line.startswith("#")]
    for path in ("tests/unit/test_compose.py", "test-artifacts/report.html", "loadtests/reports/run.csv",
                 "instance/incident-engine.sqlite3", ".env", ".venv/bin/python", ".git/HEAD",
                 "api/__pycache__/app.cpython-311.pyc", "incident_engine.egg-info/PKG-INFO"):
        assert _ignored(path, patterns), path
    for path in ("requirements.lock", "pyproject.toml", "README.md", "api/app.py", "engine/config.py",
                 "bpmn/major_incident.bpmn", "loadtests/locustfile.py", "migrations/env.py", ".env.example"):
        assert not _ignored(path, patterns), path


def test_the_readme_says_how_to_run_compose_and_mint_a_token() -> None:
    readme = (ROOT / "README.md").read_text()
    assert "cp .env.example .env" in readme
    assert re.search(r"docker compose exec (-T )?api incident-engine token --user", readme)
    assert "--profile monitoring" in readme
