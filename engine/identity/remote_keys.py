"""An identity provider's JWKS URL: keys cached, fetched again for a `kid` we have not seen (key rotation)."""
from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

import jwt

from .jwks import KeyConfigError, TokenKeyError, pick, signing_keys
from .provider import fetch_json

KEYS_TTL_SECONDS = 300.0
# an unknown kid fetches the set again at most this often, so forged kids cannot make us hammer the provider
MIN_REFRESH_SECONDS = 30.0


class RemoteKeySet:
    """The signing keys published at a JWKS URL, for one algorithm."""

    def __init__(self, url: Callable[[], str], algorithm: str, *, ttl: float = KEYS_TTL_SECONDS,
                 min_refresh: float | None = None) -> None:
        self._url = url
        self.algorithm = algorithm
        self.ttl = ttl
        self.min_refresh = MIN_REFRESH_SECONDS if min_refresh is None else min_refresh
        self._lock = threading.Lock()
        self._keys: list[jwt.PyJWK] = []
        self._document = ""
        self._fetched_at = -float("inf")
        self.fetches = 0  # how many times the set was fetched (tests read it)

    def _fetch(self, now: float) -> None:
        """Fetch the set; on failure keep the keys we had and try again after `min_refresh`."""
        self.fetches += 1
        try:
            url = self._url()
            document = json.dumps(fetch_json(url), sort_keys=True)
            self._keys = signing_keys(document, self.algorithm, url)
            self._document = document
        except (KeyConfigError, TokenKeyError) as err:
            self._fetched_at = now - self.ttl + self.min_refresh
            if not self._keys:
                raise TokenKeyError(str(err)) from err
            return
        self._fetched_at = now

    def refresh(self) -> bool:
        """Fetch the set again unless that was done within `min_refresh`; whether the keys changed.

        For providers that put no `kid` in their tokens: a signature that fails may be a rotated key."""
        with self._lock:
            now = time.monotonic()
            if now - self._fetched_at < self.min_refresh:
                return False
            before = self._document
            self._fetch(now)
            return self._document != before

    def document(self) -> str:
        """The key set as last fetched (fetched again once `ttl` has passed): it changes when the keys do."""
        with self._lock:
            now = time.monotonic()
            if now - self._fetched_at >= self.ttl:
                self._fetch(now)
            return self._document

    def key_for(self, header: Mapping[str, Any]) -> Any:
        with self._lock:
            now = time.monotonic()
            if now - self._fetched_at >= self.ttl:
                self._fetch(now)
            key = pick(self._keys, header)
            if key is None and header.get("kid") and now - self._fetched_at >= self.min_refresh:
                self._fetch(now)  # a kid we have not seen: the provider may have rotated its keys
                key = pick(self._keys, header)
        if key is None:
            kid = header.get("kid")
            raise TokenKeyError(f"no signing key with kid {kid!r}" if kid else "the token names no key id (kid)")
        return key
