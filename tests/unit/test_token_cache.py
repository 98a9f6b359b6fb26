"""The verified-token cache: a hit skips the decode, never past exp, bounded, cleared when the keys rotate."""
from __future__ import annotations

import json
import os
from pathlib import Path
from unittest import mock

import jwt
import pytest

from engine.identity.principal import Principal
from engine.identity.token_cache import VerifiedTokens
from engine.identity.tokens import TokenError, TokenVerifier, issue_token
from tests.unit.test_tokens import _jwk, rsa_pair, settings


def test_a_verified_token_is_not_decoded_again(tmp_path: Path) -> None:
    s = settings(tmp_path)
    verifier = TokenVerifier(s)
    token = issue_token(s, user="alice", roles=["agent"])
    with mock.patch("engine.identity.tokens.jwt.decode", wraps=jwt.decode) as decode:
        first, second = verifier.verify(token), verifier.verify(token)
    assert first == second and first.user_id == "alice" and decode.call_count == 1
    # a forged variant of the same token is its own key, verified (and refused) on its own
    with pytest.raises(TokenError):
        verifier.verify(token[:-2] + ("AA" if not token.endswith("AA") else "BB"))


def test_entries_end_at_exp_and_the_cache_is_bounded() -> None:
    now = [1000.0]
    cache = VerifiedTokens(2, clock=lambda: now[0])
    alice, bob, carol = Principal("alice"), Principal("bob"), Principal("carol")
    cache.put("t-alice", 0, alice, exp=1010.0)
    assert cache.get("t-alice", 0) is alice
    now[0] = 1010.0
    assert cache.get("t-alice", 0) is None  # never at or past exp, whatever the leeway
    cache.put("t-old", 0, alice, exp=1000.0)
    assert cache.get("t-old", 0) is None  # an expired token is not stored at all
    cache.put("t-alice", 0, alice, exp=2000.0)
    cache.put("t-bob", 0, bob, exp=2000.0)
    cache.get("t-alice", 0)  # alice is now the most recently used
    cache.put("t-carol", 0, carol, exp=2000.0)
    assert len(cache) == 2 and cache.get("t-bob", 0) is None and cache.get("t-alice", 0) is alice
    assert cache.get("t-alice", 1) is None and len(cache) == 0  # another key generation: all forgotten
    off = VerifiedTokens(0)
    off.put("t", 0, alice, exp=1e12)
    assert off.get("t", 0) is None


def test_a_key_removed_from_the_jwks_file_stops_a_cached_token(tmp_path: Path) -> None:
    private, public = rsa_pair(tmp_path, "k")
    _other_private, other_public = rsa_pair(tmp_path, "other")
    jwks = tmp_path / "jwks.json"
    jwks.write_text(json.dumps({"keys": [_jwk(public, "k1")]}))
    s = settings(tmp_path, jwt_algorithm="RS256", jwt_jwks_file=jwks)
    verifier = TokenVerifier(s)
    token = issue_token(s, user="u", private_key=private, kid="k1")
    assert verifier.verify(token).user_id == "u" and verifier.verify(token).user_id == "u"
    jwks.write_text(json.dumps({"keys": [_jwk(other_public, "k2")]}))  # k1 rotated out
    os.utime(jwks, (1, 2_000_000_000))
    with pytest.raises(TokenError):
        verifier.verify(token)
