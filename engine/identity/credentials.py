"""HTTP Basic credentials for clients that cannot send a bearer token (pycamunda, external-task workers).

The source is one JSON file (BASIC_CREDENTIALS_FILE): `{"users": [{"user", "password_hash", "roles",
"groups"}]}`, each password an argon2id hash (argon2-cffi, the reference implementation's bindings); no
password is ever stored or logged in clear. `incident-engine credentials` writes entries.

Hashing is deliberately slow (tens of milliseconds), and Basic clients send the password on every
request, so a successful check is remembered for a short while keyed by a keyed hash of the pair (never
the password itself); the memory is dropped whenever the file changes.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
import threading
import time
from pathlib import Path
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from .principal import ROLES, Principal

REMEMBER_SECONDS = 300.0
_hasher = PasswordHasher()


class CredentialsError(ValueError):
    """The credentials file cannot be read or is malformed (raised at start-up and when it changes)."""


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def _load(path: Path) -> dict[str, dict[str, Any]]:
    try:
        raw = json.loads(path.read_text())
    except (OSError, ValueError) as err:
        raise CredentialsError(f"cannot read the credentials file {path}: {err}") from None
    users = raw.get("users") if isinstance(raw, dict) else None
    if not isinstance(users, list):
        raise CredentialsError(f"{path} must be a JSON object with a `users` list")
    found: dict[str, dict[str, Any]] = {}
    for entry in users:
        if not isinstance(entry, dict) or not isinstance(entry.get("user"), str) \
                or not str(entry.get("password_hash", "")).startswith("$argon2"):
            raise CredentialsError(f"{path}: every user needs `user` and an argon2 `password_hash`")
        unknown = set(entry.get("roles") or ()) - set(ROLES)
        if unknown:
            raise CredentialsError(f"{path}: user {entry['user']!r} has unknown roles {sorted(unknown)}")
        found[entry["user"]] = entry
    return found


class BasicCredentials:
    """Verifies `user:password` pairs against the file; thread-safe, re-reads the file when it changes."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._key = secrets.token_bytes(32)
        self._stamp: tuple[int, int] | None = None
        self._users: dict[str, dict[str, Any]] = {}
        self._remembered: dict[bytes, tuple[float, Principal]] = {}
        if path is not None:
            self._refresh()

    @property
    def enabled(self) -> bool:
        return self.path is not None

    def _refresh(self) -> None:
        assert self.path is not None
        try:
            stat = self.path.stat()
        except OSError as err:
            raise CredentialsError(f"cannot read the credentials file {self.path}: {err}") from None
        stamp = (stat.st_mtime_ns, stat.st_size)
        if stamp != self._stamp:
            self._users, self._stamp, self._remembered = _load(self.path), stamp, {}

    def _memo(self, user: str, password: str) -> bytes:
        return hmac.new(self._key, f"{user}\0{password}".encode(), hashlib.sha256).digest()

    def remembered(self, user: str, password: str) -> Principal | None:
        """The principal if this exact pair was verified a short while ago (no hashing), else None."""
        if self.path is None:
            return None
        memo = self._memo(user, password)
        with self._lock:
            self._refresh()
            found = self._remembered.get(memo)
            if found is None:
                return None
            if found[0] <= time.monotonic():
                del self._remembered[memo]
                return None
            return found[1]

    def verify(self, user: str, password: str) -> Principal | None:
        """The principal for a correct pair, else None (unknown user and wrong password look the same)."""
        if self.path is None:
            return None
        principal = self.remembered(user, password)
        if principal is not None:
            return principal
        memo = self._memo(user, password)
        with self._lock:
            entry = self._users.get(user)
        if entry is None:
            _hasher.hash(password)  # the same work as a wrong password, so timing does not tell users apart
            return None
        try:
            _hasher.verify(entry["password_hash"], password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return None
        principal = Principal.of(user, entry.get("roles") or (), entry.get("groups") or (), entry.get("name"))
        with self._lock:
            self._remembered[memo] = (time.monotonic() + REMEMBER_SECONDS, principal)
        return principal


def add_user(path: Path, user: str, password: str, roles: list[str], groups: list[str]) -> None:
    """Create or replace one user in the file (written atomically, mode 0600)."""
    users = list(_load(path).values()) if path.exists() else []
    users = [u for u in users if u["user"] != user]
    users.append({"user": user, "password_hash": hash_password(password), "roles": roles, "groups": groups})
    unknown = set(roles) - set(ROLES)
    if unknown:
        raise CredentialsError(f"unknown roles {sorted(unknown)}; known: {', '.join(ROLES)}")
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump({"users": users}, handle, indent=2)
    os.replace(tmp, path)
