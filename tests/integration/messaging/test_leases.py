"""Leases on real JetStream key-value: one holder at a time, renewal by the holder only, and a
takeover once an unrenewed lease expires."""

from __future__ import annotations

import asyncio

from services.common.messaging.nats_bus import MessageBus


async def test_one_holder_at_a_time_and_release_hands_over(bus: MessageBus) -> None:
    first = await bus.lease("health", holder="a", ttl=5)
    second = await bus.lease("health", holder="b", ttl=5)
    assert await first.try_hold()
    assert not await second.try_hold()
    assert await first.try_hold()  # renewal
    await first.release()
    assert await second.try_hold()
    assert not await first.try_hold()


async def test_an_unrenewed_lease_expires_and_is_taken_over(bus: MessageBus) -> None:
    first = await bus.lease("expiring", holder="a", ttl=1)
    second = await bus.lease("expiring", holder="b", ttl=1)
    assert await first.try_hold()
    deadline = asyncio.get_running_loop().time() + 10
    while not await second.try_hold():
        assert asyncio.get_running_loop().time() < deadline, "the lease never expired"
        await asyncio.sleep(0.2)
    assert not await first.try_hold()  # the old holder learns it lost the lease
