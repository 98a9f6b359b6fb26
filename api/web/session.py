"""The signed-in person of a web page: kept in a signed, HttpOnly cookie, with a CSRF token and an expiry."""
from __future__ import annotations

import functools
import hmac
import secrets
import time
from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import urlsplit

from flask import Flask, Request, g, redirect, request, session, url_for
from flask.sessions import SecureCookieSessionInterface

from engine.identity.principal import Principal

F = TypeVar("F", bound=Callable[..., Any])
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"


class CookieSessions(SecureCookieSessionInterface):
    """Flask's signed cookie session, Secure whenever the request came over HTTPS (WEB_COOKIE_SECURE=auto)."""

    def __init__(self, secure: str) -> None:
        self.secure = secure

    def get_cookie_secure(self, app: Flask) -> bool:
        if self.secure == "always":
            return True
        return self.secure == "auto" and _is_https(request)


def _is_https(req: Request) -> bool:
    return bool(req.is_secure)


def sign_in(principal: Principal, *, minutes: int, via: str, id_token: str | None = None) -> None:
    """Start a fresh session for `principal` (a new CSRF token too: nothing from before sign-in survives)."""
    session.clear()
    session.permanent = True
    session.update({"uid": principal.user_id, "name": principal.name, "roles": sorted(principal.roles),
                    "groups": sorted(principal.groups), "exp": int(time.time()) + minutes * 60, "via": via,
                    "csrf": secrets.token_urlsafe(32)})
    if id_token and len(id_token) < 2500:  # for the provider's sign-out (a cookie holds about 4 KB)
        session["id_token"] = id_token


def load_principal() -> None:
    """Put the session's principal on `g` (None when signed out or expired; `g.session_expired` says which)."""
    g.principal = g.actor = None
    g.session_expired = False
    uid = session.get("uid")
    if not uid:
        return
    if int(session.get("exp", 0)) <= time.time():
        session.clear()
        g.session_expired = True
        return
    g.principal = Principal.of(uid, session.get("roles") or [], session.get("groups") or [], session.get("name"))
    g.actor = uid


def csrf_token() -> str:
    """The session's CSRF token (made on first use, so the sign-in forms carry one too)."""
    if "csrf" not in session:
        session["csrf"] = secrets.token_urlsafe(32)
    return str(session["csrf"])


def csrf_ok() -> bool:
    """Whether a state-changing request carries the session's CSRF token (form field or header)."""
    expected = session.get("csrf")
    sent = request.form.get(CSRF_FIELD) or request.headers.get(CSRF_HEADER) or ""
    return bool(expected) and hmac.compare_digest(str(expected), sent)


def safe_next(target: str | None, default: str) -> str:
    """A same-site path to return to after sign-in; anything else (another host, //x, a scheme) is ignored."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    parts = urlsplit(target)
    return default if parts.scheme or parts.netloc else target


def home_for(principal: Principal) -> str:
    """Where a person lands after signing in: their inbox, or the page their roles are for."""
    from flask import url_for as _url

    from engine.identity.policy import allowed

    if allowed(principal, "tasks.work"):
        return _url("web.inbox.inbox")
    if allowed(principal, "tasks.assign"):
        return _url("web.supervisor.supervisor")
    return _url("web.procedures.workbench")


def signed_in(view: F) -> F:
    """Send a visitor without a (live) session to sign in, coming back here afterwards."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if g.get("principal") is None:
            path = request.full_path.rstrip("?") if request.method == "GET" else None
            return redirect(url_for("web.signin.login", next=safe_next(path, "") or None,
                                    expired="1" if g.get("session_expired") else None))
        return view(*args, **kwargs)

    return wrapper  # type: ignore[return-value]
