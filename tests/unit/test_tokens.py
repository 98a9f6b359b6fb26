"""Bearer tokens without HTTP: verification, claim mapping for other IdPs, keys and key files."""
from __future__ import annotations

import json
import os
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from engine.config import Settings
from engine.identity.keys import KeyConfigError, hs_secret
from engine.identity.tokens import TokenError, TokenVerifier, claim, issue_token, parse_ttl

SECRET = "unit-test-secret-0123456789-0123456789-abcdef"


def settings(tmp_path: Path, **overrides: object) -> Settings:
    overrides.setdefault("jwt_secret", SECRET)
    return Settings(database_url="sqlite://", instance_dir=tmp_path, **overrides)  # type: ignore[arg-type]


def rsa_pair(tmp_path: Path, name: str = "rsa") -> tuple[Path, Path]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private, public = tmp_path / f"{name}.pem", tmp_path / f"{name}.pub.pem"
    private.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                          serialization.NoEncryption()))
    public.write_bytes(key.public_key().public_bytes(serialization.Encoding.PEM,
                                                     serialization.PublicFormat.SubjectPublicKeyInfo))
    return private, public


def test_a_token_becomes_a_principal(tmp_path: Path) -> None:
    s = settings(tmp_path)
    token = issue_token(s, user="alice", roles=["agent", "not-a-role"], groups=["team-a"], name="Alice A")
    p = TokenVerifier(s).verify(token)
    assert (p.user_id, p.name, p.roles, p.groups) == ("alice", "Alice A", {"agent"}, {"team-a"})


def test_claim_names_are_configurable_for_other_identity_providers(tmp_path: Path) -> None:
    keycloak = settings(tmp_path, jwt_claim_user="preferred_username", jwt_claim_roles="realm_access.roles",
                        jwt_claim_groups="team_groups", jwt_claim_name="given_name")
    token = jwt.encode({"preferred_username": "kc-user", "realm_access": {"roles": ["supervisor", "offline_access"]},
                        "team_groups": "team-a team-b", "given_name": "Kay", "sub": "f81d4fae",
                        "exp": datetime.now(UTC) + timedelta(minutes=5)}, SECRET, algorithm="HS256")
    p = TokenVerifier(keycloak).verify(token)
    assert (p.user_id, p.name, p.roles, p.groups) == ("kc-user", "Kay", {"supervisor"}, {"team-a", "team-b"})
    # and the development token uses the same names, nested where the path says so
    issued = jwt.decode(issue_token(keycloak, user="u", roles=["agent"]), SECRET, algorithms=["HS256"])
    assert claim(issued, "realm_access.roles") == ["agent"] and issued["preferred_username"] == "u"


@pytest.mark.parametrize("payload", [
    {"sub": "u"},                                                   # no exp
    {"exp": 4102444800},                                            # no user
    {"sub": "", "exp": 4102444800},
])
def test_required_claims(tmp_path: Path, payload: dict[str, object]) -> None:
    with pytest.raises(TokenError):
        TokenVerifier(settings(tmp_path)).verify(jwt.encode(payload, SECRET, algorithm="HS256"))


def test_issuer_and_audience_are_checked_when_configured(tmp_path: Path) -> None:
    s = settings(tmp_path, jwt_issuer="https://idp.example/realms/cc", jwt_audience="incident-engine,desk")
    verifier = TokenVerifier(s)
    assert verifier.verify(issue_token(s, user="u")).user_id == "u"
    other = settings(tmp_path, jwt_issuer="https://evil.example", jwt_audience="incident-engine")
    with pytest.raises(TokenError, match="issuer"):
        verifier.verify(issue_token(other, user="u"))
    wrong_aud = settings(tmp_path, jwt_issuer="https://idp.example/realms/cc", jwt_audience="billing")
    with pytest.raises(TokenError, match="(?i)audience"):
        verifier.verify(issue_token(wrong_aud, user="u"))
    # a token meant for some audience is refused by a server that expects none
    with pytest.raises(TokenError, match="(?i)audience"):
        TokenVerifier(settings(tmp_path)).verify(issue_token(wrong_aud, user="u"))


def test_leeway_tolerates_small_clock_skew_only(tmp_path: Path) -> None:
    s = settings(tmp_path, jwt_leeway=30)
    verifier = TokenVerifier(s)
    past = datetime.now(UTC) - timedelta(hours=1, seconds=-10)
    assert verifier.verify(issue_token(s, user="u", ttl=timedelta(hours=1), now=past)).user_id == "u"
    with pytest.raises(TokenError, match="expired"):
        verifier.verify(issue_token(s, user="u", ttl=timedelta(minutes=1), now=past))


