"""Tokens: what the built-in identity signs verifies; expired, forged and untrusted ones do
not, nor tokens that are not access tokens or name another audience."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import jwt
import pytest

from services.api.tokens import (
    StaticKey,
    TokenError,
    TokenIssuer,
    TokenVerifier,
    TrustedIssuer,
    load_or_create_private_key,
    public_key_pem,
)

ISSUER = "http://localhost:8080/v3/tokens"


def trusting(*issuers: tuple[str, bytes], audience: str = "", **kwargs: Any) -> TokenVerifier:
    """A verifier of these (issuer, private key) pairs; the last one wants `audience`."""
    trusted = [TrustedIssuer(i, StaticKey(public_key_pem(k))) for i, k in issuers[:-1]]
    last, key = issuers[-1]
    trusted.append(TrustedIssuer(last, StaticKey(public_key_pem(key)), audience))
    return TokenVerifier(trusted, **kwargs)


def signed(key: bytes, **claims: Any) -> str:
    now = int(time.time())
    base = {
        "iss": ISSUER,
        "sub": "alice@dev",
        "exp": now + 60,
        "tapis/tenant_id": "dev",
        "tapis/username": "alice",
        "tapis/token_type": "access",
    }
    merged = {k: v for k, v in {**base, **claims}.items() if v is not None}
    return jwt.encode(merged, key, algorithm="RS256")


@pytest.fixture
def key(tmp_path: Path) -> bytes:
    return load_or_create_private_key(tmp_path / "jwt.pem")


def test_a_signed_token_verifies_with_its_claims(key: bytes) -> None:
    token = TokenIssuer(key, ISSUER, 60).issue("dev", "alice", datetime.now(UTC)).token
    claims = trusting((ISSUER, key)).verify(token)
    assert (claims.tenant_id, claims.username, claims.issuer) == ("dev", "alice", ISSUER)
    assert jwt.decode(token, options={"verify_signature": False})["tapis/token_type"] == "access"


def test_the_key_file_is_private_and_stable(tmp_path: Path, key: bytes) -> None:
    assert (tmp_path / "jwt.pem").stat().st_mode & 0o777 == 0o600
    assert load_or_create_private_key(tmp_path / "jwt.pem") == key


def test_expired_forged_and_untrusted_tokens_are_refused(tmp_path: Path, key: bytes) -> None:
    verifier = trusting((ISSUER, key))
    expired = TokenIssuer(key, ISSUER, 60).issue(
        "dev", "alice", datetime.now(UTC) - timedelta(hours=1)
    )
    with pytest.raises(TokenError, match="expired"):
        verifier.verify(expired.token)
    other = load_or_create_private_key(tmp_path / "other.pem")
    forged = TokenIssuer(other, ISSUER, 60).issue("dev", "alice", datetime.now(UTC))
    with pytest.raises(TokenError, match="signature"):
        verifier.verify(forged.token)
    foreign = TokenIssuer(key, "https://elsewhere/v3/tokens", 60).issue(
        "dev", "alice", datetime.now(UTC)
    )
    with pytest.raises(TokenError, match="not trusted"):
        verifier.verify(foreign.token)
    with pytest.raises(TokenError, match="not valid"):
        verifier.verify("garbage")


def test_a_second_issuer_can_be_trusted(tmp_path: Path, key: bytes) -> None:
    other = load_or_create_private_key(tmp_path / "other.pem")
    verifier = trusting((ISSUER, key), ("https://idp", other))
    token = TokenIssuer(other, "https://idp", 60).issue("dev", "bob", datetime.now(UTC)).token
    assert verifier.verify(token).username == "bob"


def test_a_verified_token_is_remembered_only_until_it_expires(key: bytes) -> None:
    now = [datetime.now(UTC).timestamp()]
    verifier = trusting((ISSUER, key), clock=lambda: now[0])
    token = TokenIssuer(key, ISSUER, 60).issue("dev", "alice", datetime.now(UTC)).token
    assert verifier.verify(token).username == "alice"
    assert verifier.verify(token).username == "alice"  # from memory
    now[0] += 61
    with pytest.raises(TokenError, match="expired"):
        verifier.verify(token)


def test_a_refused_token_is_never_remembered(tmp_path: Path, key: bytes) -> None:
    verifier = trusting((ISSUER, key))
    other = load_or_create_private_key(tmp_path / "other.pem")
    forged = TokenIssuer(other, ISSUER, 60).issue("dev", "alice", datetime.now(UTC)).token
    for _ in range(2):
        with pytest.raises(TokenError, match="signature"):
            verifier.verify(forged)


def test_the_memory_is_bounded(key: bytes, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(TokenVerifier, "CACHE_SIZE", 2)
    verifier = trusting((ISSUER, key))
    issuer = TokenIssuer(key, ISSUER, 60)
    tokens = [issuer.issue("dev", f"u{i}", datetime.now(UTC)).token for i in range(3)]
    for token in tokens:
        verifier.verify(token)
    assert list(verifier._verified) == tokens[1:]


@pytest.mark.parametrize(
    ("token_type", "words"),
    [("refresh", "'refresh' token; only access"), (None, "lacks the tapis/token_type"), (1, "'1'")],
)
def test_only_access_tokens_are_accepted(key: bytes, token_type: object, words: str) -> None:
    with pytest.raises(TokenError, match=words):
        trusting((ISSUER, key)).verify(signed(key, **{"tapis/token_type": token_type}))


def test_the_configured_audience_is_required(key: bytes) -> None:
    verifier = trusting((ISSUER, key), audience="pods")
    assert verifier.verify(signed(key, aud="pods")).username == "alice"
    assert verifier.verify(signed(key, aud=["other", "pods"])).username == "alice"
    with pytest.raises(TokenError, match="audience is not 'pods'"):
        verifier.verify(signed(key, aud="other"))
    with pytest.raises(TokenError, match="lacks the 'aud' claim"):
        verifier.verify(signed(key))


def test_without_a_configured_audience_any_audience_passes(key: bytes) -> None:
    assert trusting((ISSUER, key)).verify(signed(key, aud="anything")).username == "alice"


def test_the_audience_is_per_issuer(tmp_path: Path, key: bytes) -> None:
    other = load_or_create_private_key(tmp_path / "other.pem")
    verifier = trusting((ISSUER, key), ("https://idp", other), audience="pods")
    assert verifier.verify(signed(key)).issuer == ISSUER
    with pytest.raises(TokenError, match="aud"):
        verifier.verify(signed(other, iss="https://idp"))


def test_no_issuer_means_no_token(key: bytes) -> None:
    with pytest.raises(TokenError, match="not trusted"):
        TokenVerifier([]).verify(signed(key))
