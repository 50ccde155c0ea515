"""Session cookies and login states are signed: changed, forged, expired or re-purposed values
are not accepted."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from services.api.domain.login_session import LoginState, Session, Signer

NOW = datetime(2026, 1, 1, tzinfo=UTC)
LATER = int(NOW.timestamp()) + 60
SIGNER = Signer(b"k" * 32)


def test_a_session_reads_back() -> None:
    session = Session("dev", "alice", "web1.pods.localhost", LATER)
    assert SIGNER.read_session(SIGNER.session(session), NOW) == session


def test_a_changed_session_is_refused() -> None:
    value = SIGNER.session(Session("dev", "alice", "web1.pods.localhost", LATER))
    forged = SIGNER.session(Session("dev", "admin", "web1.pods.localhost", LATER))
    body, _, mac = value.partition(".")
    assert SIGNER.read_session(f"{forged.partition('.')[0]}.{mac}", NOW) is None
    assert SIGNER.read_session(f"{body}.AAAA", NOW) is None
    assert SIGNER.read_session("garbage", NOW) is None


def test_another_key_does_not_verify() -> None:
    value = Signer(b"o" * 32).session(Session("dev", "alice", "h.example.org", LATER))
    assert SIGNER.read_session(value, NOW) is None


def test_an_expired_session_is_refused() -> None:
    value = SIGNER.session(Session("dev", "alice", "h.example.org", int(NOW.timestamp())))
    assert SIGNER.read_session(value, NOW) is None


def test_a_state_cannot_pass_for_a_session() -> None:
    state = SIGNER.state(LoginState("h.example.org", "nonce", LATER))
    assert SIGNER.read_session(state, NOW) is None
    assert SIGNER.read_state(state, NOW) == LoginState("h.example.org", "nonce", LATER)


def test_a_short_key_is_refused() -> None:
    with pytest.raises(ValueError, match="32 bytes"):
        Signer(b"short")
