"""Tokens: what the dev identity signs verifies; expired, forged and untrusted ones do not."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from services.api.tokens import (
    TokenError,
    TokenIssuer,
    TokenVerifier,
    load_or_create_private_key,
    public_key_pem,
)

ISSUER = "http://localhost:8080/v3/tokens"


@pytest.fixture
def key(tmp_path: Path) -> bytes:
    return load_or_create_private_key(tmp_path / "jwt.pem")


def test_a_signed_token_verifies_with_its_claims(key: bytes) -> None:
    token = TokenIssuer(key, ISSUER, 60).issue("dev", "alice", datetime.now(UTC)).token
    claims = TokenVerifier({ISSUER: public_key_pem(key)}).verify(token)
    assert (claims.tenant_id, claims.username) == ("dev", "alice")


def test_the_key_file_is_private_and_stable(tmp_path: Path, key: bytes) -> None:
    assert (tmp_path / "jwt.pem").stat().st_mode & 0o777 == 0o600
    assert load_or_create_private_key(tmp_path / "jwt.pem") == key


def test_expired_forged_and_untrusted_tokens_are_refused(tmp_path: Path, key: bytes) -> None:
    verifier = TokenVerifier({ISSUER: public_key_pem(key)})
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
    verifier = TokenVerifier({ISSUER: public_key_pem(key), "https://idp": public_key_pem(other)})
    token = TokenIssuer(other, "https://idp", 60).issue("dev", "bob", datetime.now(UTC)).token
    assert verifier.verify(token).username == "bob"


def test_a_verified_token_is_remembered_only_until_it_expires(key: bytes) -> None:
    now = [datetime.now(UTC).timestamp()]
    verifier = TokenVerifier({ISSUER: public_key_pem(key)}, clock=lambda: now[0])
    token = TokenIssuer(key, ISSUER, 60).issue("dev", "alice", datetime.now(UTC)).token
    assert verifier.verify(token).username == "alice"
    assert verifier.verify(token).username == "alice"  # from memory
    now[0] += 61
    with pytest.raises(TokenError, match="expired"):
        verifier.verify(token)


def test_a_refused_token_is_never_remembered(tmp_path: Path, key: bytes) -> None:
    verifier = TokenVerifier({ISSUER: public_key_pem(key)})
    other = load_or_create_private_key(tmp_path / "other.pem")
    forged = TokenIssuer(other, ISSUER, 60).issue("dev", "alice", datetime.now(UTC)).token
    for _ in range(2):
        with pytest.raises(TokenError, match="signature"):
            verifier.verify(forged)


def test_the_memory_is_bounded(key: bytes, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(TokenVerifier, "CACHE_SIZE", 2)
    verifier = TokenVerifier({ISSUER: public_key_pem(key)})
    issuer = TokenIssuer(key, ISSUER, 60)
    tokens = [issuer.issue("dev", f"u{i}", datetime.now(UTC)).token for i in range(3)]
    for token in tokens:
        verifier.verify(token)
    assert list(verifier._verified) == tokens[1:]
