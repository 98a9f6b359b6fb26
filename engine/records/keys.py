"""The secret that keys the audit chain: AUDIT_HMAC_KEY, or one generated into the instance folder.

Every process that writes or verifies the trail must hold the same key, so a deployment of several
processes sets AUDIT_HMAC_KEY; the generated file suits the single-process embedded default.
"""
from __future__ import annotations

import os
import secrets
from typing import Any

from engine.config import Settings

KEY_FILE = "audit-key"
MIN_KEY_BYTES = 32
_BOUND: dict[Any, bytes] = {}  # by database URL: every engine object on one database shares the key


def load(settings: Settings) -> bytes:
    if settings.audit_hmac_key:
        key = settings.audit_hmac_key.encode()
        if len(key) < MIN_KEY_BYTES:
            raise ValueError(f"AUDIT_HMAC_KEY must be at least {MIN_KEY_BYTES} bytes long")
        return key
    path = settings.instance_dir / KEY_FILE
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        temp = path.with_name(f".{KEY_FILE}.{os.getpid()}.{secrets.token_hex(4)}")
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "w") as handle:
                handle.write(secrets.token_urlsafe(48))
            try:
                os.link(temp, path)  # of several processes starting together, exactly one key wins
            except FileExistsError:
                pass
        finally:
            temp.unlink(missing_ok=True)
    key = path.read_text().strip().encode()
    if len(key) < MIN_KEY_BYTES:
        raise ValueError(f"{path} holds an audit key shorter than {MIN_KEY_BYTES} bytes")
    return key


def bind(db: Any, key: bytes) -> None:
    """Remember the key for every connection to the database of the SQLAlchemy engine `db`."""
    _BOUND[db.url] = key


def for_connection(conn: Any) -> bytes:
    """The key bound to the engine of `conn`; writing audit rows through an unkeyed engine is a bug."""
    key = _BOUND.get(conn.engine.url)
    if key is None:
        raise RuntimeError("no audit key is bound to this database engine (build it through IncidentEngine)")
    return key
