"""Password guessing: 30 failures for a user block that user (not others), failures from an
address block the address, blocks double and are capped, a success clears the user only."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from services.api.domain.identity import Identity, TenantInfo
from services.api.domain.login_throttle import LoginThrottle, ThrottlePolicy
from services.api.errors import (
    InvalidArgumentError,
    NotFoundError,
    TooManyAttemptsError,
    UnauthenticatedError,
)
from services.api.tokens import TokenIssuer, load_or_create_private_key

TENANT = TenantInfo("dev", "local", "http://x", "http://x/v3/tokens", "")
POLICY = ThrottlePolicy(
    user_failures=30, address_failures=100, block_seconds=60, block_max_seconds=600
)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def identity(tmp_path: Path, clock: Clock) -> Identity:
    key = load_or_create_private_key(tmp_path / "k.pem")
    return Identity(
        tenant=TENANT,
        users={"alice": "alicepw", "bob": "bobpw"},
        issuer=TokenIssuer(key, TENANT.token_service, 60),
        throttle=LoginThrottle(POLICY, clock),
        clock=lambda: datetime.now(UTC),
    )


def fail(identity: Identity, user: str, times: int, address: str = "10.0.0.1") -> None:
    for _ in range(times):
        with pytest.raises(UnauthenticatedError):
            identity.login(user, "wrong", "password", address)


def test_thirty_failures_block_the_user_but_not_others(identity: Identity) -> None:
    fail(identity, "alice", 30)
    with pytest.raises(TooManyAttemptsError, match="user 'alice'") as refused:
        identity.login("alice", "alicepw", "password", "10.0.0.1")
    assert refused.value.retry_after == 60
    assert identity.login("bob", "bobpw", "password", "10.0.0.1").token
    with pytest.raises(TooManyAttemptsError):  # from another address too: it is per user
        identity.login("alice", "alicepw", "password", "10.0.0.2")


def test_twenty_nine_failures_do_not_block_and_a_success_clears_them(
    identity: Identity, clock: Clock
) -> None:
    fail(identity, "alice", 29)
    assert identity.login("alice", "alicepw", "password", "10.0.0.1").token
    fail(identity, "alice", 29)
    assert identity.login("alice", "alicepw", "password", "10.0.0.1").token


def test_the_block_ends_then_doubles_with_each_further_failure_up_to_the_cap(
    identity: Identity, clock: Clock
) -> None:
    fail(identity, "alice", 30)
    waits = []
    for _ in range(6):
        with pytest.raises(TooManyAttemptsError) as refused:
            identity.login("alice", "alicepw", "password", "10.0.0.1")
        waits.append(refused.value.retry_after)
        clock.now += refused.value.retry_after
        fail(identity, "alice", 1)
    assert waits == [60, 120, 240, 480, 600, 600]
    clock.now += 600
    assert identity.login("alice", "alicepw", "password", "10.0.0.1").token


def test_an_address_is_blocked_after_its_limit_and_a_success_does_not_clear_it(
    identity: Identity,
) -> None:
    for n in range(99):
        fail(identity, f"user{n}", 1)
    assert identity.login("bob", "bobpw", "password", "10.0.0.1").token
    fail(identity, "nobody", 1)
    with pytest.raises(TooManyAttemptsError, match="your address"):
        identity.login("bob", "bobpw", "password", "10.0.0.1")
    assert identity.login("bob", "bobpw", "password", "10.0.0.2").token


def test_old_failures_are_forgotten(identity: Identity, clock: Clock) -> None:
    fail(identity, "alice", 29)
    clock.now += 2 * 24 * 3600
    fail(identity, "alice", 29)
    assert identity.login("alice", "alicepw", "password", "10.0.0.1").token


def test_refused_attempts_do_not_check_the_password(identity: Identity) -> None:
    fail(identity, "alice", 30)
    with pytest.raises(TooManyAttemptsError):
        identity.login("alice", "wrong", "password", "10.0.0.1")


def test_the_memory_is_bounded(monkeypatch: pytest.MonkeyPatch, clock: Clock) -> None:
    monkeypatch.setattr("services.api.domain.login_throttle.MAX_ENTRIES", 10)
    throttle = LoginThrottle(POLICY, clock)
    for n in range(50):
        throttle.failed("dev", f"u{n}", f"10.0.0.{n}")
    assert len(throttle._users._counts) == 10 and len(throttle._addresses._counts) == 10


def test_over_long_input_is_refused_before_counting(identity: Identity) -> None:
    with pytest.raises(InvalidArgumentError, match="username"):
        identity.login("a" * 257, "pw", "password", "10.0.0.1")


def test_without_the_built_in_identity_logins_name_the_issuer(clock: Clock) -> None:
    identity = Identity(
        tenant=TenantInfo("dev", "local", "http://x", "https://idp.example.org", ""),
        users={},
        issuer=None,
        throttle=LoginThrottle(POLICY, clock),
        clock=lambda: datetime.now(UTC),
    )
    with pytest.raises(NotFoundError, match=r"no built-in identity.*https://idp\.example\.org"):
        identity.login("testuser", "testpass", "password", "10.0.0.1")
