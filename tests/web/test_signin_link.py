"""The embedded default's one-time sign-in links (signed, expiring, single use), sessions and CSRF."""
from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from engine.services.engine_app import IncidentEngine
from tests.support.web import csrf_of
from tests.web.conftest import link_for


def _token(link: str) -> str:
    return unquote(link.split("token=", 1)[1])


def test_the_cli_prints_a_link_that_signs_in_once(web_app: Any, web_engine: IncidentEngine, tmp_path: Path) -> None:
    env = {**os.environ, "INCIDENT_ENGINE_INSTANCE": str(web_engine.settings.instance_dir),
           "WEB_SECRET_KEY": web_engine.settings.web_secret_key or "", "PUBLIC_URL": "http://127.0.0.1:8123"}
    env.pop("OIDC_ISSUER", None)
    printed = subprocess.run([sys.executable, "-m", "api.cli", "login-link", "--user", "agent1", "--role", "agent",
                              "--group", "service-desk"], capture_output=True, text=True, env=env, timeout=60,
                             check=True).stdout.strip()
    assert printed.startswith("http://127.0.0.1:8123/login/link?token=")
    client = web_app.test_client()
    shown = client.get(urlsplit(printed).path + "?" + urlsplit(printed).query)
    assert shown.status_code == 200 and "Sign in as agent1" in shown.text and "service-desk" in shown.text
    assert client.get("/inbox").status_code == 302  # showing the link signs nobody in
    csrf = csrf_of(shown.text)
    done = client.post("/login/link", data={"token": _token(printed), "csrf_token": csrf})
    assert done.status_code == 302 and done.headers["Location"] == "/inbox"
    cookie = done.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    inbox = client.get("/inbox")
    assert inbox.status_code == 200 and "agent1" in inbox.text

    other = web_app.test_client()
    page = other.get(urlsplit(printed).path + "?" + urlsplit(printed).query)
    again = other.post("/login/link", data={"token": _token(printed), "csrf_token": csrf_of(page.text)})
    assert again.status_code == 400 and "already used" in again.text
    assert other.get("/inbox").status_code == 302


def test_forged_expired_and_csrf_less_links_sign_nobody_in(web_app: Any, web_engine: IncidentEngine) -> None:
    client = web_app.test_client()
    good = link_for(web_engine, "agent2", ["agent"])
    head, payload, signature = _token(good).split(".")
    forged_payload = payload[:-2] + ("AA" if not payload.endswith("AA") else "BB")
    for token in (f"{head}.{forged_payload}.{signature}", f"{head}.{payload}.{signature[::-1]}", "nonsense", ""):
        page = client.get(f"/login/link?token={token}")
        assert page.status_code == 400 and "not valid" in page.text and "Traceback" not in page.text
    expired = link_for(web_engine, "agent2", ["agent"], now=datetime.now(UTC) - timedelta(minutes=30))
    page = client.get(expired)
    assert page.status_code == 400 and "expired" in page.text

    shown = client.get(good)
    no_csrf = client.post("/login/link", data={"token": _token(good)})
    assert no_csrf.status_code == 400 and "This form has expired" in no_csrf.text
    assert client.get("/inbox").status_code == 302
    # the link was not spent by the refused post: it still works with the token
    done = client.post("/login/link", data={"token": _token(good), "csrf_token": csrf_of(shown.text)})
    assert done.status_code == 302


def test_an_expired_session_goes_back_to_sign_in(signed_in: Any) -> None:
    client = signed_in("agent3", ["agent"], ["service-desk"])
    assert client.get("/inbox").status_code == 200
    with client.session_transaction() as session:
        session["exp"] = int(time.time()) - 1
    answer = client.get("/inbox")
    assert answer.status_code == 302 and "/login" in answer.headers["Location"] and "expired=1" in answer.headers["Location"]
    page = client.get(answer.headers["Location"])
    assert "Your session has expired" in page.text
    assert client.get("/inbox").status_code == 302


def test_a_forged_session_cookie_is_ignored(web_app: Any) -> None:
    client = web_app.test_client()
    client.set_cookie("incident_engine_session", "eyJ1aWQiOiJhZG1pbiIsInJvbGVzIjpbImFkbWluIl19.ZZZZZZ.forged")
    assert client.get("/inbox").status_code == 302


def test_without_a_provider_the_login_page_says_how_to_get_a_link(web_app: Any) -> None:
    page = web_app.test_client().get("/login")
    assert page.status_code == 200 and "incident-engine login-link" in page.text


def test_a_file_over_the_size_cap_is_a_page_not_json(web_app: Any, signed_in: Any) -> None:
    import io

    dana = signed_in("dana", ["designer"])
    page = dana.get("/procedures")
    cap = web_app.config["MAX_CONTENT_LENGTH"]
    big = dana.post("/procedures", data={"csrf_token": csrf_of(page.text), "file": (io.BytesIO(b"x" * (cap + 1)), "a.bpmn")},
                    content_type="multipart/form-data")
    assert big.status_code == 413 and big.mimetype == "text/html" and "Traceback" not in big.text
