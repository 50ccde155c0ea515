"""Slows password guessing on the built-in identity: consecutive failed logins are counted per
(tenant, username) and per client address; past a limit, logins for that user (or from that
address) are refused for a while, the wait doubling with every further failure up to a cap.

Used by domain/identity.py. A success clears the user's count but not the address's (else
one valid account would let an address guess other users' passwords without end); counts
are forgotten after FORGET_AFTER quiet seconds. State is in memory, per API process, and
bounded (MAX_ENTRIES each, least recently used out).
"""

from __future__ import annotations

import math
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from services.api.errors import TooManyAttemptsError

FORGET_AFTER = 24 * 3600.0
MAX_ENTRIES = 100_000


@dataclass(frozen=True)
class ThrottlePolicy:
    """Failures before refusal, and the first and longest refusal in seconds."""

    user_failures: int = 30
    address_failures: int = 100
    block_seconds: float = 60.0
    block_max_seconds: float = 3600.0


@dataclass
class _Count:
    failures: int = 0
    last_failure: float = 0.0
    blocked_until: float = 0.0


class _Counter:
    """Consecutive failures per key, with the block they earned."""

    def __init__(self, limit: int, policy: ThrottlePolicy) -> None:
        self._limit = limit
        self._policy = policy
        self._counts: OrderedDict[object, _Count] = OrderedDict()

    def retry_after(self, key: object, now: float) -> float:
        count = self._counts.get(key)
        return max(0.0, count.blocked_until - now) if count else 0.0

    def failed(self, key: object, now: float) -> None:
        count = self._counts.pop(key, None) or _Count()
        if now - count.last_failure > FORGET_AFTER:
            count = _Count()
        count.failures += 1
        count.last_failure = now
        beyond = count.failures - self._limit
        if beyond >= 0:
            delay = self._policy.block_seconds * 2 ** min(beyond, 32)
            count.blocked_until = now + min(delay, self._policy.block_max_seconds)
        self._counts[key] = count
        if len(self._counts) > MAX_ENTRIES:
            self._counts.popitem(last=False)

    def clear(self, key: object) -> None:
        self._counts.pop(key, None)


class LoginThrottle:
    """Decides whether a login may be tried, and records how it went."""

    def __init__(self, policy: ThrottlePolicy, clock: Callable[[], float]) -> None:
        self._clock = clock
        self._users = _Counter(policy.user_failures, policy)
        self._addresses = _Counter(policy.address_failures, policy)

    def check(self, tenant_id: str, username: str, address: str) -> None:
        """Raises TooManyAttemptsError while the user or the address is refused."""
        now = self._clock()
        user_wait = self._users.retry_after((tenant_id, username), now)
        address_wait = self._addresses.retry_after(address, now) if address else 0.0
        if address_wait > 0:
            raise TooManyAttemptsError(
                "too many failed logins from your address; try again later",
                math.ceil(address_wait),
            )
        if user_wait > 0:
            raise TooManyAttemptsError(
                f"too many failed logins for user '{username[:64]}'; try again later",
                math.ceil(user_wait),
            )

    def failed(self, tenant_id: str, username: str, address: str) -> None:
        now = self._clock()
        self._users.failed((tenant_id, username), now)
        if address:
            self._addresses.failed(address, now)

    def succeeded(self, tenant_id: str, username: str) -> None:
        self._users.clear((tenant_id, username))
