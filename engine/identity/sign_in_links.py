"""One-time sign-in links for the embedded default (no identity provider): signed, expiring, usable once.

The link carries a short JWT signed with the web secret for a purpose of its own (its audience), so
neither an API token nor a session cookie can stand in for it; the database remembers each link used.
"""
from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

import jwt

from .principal import ROLES, Principal

AUDIENCE = "incident-engine:sign-in-link"
ALGORITHM = "HS256"


class LinkError(Exception):
    """The link is forged, expired, malformed or already used."""


@dataclass(frozen=True)
class SignInLink:
    """A verified link: who it signs in, and the id that makes it single-use."""

    link_id: str
    principal: Principal
    expires_at: datetime


def issue(secret: str, base_url: str, *, user: str, roles: Iterable[str] = (), groups: Iterable[str] = (),
          name: str | None = None, minutes: int = 10, now: datetime | None = None) -> str:
    """The URL that signs `user` in once, within `minutes`."""
    roles, groups = list(roles), list(groups)
    unknown = sorted(set(roles) - set(ROLES))
    if unknown:
        raise ValueError(f"unknown role(s) {', '.join(unknown)}; roles are {', '.join(ROLES)}")
    if not user.strip():
        raise ValueError("name the user")
    now = now or datetime.now(UTC)
    payload: dict[str, Any] = {"aud": AUDIENCE, "sub": user, "roles": roles, "groups": groups,
                               "iat": now, "exp": now + timedelta(minutes=minutes), "jti": str(uuid.uuid4())}
    if name:
        payload["name"] = name
    token = jwt.encode(payload, secret, algorithm=ALGORITHM)
    return f"{base_url.rstrip('/')}/login/link?token={quote(token)}"


def verify(secret: str, token: str) -> SignInLink:
    """The link's contents if its signature and expiry hold (whether it was used is the database's to say)."""
    if len(token) > 8192:
        raise LinkError("the sign-in link is too long")
    try:
        payload = jwt.decode(token, secret, algorithms=[ALGORITHM], audience=AUDIENCE,
                             options={"require": ["exp", "jti", "sub", "aud"]})
    except jwt.ExpiredSignatureError as err:
        raise LinkError("the sign-in link has expired; ask for a new one") from err
    except jwt.PyJWTError as err:
        raise LinkError("the sign-in link is not valid") from err
    roles, groups = payload.get("roles") or [], payload.get("groups") or []
    if not isinstance(roles, list) or not isinstance(groups, list):
        raise LinkError("the sign-in link is not valid")
    name = payload.get("name")
    principal = Principal.of(str(payload["sub"]), [str(r) for r in roles], [str(g) for g in groups],
                             name if isinstance(name, str) else None)
    return SignInLink(str(payload["jti"]), principal, datetime.fromtimestamp(int(payload["exp"]), UTC))
