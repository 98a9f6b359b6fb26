"""Signing in to the web pages through a real OpenID Connect provider process (authorization code + PKCE),
state and nonce checks, sign-out, and the API accepting the issuer's tokens through its JWKS URL."""
from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from engine.identity import remote_keys
from tests.support.oidc import Provider, restart, running_provider
from tests.support.web import Served, csrf_of, serve

CLIENT_ID = "incident-engine-web"


@pytest.fixture
def provider() -> Iterator[Provider]:
    with running_provider() as p:
        yield p


@pytest.fixture
def served(tmp_path: Path, sqlite_template: Path, provider: Provider) -> Iterator[Served]:
    with serve(tmp_path, sqlite_template, oidc_issuer=provider.issuer, oidc_client_id=CLIENT_ID,
               oidc_client_secret="web-secret") as s:
        yield s


def _begin(browser: requests.Session, served: Served, path: str = "/inbox") -> dict[str, list[str]]:
    """Open a page signed out: sent to /login, then to the provider; the provider's authorize query."""
    first = browser.get(served.base + path, allow_redirects=False)
    assert first.status_code == 302 and urlsplit(first.headers["Location"]).path == "/login"
    to_provider = browser.get(served.base + first.headers["Location"] if first.headers["Location"].startswith("/")
                              else first.headers["Location"], allow_redirects=False)
    assert to_provider.status_code == 302
    return parse_qs(urlsplit(to_provider.headers["Location"]).query)


def _authorize(browser: requests.Session, provider: Provider, query: dict[str, list[str]], sub: str) -> str:
    """The person signs in at the provider's form; returns the callback URL the provider redirects to."""
    params = {k: v[0] for k, v in query.items()}
    answer = browser.post(f"{provider.issuer}/oauth2/authorize", params=params, data={"sub": sub},
                          allow_redirects=False)
    assert answer.status_code == 302, answer.text[:500]
    return str(answer.headers["Location"])


def sign_in(browser: requests.Session, served: Served, provider: Provider, sub: str) -> requests.Response:
    query = _authorize(browser, provider, _begin(browser, served), sub)
    return browser.get(query, allow_redirects=True)


def test_code_flow_with_pkce_signs_in_with_the_roles_and_groups_of_the_claims(
        served: Served, provider: Provider) -> None:
    provider.set_user("alice", name="Alice Agent", roles=["agent"], groups=["service-desk"])
    browser = requests.Session()
    query = _begin(browser, served)
    assert query["response_type"] == ["code"] and query["client_id"] == [CLIENT_ID]
    assert query["code_challenge_method"] == ["S256"] and len(query["code_challenge"][0]) >= 43
    assert query["state"][0] and query["nonce"][0] and "openid" in query["scope"][0].split()
    assert query["redirect_uri"] == [f"{served.base}/login/callback"]
    callback = _authorize(browser, provider, query, "alice")
    landed = browser.get(callback, allow_redirects=False)
    assert landed.status_code == 302 and landed.headers["Location"] == "/inbox"
    cookie = landed.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie  # plain http here
    inbox = browser.get(served.base + "/inbox")
    assert inbox.status_code == 200 and "Alice Agent" in inbox.text
    assert "default-src 'none'" in inbox.headers["Content-Security-Policy"]


def test_a_callback_with_another_state_or_replayed_signs_nobody_in(served: Served, provider: Provider) -> None:
    provider.set_user("bob", roles=["agent"])
    browser = requests.Session()
    callback = _authorize(browser, provider, _begin(browser, served), "bob")
    parts = urlsplit(callback)
    code = parse_qs(parts.query)["code"][0]
    forged = browser.get(f"{served.base}/login/callback?code={code}&state=not-the-state")
    assert forged.status_code == 400 and "Sign-in did not complete" in forged.text
    assert "Traceback" not in forged.text
    assert browser.get(served.base + "/inbox", allow_redirects=False).status_code == 302
    ok = browser.get(callback)
    assert ok.status_code == 200 and "bob" in ok.text
    again = requests.Session()  # the same answer replayed in another browser: no state of its own there
    assert again.get(callback).status_code == 400
    assert again.get(served.base + "/inbox", allow_redirects=False).status_code == 302


def test_a_nonce_that_does_not_match_the_request_is_refused(served: Served, provider: Provider) -> None:
    """Two sign-ins started in one browser: the code of the second, presented with the state of the first,
    carries the second's nonce in its ID token; the first's nonce is expected, so it is refused."""
    provider.set_user("carol", roles=["agent"])
    browser = requests.Session()
    first = _begin(browser, served)
    second = _begin(browser, served)
    assert first["nonce"] != second["nonce"]
    code = parse_qs(urlsplit(_authorize(browser, provider, second, "carol")).query)["code"][0]
    mixed = browser.get(f"{served.base}/login/callback?code={code}&state={first['state'][0]}")
    assert mixed.status_code == 400 and "could not be trusted" in mixed.text
    assert browser.get(served.base + "/inbox", allow_redirects=False).status_code == 302