def test_the_default_secret_is_generated_once_into_the_instance_folder(tmp_path: Path) -> None:
    s = Settings(database_url="sqlite://", instance_dir=tmp_path / "instance")
    first = hs_secret(s)
    path = tmp_path / "instance" / "jwt-secret"
    assert len(first) >= 32 and path.read_text() == first
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert hs_secret(s) == first
    assert [p.name for p in path.parent.iterdir()] == ["jwt-secret"]  # no temporary files left behind
    assert TokenVerifier(s).verify(issue_token(s, user="u")).user_id == "u"


@pytest.mark.parametrize(("overrides", "message"), [
    ({"jwt_algorithm": "none"}, "JWT_ALGORITHM"),
    ({"jwt_algorithm": "HS256", "jwt_secret": "short"}, "at least"),
    ({"jwt_algorithm": "RS256"}, "JWT_PUBLIC_KEY_FILE, JWT_JWKS_FILE or JWT_JWKS_URL"),
])
def test_unworkable_token_settings_fail_at_start_up(tmp_path: Path, overrides: dict[str, object],
                                                    message: str) -> None:
    with pytest.raises(KeyConfigError, match=message):
        TokenVerifier(settings(tmp_path, **overrides))


def test_a_public_key_of_the_wrong_kind_or_a_private_key_fails_at_start_up(tmp_path: Path) -> None:
    private, public = rsa_pair(tmp_path)
    with pytest.raises(KeyConfigError):
        TokenVerifier(settings(tmp_path, jwt_algorithm="HS256", jwt_public_key_file=public))
    with pytest.raises(KeyConfigError, match="private key"):
        TokenVerifier(settings(tmp_path, jwt_algorithm="RS256", jwt_public_key_file=private))
    with pytest.raises(KeyConfigError):
        TokenVerifier(settings(tmp_path, jwt_algorithm="ES256", jwt_public_key_file=public))


def _jwk(public_pem: Path, kid: str, **extra: str) -> dict[str, str]:
    key = serialization.load_pem_public_key(public_pem.read_bytes())
    return {**json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key)), "kid": kid, **extra}


def test_jwks_picks_the_key_by_kid_and_follows_rotation(tmp_path: Path) -> None:
    old_private, old_public = rsa_pair(tmp_path, "old")
    new_private, new_public = rsa_pair(tmp_path, "new")
    jwks = tmp_path / "jwks.json"
    enc = {**_jwk(new_public, "enc-1"), "use": "enc", "alg": "RSA-OAEP"}
    jwks.write_text(json.dumps({"keys": [_jwk(old_public, "k1", use="sig", alg="RS256"), enc,
                                         {"kty": "oct", "k": "c2VjcmV0", "kid": "k2"}]}))
    s = settings(tmp_path, jwt_algorithm="RS256", jwt_jwks_file=jwks)
    verifier = TokenVerifier(s)
    assert verifier.verify(issue_token(s, user="u", private_key=old_private, kid="k1")).user_id == "u"
    for kid in ("k2", "enc-1", "nope", None):
        with pytest.raises(TokenError):
            verifier.verify(issue_token(s, user="u", private_key=new_private, kid=kid))
    jwks.write_text(json.dumps({"keys": [_jwk(old_public, "k1"), _jwk(new_public, "k3")]}))
    os.utime(jwks, (1, 2_000_000_000))
    assert verifier.verify(issue_token(s, user="u", private_key=new_private, kid="k3")).user_id == "u"


def test_ttl() -> None:
    assert parse_ttl("8h") == timedelta(hours=8)
    assert parse_ttl("30m") == timedelta(minutes=30)
    assert parse_ttl("1d") == timedelta(days=1)
    assert parse_ttl("90") == timedelta(seconds=90)
    for bad in ("", "0h", "8 hours", "-1h", "1w"):
        with pytest.raises(ValueError):
            parse_ttl(bad)


def test_es256_with_a_public_key_file(tmp_path: Path) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    (tmp_path / "ec.pem").write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                        serialization.NoEncryption()))
    (tmp_path / "ec.pub").write_bytes(key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))
    s = settings(tmp_path, jwt_algorithm="ES256", jwt_public_key_file=tmp_path / "ec.pub")
    token = issue_token(s, user="e", roles=["ops"], private_key=tmp_path / "ec.pem")
    assert TokenVerifier(s).verify(token).roles == {"ops"}
