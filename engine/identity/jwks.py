"""Reading a JWKS document: the signing keys usable with one algorithm, and the key a token's header names."""
from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import jwt


class KeyConfigError(ValueError):
    """The token settings cannot work (unknown algorithm, missing or mismatched key); raised at start-up."""


class TokenKeyError(Exception):
    """No key fits this token (for example an unknown `kid`)."""


def signing_keys(text: str, algorithm: str, source: str) -> list[jwt.PyJWK]:
    """The signing keys of a JWKS document usable with `algorithm`, bound to it (never to HS*)."""
    try:
        entries = json.loads(text)["keys"]
    except (ValueError, KeyError, TypeError) as err:
        raise KeyConfigError(f"{source} is not a JWKS document: {err}") from err
    found = []
    for entry in entries if isinstance(entries, list) else []:
        if not isinstance(entry, dict) or entry.get("use", "sig") != "sig" \
                or entry.get("alg", algorithm) != algorithm or entry.get("kty") == "oct":
            continue
        try:
            found.append(jwt.PyJWK(entry, algorithm=algorithm))
        except (jwt.PyJWTError, ValueError, TypeError):
            continue  # another key type (an encryption key): not ours to verify with
    if not found:
        raise KeyConfigError(f"{source} has no {algorithm} signing key")
    return found


def pick(keys: list[jwt.PyJWK], header: Mapping[str, Any]) -> Any | None:
    """The one key the token's `kid` names (or the only key when it names none); None when none fits."""
    kid = header.get("kid")
    matching = [k for k in keys if k.key_id == kid] if kid else keys
    return matching[0].key if len(matching) == 1 else None