def test_sign_out_needs_the_csrf_token_and_ends_at_the_provider(served: Served, provider: Provider) -> None:
    provider.set_user("dave", roles=["agent"])
    browser = requests.Session()
    page = sign_in(browser, served, provider, "dave")
    refused = browser.post(served.base + "/logout", allow_redirects=False)
    assert refused.status_code == 400 and "This form has expired" in refused.text
    assert browser.get(served.base + "/inbox", allow_redirects=False).status_code == 200
    out = browser.post(served.base + "/logout", data={"csrf_token": csrf_of(page.text)}, allow_redirects=False)
    end = urlsplit(out.headers["Location"])
    assert out.status_code == 302 and f"{end.scheme}://{end.netloc}{end.path}" == provider.discovery()["end_session_endpoint"]
    params = parse_qs(end.query)
    assert params["id_token_hint"][0].count(".") == 2
    assert params["post_logout_redirect_uri"] == [f"{served.base}/login?signed_out=1"]
    assert browser.get(served.base + "/inbox", allow_redirects=False).status_code == 302


def _id_token(browser: requests.Session, served: Served, provider: Provider, sub: str) -> str:
    """An ID token the provider issued to our client (what an SPA or a desktop would send as a bearer)."""
    query = _authorize(browser, provider, _begin(browser, served), sub)
    code = parse_qs(urlsplit(query).query)["code"][0]
    answer = requests.post(provider.discovery()["token_endpoint"], data={
        "grant_type": "authorization_code", "code": code, "redirect_uri": f"{served.base}/login/callback",
        "client_id": CLIENT_ID, "client_secret": "web-secret"}, timeout=10)
    assert answer.status_code == 200, answer.text
    return str(answer.json()["id_token"])


def test_the_api_accepts_the_issuers_tokens_through_its_jwks_and_follows_a_key_rotation(
        served: Served, provider: Provider, monkeypatch: Any) -> None:
    monkeypatch.setattr(remote_keys, "MIN_REFRESH_SECONDS", 0.0)
    provider.set_user("erin", roles=["agent"], groups=["service-desk"])
    token = _id_token(requests.Session(), served, provider, "erin")
    api = served.base + "/api/v1/tasks"
    assert requests.get(api, headers={"Authorization": f"Bearer {token}"}, timeout=10).status_code == 200
    forged = token[:-6] + ("AAAAAA" if not token.endswith("AAAAAA") else "BBBBBB")
    refused = requests.get(api, headers={"Authorization": f"Bearer {forged}"}, timeout=10)
    assert refused.status_code == 401 and refused.headers["Content-Type"] == "application/problem+json"

    restart(provider)  # new signing keys under a new kid
    provider.set_user("erin", roles=["agent"], groups=["service-desk"])
    rotated = _id_token(requests.Session(), served, provider, "erin")
    # this provider names no kid in its tokens: a signature that fails with the cached keys fetches them again
    assert requests.get(api, headers={"Authorization": f"Bearer {rotated}"}, timeout=10).status_code == 200
    old = requests.get(api, headers={"Authorization": f"Bearer {token}"}, timeout=10)
    assert old.status_code == 401 and re.search("[Ss]ignature", old.json()["detail"])


def test_the_issuers_token_for_another_client_is_refused(served: Served, provider: Provider) -> None:
    """An ID token the same provider issued to another application (its `aud`) does not open our API."""
    provider.set_user("frank", roles=["admin"])
    params = {"client_id": "another-app", "redirect_uri": "http://127.0.0.1:9/cb", "response_type": "code",
              "scope": "openid", "state": "s", "nonce": "n"}
    answer = requests.post(f"{provider.issuer}/oauth2/authorize", params=params, data={"sub": "frank"},
                           allow_redirects=False, timeout=10)
    code = parse_qs(urlsplit(answer.headers["Location"]).query)["code"][0]
    token = requests.post(provider.discovery()["token_endpoint"], data={
        "grant_type": "authorization_code", "code": code, "redirect_uri": params["redirect_uri"],
        "client_id": "another-app", "client_secret": "x"}, timeout=10).json()["id_token"]
    refused = requests.get(served.base + "/api/v1/tasks", headers={"Authorization": f"Bearer {token}"}, timeout=10)
    assert refused.status_code == 401 and "audience" in refused.json()["detail"].lower()
