"""Signing in and out of the web pages: the OpenID Connect code flow with PKCE, or a one-time link."""
from __future__ import annotations

import logging
from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, Flask, current_app, g, redirect, render_template, request, session, url_for
from werkzeug.wrappers import Response

from engine.config import Settings
from engine.identity.keys import web_secret
from engine.identity.sign_in_links import LinkError
from engine.identity.sign_in_links import verify as verify_link
from engine.identity.tokens import TokenError, principal_from_claims
from engine.services import sign_in_links

from ..extensions import engine
from .session import home_for, safe_next, sign_in

log = logging.getLogger("incident_engine.web")
bp = Blueprint("signin", __name__)
PROVIDER = "idp"


def configure(app: Flask, settings: Settings) -> None:
    """Register the centre's provider with Authlib (discovery is read lazily, on the first sign-in)."""
    if not settings.oidc_issuer:
        return
    from authlib.integrations.flask_client import OAuth  # Authlib, joserfc and requests: 20 MB, only for OIDC

    oauth = OAuth(app)
    oauth.register(
        PROVIDER, client_id=settings.oidc_client_id, client_secret=settings.oidc_client_secret,
        server_metadata_url=settings.oidc_issuer.rstrip("/") + "/.well-known/openid-configuration",
        client_kwargs={"scope": settings.oidc_scopes, "code_challenge_method": "S256", "default_timeout": 10})
    app.extensions["incident_engine_oidc"] = oauth


def _settings() -> Settings:
    return engine().settings


def _provider() -> Any:
    oauth = current_app.extensions.get("incident_engine_oidc")
    return oauth.create_client(PROVIDER) if oauth else None


def _failed(message: str, status: int = 400) -> tuple[str, int]:
    return render_template("web/signin_failed.html", message=message), status


@bp.get("/login")
def login() -> Any:
    """With a provider: off to it (state, nonce and a PKCE verifier kept in the session). Without one: how
    to get a sign-in link."""
    target = request.args.get("next") or ""
    provider = _provider()
    if provider is None or request.args.get("signed_out"):
        return render_template("web/login.html", provider=provider is not None, next=safe_next(target, "") or None,
                               expired=bool(request.args.get("expired")),
                               signed_out=bool(request.args.get("signed_out")))
    from authlib.common.errors import AuthlibBaseError  # loaded with the provider (configure)

    session["next"] = safe_next(target, "") or None
    try:
        return provider.authorize_redirect(url_for(".callback", _external=True))
    except (AuthlibBaseError, OSError, ValueError) as err:
        log.warning("the identity provider cannot be reached: %s", err)
        return _failed("The identity provider cannot be reached just now. Try again in a minute.", 503)


@bp.get("/login/callback")
def callback() -> Any:
    """The provider's answer: state, code exchange with the PKCE verifier, ID token signature, iss, aud, nonce."""
    provider = _provider()
    if provider is None:
        return redirect(url_for(".login"))
    from authlib.common.errors import AuthlibBaseError
    from joserfc.errors import JoseError

    try:
        token = provider.authorize_access_token()
        claims = dict(token.get("userinfo") or {})
        if not claims:
            raise TokenError("the provider sent no ID token")
        principal = principal_from_claims(_settings(), claims)
    except (AuthlibBaseError, JoseError, TokenError, KeyError, ValueError, OSError) as err:
        log.warning("OIDC sign-in refused: %s", err)
        return _failed("Sign-in did not complete: the answer from the identity provider could not be trusted "
                       "or had expired. Nothing was changed; start again.")
    target = safe_next(session.pop("next", None), home_for(principal))
    sign_in(principal, minutes=_settings().web_session_minutes, via="oidc", id_token=token.get("id_token"))
    return redirect(target)


@bp.route("/login/link", methods=["GET", "POST"])
def link() -> Any:
    """A one-time link: GET shows who it signs in (link scanners cannot spend it), POST spends it."""
    if _provider() is not None:
        return _failed("Sign-in links are for the embedded default; this service signs in through the "
                       "identity provider.", 404)
    token = request.values.get("token", "")
    try:
        if request.method == "GET":
            who = verify_link(web_secret(_settings()), token).principal
            return render_template("web/link.html", who=who, token=token)
        principal = sign_in_links.redeem(engine(), token)
    except LinkError as err:
        return _failed(f"{err}. Nothing was changed.")
    sign_in(principal, minutes=_settings().web_session_minutes, via="link")
    return redirect(home_for(principal))


@bp.post("/logout")
def logout() -> Response:
    """Forget the session; with a provider that offers it, sign out there too (RP-initiated logout)."""
    id_token = session.get("id_token")
    session.clear()
    g.principal = None
    back = url_for(".login", signed_out="1", _external=True)
    provider = _provider()
    if provider is not None:
        from authlib.common.errors import AuthlibBaseError

        try:
            end = provider.load_server_metadata().get("end_session_endpoint")
        except (AuthlibBaseError, OSError, ValueError):
            end = None
        if end:
            params = {"post_logout_redirect_uri": back, "client_id": _settings().oidc_client_id}
            if id_token:
                params["id_token_hint"] = id_token
            return redirect(f"{end}?{urlencode(params)}")
    return redirect(back)
