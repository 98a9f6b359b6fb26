"""The web pages (agent inbox, supervisor view, designer's workbench): an edge like /api/v1, server-rendered.

Every view translates a request into a call of the same engine service /api/v1 calls, and the result into
HTML; the signed-in person comes from the session cookie (see session.py), never from a bearer token.
"""
from __future__ import annotations

from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, Flask, g, render_template, request
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response

from engine.config import Settings
from engine.errors import Conflict, EngineError, Forbidden, Invalid, NotFound, TooLarge
from engine.identity.keys import web_secret
from engine.identity.policy import allowed

from . import governing, inbox, incidents, procedures, signin, starting, supervisor, tasks
from .formatting import FILTERS
from .session import CookieSessions, csrf_ok, csrf_token, load_principal

web = Blueprint("web", __name__)
web.register_blueprint(signin.bp)
web.register_blueprint(inbox.bp)
web.register_blueprint(tasks.bp)
web.register_blueprint(incidents.bp)
web.register_blueprint(starting.bp)
web.register_blueprint(supervisor.bp)
web.register_blueprint(procedures.bp)
web.register_blueprint(governing.bp)

# the main navigation: (endpoint, label, permissions of which one shows it)
NAV = (("web.inbox.inbox", "Inbox", ("tasks.work", "incidents.test")),
       ("web.starting.new", "Start an incident", ("incidents.start", "incidents.test")),
       ("web.supervisor.supervisor", "Supervisor", ("tasks.assign",)),
       ("web.procedures.workbench", "Procedures", ("procedures.read",)))


def _csp(settings: Settings) -> str:
    form_action = "'self'"
    if settings.oidc_issuer:  # signing out posts here, then redirects to the provider's end-session page
        parts = urlsplit(settings.oidc_issuer)
        form_action += f" {parts.scheme}://{parts.netloc}"
    return ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
            f"connect-src 'self'; form-action {form_action}; frame-ancestors 'none'; base-uri 'none'")


@web.before_request
def _session() -> Any:
    load_principal()
    if request.method not in ("GET", "HEAD", "OPTIONS") and not csrf_ok():
        return render_template("web/problem.html", title="This form has expired",
                               detail="The form did not carry this session's security token (it may be "
                                      "from an older page, or from another site). Nothing was changed: "
                                      "reload the page and try again."), 400
    return None


@web.after_request
def _headers(response: Response) -> Response:
    from ..extensions import engine

    response.headers["Content-Security-Policy"] = _csp(engine().settings)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Referrer-Policy"] = "same-origin"  # a sign-in link's token never leaves in a Referer
    response.headers.setdefault("Cache-Control", "no-store")
    return response


_STATUS = {NotFound: 404, Forbidden: 403, Conflict: 409, Invalid: 422, TooLarge: 413}


@web.errorhandler(EngineError)
def _engine_error(err: EngineError) -> tuple[str, int]:
    status = next((code for cls, code in _STATUS.items() if isinstance(err, cls)), 400)
    if status == 404:
        return render_template("web/problem.html", title="Not found",
                               detail="There is no such page, or it is not one of yours."), 404
    return render_template("web/problem.html", title=err.title, detail=err.detail), status


@web.errorhandler(HTTPException)
def _http_error(err: HTTPException) -> tuple[str, int]:
    """A page, not JSON, for what werkzeug refuses inside the pages (a file over the size cap, a bad method)."""
    status = err.code or 500
    if status >= 500:
        return render_template("web/problem.html", title="Something went wrong",
                               detail="The server failed; the error was logged. Nothing was changed."), 500
    return render_template("web/problem.html", title=err.name, detail=err.description), status


@web.app_context_processor
def _globals() -> dict[str, Any]:
    me = g.get("principal")
    links = [(endpoint, label) for endpoint, label, permissions in NAV
             if me is not None and any(allowed(me, p) for p in permissions)]
    return {"csrf_token": csrf_token, "me": me, "nav_links": links}


def install(app: Flask, settings: Settings) -> None:
    """Signed cookie sessions (HttpOnly, SameSite=Lax, Secure over HTTPS), the provider, the pages."""
    app.secret_key = web_secret(settings)
    app.session_interface = CookieSessions(settings.web_cookie_secure)
    app.config.update(SESSION_COOKIE_NAME="incident_engine_session", SESSION_COOKIE_HTTPONLY=True,
                      SESSION_COOKIE_SAMESITE="Lax",
                      PERMANENT_SESSION_LIFETIME=timedelta(minutes=settings.web_session_minutes))
    app.jinja_env.filters.update(FILTERS)
    signin.configure(app, settings)
    app.register_blueprint(web)

