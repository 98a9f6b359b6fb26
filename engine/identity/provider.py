"""The centre's OpenID Connect provider as the service sees it: its discovery document, fetched and cached."""
from __future__ import annotations

import json
import threading
import time
import urllib.request
from typing import Any

from .jwks import TokenKeyError

MAX_DOCUMENT_BYTES = 1024 * 1024
TIMEOUT_SECONDS = 5.0
DISCOVERY_TTL_SECONDS = 3600.0
RETRY_AFTER_FAILURE_SECONDS = 10.0


def fetch_json(url: str, *, timeout: float = TIMEOUT_SECONDS) -> Any:
    """GET a JSON document over http(s), bounded in time and size; TokenKeyError when that fails."""
    if not url.startswith(("https://", "http://")):
        raise TokenKeyError(f"not an http(s) URL: {url!r}")
    request = urllib.request.Request(url, headers={"Accept": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 (scheme checked above)
            body = response.read(MAX_DOCUMENT_BYTES + 1)
    except (OSError, ValueError) as err:
        raise TokenKeyError(f"cannot fetch {url}: {err}") from err
    if len(body) > MAX_DOCUMENT_BYTES:
        raise TokenKeyError(f"{url} answered with more than {MAX_DOCUMENT_BYTES} bytes")
    try:
        return json.loads(body)
    except ValueError as err:
        raise TokenKeyError(f"{url} did not answer with JSON: {err}") from err


def discovery_url(issuer: str) -> str:
    return issuer.rstrip("/") + "/.well-known/openid-configuration"


class ProviderMetadata:
    """The issuer's `.well-known/openid-configuration`, fetched on first use and kept for an hour.

    A document whose `issuer` is not the configured one is refused (OpenID Connect Discovery 1.0, 4.3)."""

    def __init__(self, issuer: str) -> None:
        self.issuer = issuer
        self._lock = threading.Lock()
        self._document: dict[str, Any] | None = None
        self._fetched_at = 0.0
        self._failed_at = -RETRY_AFTER_FAILURE_SECONDS

    def document(self) -> dict[str, Any]:
        with self._lock:
            now = time.monotonic()
            fresh = self._document is not None and now - self._fetched_at < DISCOVERY_TTL_SECONDS
            if fresh or now - self._failed_at < RETRY_AFTER_FAILURE_SECONDS and self._document is not None:
                assert self._document is not None
                return self._document
            try:
                document = fetch_json(discovery_url(self.issuer))
                if not isinstance(document, dict) or document.get("issuer") != self.issuer:
                    raise TokenKeyError(f"the discovery document of {self.issuer} names another issuer")
                if not isinstance(document.get("jwks_uri"), str):
                    raise TokenKeyError(f"the discovery document of {self.issuer} has no jwks_uri")
            except TokenKeyError:
                self._failed_at = now
                if self._document is None:
                    raise
                return self._document  # the provider is briefly unreachable: keep what we had
            self._document, self._fetched_at = document, now
            return document

    def jwks_uri(self) -> str:
        return str(self.document()["jwks_uri"])

    def signing_algorithms(self) -> list[str]:
        values = self.document().get("id_token_signing_alg_values_supported") or ["RS256"]
        return [str(v) for v in values if isinstance(v, str)]
