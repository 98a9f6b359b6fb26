"""Pure parts of the web sign-in: where a sign-in may return to, and the JWKS cache's refresh rules."""
from __future__ import annotations

import json
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from engine.identity import remote_keys
from engine.identity.jwks import TokenKeyError
from engine.identity.remote_keys import RemoteKeySet


@pytest.mark.parametrize("target, expected", [
    ("/tasks/1?x=2", "/tasks/1?x=2"), ("//evil.example/x", "/d"), ("https://evil.example/", "/d"),
    ("/\\evil.example", "/d"), ("javascript:alert(1)", "/d"), ("", "/d"), (None, "/d"), ("inbox", "/d"),
])
def test_only_same_site_paths_are_returned_to(target: str | None, expected: str) -> None:
    from api.web.session import safe_next

    assert safe_next(target, "/d") == expected


def _jwk(kid: str) -> dict[str, Any]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048).public_key()
    return {**json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key)), "kid": kid, "use": "sig", "alg": "RS256"}


def test_an_unknown_kid_fetches_again_but_not_more_often_than_the_minimum(monkeypatch: Any) -> None:
    published = {"keys": [_jwk("one")]}
    calls: list[str] = []

    def fetch(url: str, **_: Any) -> Any:
        calls.append(url)
        return published

    monkeypatch.setattr(remote_keys, "fetch_json", fetch)
    clock = [1000.0]
    monkeypatch.setattr(remote_keys.time, "monotonic", lambda: clock[0])
    keys = RemoteKeySet(lambda: "http://idp/jwks", "RS256", ttl=300, min_refresh=30)
    assert keys.key_for({"kid": "one"}) is not None and len(calls) == 1
    assert keys.key_for({"kid": "one"}) is not None and len(calls) == 1  # cached
    published["keys"].append(_jwk("two"))
    with pytest.raises(TokenKeyError):
        keys.key_for({"kid": "two"})  # fetched within the last 30 s: not again
    for _ in range(5):
        with pytest.raises(TokenKeyError):
            keys.key_for({"kid": "forged"})
    assert len(calls) == 1
    clock[0] += 31
    assert keys.key_for({"kid": "two"}) is not None and len(calls) == 2  # rotation picked up
    clock[0] += 301
    keys.key_for({"kid": "two"})
    assert len(calls) == 3  # the TTL expired


def test_a_provider_that_is_down_keeps_the_keys_we_had(monkeypatch: Any) -> None:
    state = {"up": True}
    published = {"keys": [_jwk("one")]}

    def fetch(url: str, **_: Any) -> Any:
        if not state["up"]:
            raise TokenKeyError("down")
        return published

    monkeypatch.setattr(remote_keys, "fetch_json", fetch)
    clock = [0.0]
    monkeypatch.setattr(remote_keys.time, "monotonic", lambda: clock[0])
    keys = RemoteKeySet(lambda: "http://idp/jwks", "RS256", ttl=300, min_refresh=30)
    keys.key_for({"kid": "one"})
    state["up"] = False
    clock[0] += 400
    assert keys.key_for({"kid": "one"}) is not None  # the TTL ran out while it was down: still verifying
