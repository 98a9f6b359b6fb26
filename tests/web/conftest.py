"""Page tests on the embedded default (SQLite): the app, a procedure with forms, and signing in by link."""
from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from engine.identity.keys import web_secret
from engine.identity.sign_in_links import issue
from engine.services.engine_app import IncidentEngine
from tests.conftest import FIXTURES, make_settings
from tests.support.web import csrf_of

WEB_DESK = FIXTURES / "bpmn" / "web_desk.bpmn"


@pytest.fixture
def web_engine(tmp_path: Path, sqlite_template: Path) -> Iterator[IncidentEngine]:
    db = tmp_path / "pages.sqlite3"
    shutil.copy(sqlite_template, db)
    engine = IncidentEngine(make_settings(f"sqlite:///{db}", instance_dir=tmp_path / "instance"))
    yield engine
    engine.db.dispose()


@pytest.fixture
def web_app(web_engine: IncidentEngine) -> Any:
    from api import create_app

    app = create_app(web_engine.settings, web_engine)
    app.testing = True
    return app


def link_for(engine: IncidentEngine, user: str, roles: list[str], groups: list[str] = (), **kw: Any) -> str:
    """The path and query of a one-time sign-in link, as `incident-engine login-link` prints it."""
    url = issue(web_secret(engine.settings), "http://localhost", user=user, roles=roles, groups=list(groups), **kw)
    return url.removeprefix("http://localhost")


@pytest.fixture
def signed_in(web_app: Any, web_engine: IncidentEngine) -> Callable[..., Any]:
    """signed_in(user, roles, groups) -> a test client with a web session (through a real sign-in link)."""

    def make(user: str, roles: list[str], groups: list[str] = ()) -> Any:
        client = web_app.test_client()
        link = link_for(web_engine, user, roles, list(groups))
        page = client.get(link)
        assert page.status_code == 200
        token = link.split("token=", 1)[1]
        from urllib.parse import unquote

        done = client.post("/login/link", data={"token": unquote(token), "csrf_token": csrf_of(page.text)})
        assert done.status_code == 302 and done.headers["Location"] in ("/inbox", "/supervisor", "/procedures")
        return client

    return make
