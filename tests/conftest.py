"""Shared fixtures: a migrated database on SQLite and on PostgreSQL, the engine, the Flask app and tokens."""
from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from engine.config import Settings
from engine.db.database import make_engine
from engine.db.migrate import upgrade
from engine.db.tables import metadata
from engine.identity.tokens import issue_token
from engine.services.engine_app import IncidentEngine

ROOT = Path(__file__).resolve().parent.parent
BUNDLED = ROOT / "bpmn"
FIXTURES = Path(__file__).resolve().parent / "fixtures"
TEST_JWT_SECRET = "test-secret-for-the-incident-engine-suite-0123456789"
TEST_AUDIT_KEY = "test-audit-chain-key-for-the-incident-engine-suite-0123"
TEST_WEB_SECRET = "test-web-secret-for-the-incident-engine-suite-9876543210"
PG_ADMIN_URL = os.environ.get("INCIDENT_ENGINE_PG_ADMIN_URL", "postgresql+psycopg://postgres@127.0.0.1/postgres")


def corpus_dir() -> Path:
    """The third-party BPMN corpus: INCIDENT_ENGINE_CORPUS, else ../shared/corpus beside the checkout."""
    env = os.environ.get("INCIDENT_ENGINE_CORPUS")
    return Path(env) if env else ROOT.parent / "shared" / "corpus"


def _corpus_missing() -> bool:
    """Outside CI, tests marked `corpus` are deselected when the corpus is absent; in CI they run (and fail)."""
    return not corpus_dir().is_dir() and os.environ.get("CI", "").lower() not in ("1", "true", "yes")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if not _corpus_missing():
        return
    deselected = [item for item in items if item.get_closest_marker("corpus")]
    if deselected:
        items[:] = [item for item in items if not item.get_closest_marker("corpus")]
        config.hook.pytest_deselected(items=deselected)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if _corpus_missing():
        terminalreporter.write_line(
            f"corpus tests deselected: no BPMN corpus at {corpus_dir()} (set INCIDENT_ENGINE_CORPUS, or lay "
            "../shared/corpus beside the clone; in CI a missing corpus fails)", yellow=True)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("db") / "template.sqlite3"
    upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def pg_database() -> Iterator[str]:
    """A fresh PostgreSQL database for this test session, migrated; dropped at the end."""
    name = f"ie_test_{uuid.uuid4().hex[:10]}"
    admin = make_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    upgrade(url)
    yield url
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _truncate(url: str) -> None:
    engine = make_engine(url)
    with engine.begin() as conn:
        names = ", ".join(f'"{t.name}"' for t in metadata.sorted_tables)
        conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        path = tmp_path / "engine.sqlite3"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        yield f"sqlite:///{path}"
    else:
        url = request.getfixturevalue("pg_database")
        _truncate(url)
        yield url


@pytest.fixture
def pg_url(pg_database: str) -> str:
    _truncate(pg_database)
    return pg_database


def make_settings(url: str, **overrides: object) -> Settings:
    overrides.setdefault("jwt_secret", TEST_JWT_SECRET)
    overrides.setdefault("audit_hmac_key", TEST_AUDIT_KEY)
    overrides.setdefault("web_secret_key", TEST_WEB_SECRET)
    return Settings(database_url=url, deploy_bundled=False, **overrides)  # type: ignore[arg-type]


TokenFactory = Callable[..., str]


@pytest.fixture
def token(engine: IncidentEngine) -> TokenFactory:
    """token(user, roles=(), groups=(), **claims) -> a JWT the app under test accepts."""

    def make(user: str, roles: Iterable[str] = (), groups: Iterable[str] = (), **claims: Any) -> str:
        return issue_token(engine.settings, user=user, roles=roles, groups=groups, **claims)

    return make


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def engine(database_url: str) -> Iterator[IncidentEngine]:
    eng = IncidentEngine(make_settings(database_url))
    yield eng
    eng.db.dispose()


@pytest.fixture
def app(engine: IncidentEngine):  # type: ignore[no-untyped-def]
    from api import create_app

    app = create_app(engine.settings, engine)
    app.testing = True
    return app


@pytest.fixture
def client(app, token: TokenFactory):  # type: ignore[no-untyped-def]
    """A test client that sends an admin token unless a request passes its own Authorization header."""
    test_client = app.test_client()
    test_client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {token('admin', ['admin'])}"
    return test_client


@pytest.fixture
def client_as(app, token: TokenFactory):  # type: ignore[no-untyped-def]
    """client_as(user, roles, groups) -> a test client that sends that user's token on every request."""

    def make(user: str, roles: Iterable[str] = (), groups: Iterable[str] = ()):  # type: ignore[no-untyped-def]
        test_client = app.test_client()
        test_client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {token(user, roles, groups)}"
        return test_client

    return make


def admin_test_client(app):  # type: ignore[no-untyped-def]
    """A test client for an app built by hand, sending an admin token on every request."""
    settings = app.extensions["incident_engine"].settings
    test_client = app.test_client()
    test_client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {issue_token(settings, user='admin', roles=['admin'])}"
    return test_client
