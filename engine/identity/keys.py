"""The keys that sign and verify bearer tokens: a shared HS secret, a PEM public key, or a JWKS file."""
from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import jwt
from jwt.algorithms import get_default_algorithms

from engine.config import Settings

from .jwks import KeyConfigError, TokenKeyError, pick, signing_keys
from .remote_keys import RemoteKeySet

__all__ = ["KeyConfigError", "TokenKeyError", "VerificationKeys", "hs_secret", "signing_key"]

SYMMETRIC = ("HS256", "HS384", "HS512")
ASYMMETRIC = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512")
MIN_SECRET_BYTES = 32
SECRET_FILE = "jwt-secret"


def check_algorithm(name: str) -> str:
    if name not in SYMMETRIC + ASYMMETRIC:
        raise KeyConfigError(f"JWT_ALGORITHM must be one of {', '.join(SYMMETRIC + ASYMMETRIC)}, not {name!r}")
    return name


def hs_secret(settings: Settings) -> str:
    """JWT_SECRET, or the secret kept in <instance>/jwt-secret (generated, mode 0600, on first use)."""
    if settings.jwt_secret:
        if len(settings.jwt_secret.encode()) < MIN_SECRET_BYTES:
            raise KeyConfigError(f"JWT_SECRET must be at least {MIN_SECRET_BYTES} bytes long")
        return settings.jwt_secret
    return instance_secret(settings.instance_dir, SECRET_FILE)


def instance_secret(instance_dir: Path, name: str) -> str:
    """A secret kept in <instance>/<name>, generated (mode 0600) on first use; every process reads the same one."""
    path = instance_dir / name
    if path.exists():
        return _read_secret(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_name(f".{name}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_urlsafe(48))
        try:
            os.link(temp, path)  # atomic: of several processes starting together, exactly one secret wins
        except FileExistsError:
            pass
    finally:
        temp.unlink(missing_ok=True)
    return _read_secret(path)


def _read_secret(path: Path) -> str:
    secret = path.read_text().strip()
    if len(secret.encode()) < MIN_SECRET_BYTES:
        raise KeyConfigError(f"{path} holds a secret shorter than {MIN_SECRET_BYTES} bytes")
    return secret


class VerificationKeys:
    """Finds the key for a token's header; a JWKS file is re-read when it changes (key rotation)."""

    def __init__(self, settings: Settings) -> None:
        self.algorithm = check_algorithm(settings.jwt_algorithm)
        self._jwks_file = settings.jwt_jwks_file
        self._jwks: tuple[float, list[jwt.PyJWK]] | None = None
        self._static: Any = None
        self._remote: RemoteKeySet | None = None
        if self.algorithm in SYMMETRIC:
            if settings.jwt_public_key_file or settings.jwt_jwks_file or settings.jwt_jwks_url:
                raise KeyConfigError(f"{self.algorithm} uses JWT_SECRET; a public key or JWKS file needs RS/PS/ES")
            self._static = hs_secret(settings)
        elif settings.jwt_public_key_file:
            pem = settings.jwt_public_key_file.read_bytes()
            try:
                self._static = get_default_algorithms()[self.algorithm].prepare_key(pem)
            except (jwt.PyJWTError, ValueError) as err:
                raise KeyConfigError(f"JWT_PUBLIC_KEY_FILE is not a {self.algorithm} public key: {err}") from err
            if hasattr(self._static, "private_bytes"):
                raise KeyConfigError("JWT_PUBLIC_KEY_FILE holds a private key; give the server the public key only")
        elif self._jwks_file:
            self._keyset()
        elif settings.jwt_jwks_url:
            self._remote = RemoteKeySet(lambda: settings.jwt_jwks_url or "", self.algorithm)
        else:
            raise KeyConfigError(f"{self.algorithm} needs JWT_PUBLIC_KEY_FILE, JWT_JWKS_FILE or JWT_JWKS_URL")

    def _keyset(self) -> list[jwt.PyJWK]:
        assert self._jwks_file is not None
        try:
            mtime = self._jwks_file.stat().st_mtime
            if self._jwks is None or self._jwks[0] != mtime:
                self._jwks = (mtime, signing_keys(self._jwks_file.read_text(), self.algorithm, "JWT_JWKS_FILE"))
        except (OSError, KeyConfigError):
            if self._jwks is None:
                raise
            # mid-rotation (file missing or half written): keep verifying with the last good set
        return self._jwks[1]

    def generation(self) -> Any:
        """Changes whenever the keys do (a JWKS file re-read, a JWKS URL whose set changed); fixed for a
        secret or a public key file."""
        if self._static is not None:
            return 0
        if self._remote is not None:
            return self._remote.document()
        self._keyset()  # re-reads the file when it changed
        assert self._jwks is not None
        return self._jwks[0]

    def key_for(self, header: Mapping[str, Any]) -> Any:
        if self._static is not None:
            return self._static
        if self._remote is not None:
            return self._remote.key_for(header)
        key = pick(self._keyset(), header)
        if key is None:
            kid = header.get("kid")
            raise TokenKeyError(f"no signing key with kid {kid!r}" if kid else "the token names no key id (kid)")
        return key


def signing_key(settings: Settings, private_key_file: Path | None = None) -> Any:
    """What `incident-engine token` signs with: the HS secret, or a private key file for RS/PS/ES."""
    algorithm = check_algorithm(settings.jwt_algorithm)
    if algorithm in SYMMETRIC:
        return hs_secret(settings)
    if private_key_file is None:
        raise KeyConfigError(f"{algorithm} tokens are signed by your identity provider; give --private-key "
                             "to sign a development token yourself")
    return get_default_algorithms()[algorithm].prepare_key(private_key_file.read_bytes())



WEB_SECRET_FILE = "web-secret"


def web_secret(settings: Settings) -> str:
    """What signs the web session cookie and sign-in links: WEB_SECRET_KEY, or <instance>/web-secret."""
    if settings.web_secret_key:
        if len(settings.web_secret_key.encode()) < MIN_SECRET_BYTES:
            raise KeyConfigError(f"WEB_SECRET_KEY must be at least {MIN_SECRET_BYTES} bytes long")
        return settings.web_secret_key
    return instance_secret(settings.instance_dir, WEB_SECRET_FILE)
