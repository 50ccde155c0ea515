"""A pod's observations take turns: one at a time, in arrival order, urgent ones before those
still waiting, never interrupting the one in progress; a cancelled waiter gives up its place
and a turn handed to a caller cancelled at that moment passes on."""

from __future__ import annotations

import asyncio

import pytest

from services.health.turns import PodTurns


async def settle(turns: PodTurns, waiting: int) -> None:
    """Until `waiting` callers wait (condition and deadline)."""
    for _ in range(200):
        if turns.waiting == waiting:
            return
        await asyncio.sleep(0.001)
    raise AssertionError(f"{turns.waiting} waiting, expected {waiting}")


async def test_callers_take_turns_in_arrival_order_urgent_ones_first() -> None:
    turns = PodTurns()
    order: list[str] = []
    release = asyncio.Event()

    async def caller(name: str, urgent: bool = False, hold: asyncio.Event | None = None) -> None:
        async with turns.turn(urgent=urgent):
            order.append(name)
            if hold is not None:
                await hold.wait()

    first = asyncio.create_task(caller("in progress", hold=release))
    await settle(turns, 0)
    others = [asyncio.create_task(caller("event 1")), asyncio.create_task(caller("event 2"))]
    await settle(turns, 2)
    urgent = [
        asyncio.create_task(caller("probe 1", True)),
        asyncio.create_task(caller("probe 2", True)),
    ]
    await settle(turns, 4)
    assert order == ["in progress"]  # nobody interrupts it
    release.set()
    await asyncio.gather(first, *others, *urgent)
    assert order == ["in progress", "probe 1", "probe 2", "event 1", "event 2"]
    assert turns.waiting == 0


async def test_a_free_turn_is_taken_at_once() -> None:
    turns = PodTurns()
    async with turns.turn():
        pass
    async with turns.turn(urgent=True):
        pass


async def test_a_cancelled_waiter_gives_up_its_place() -> None:
    turns = PodTurns()
    order: list[str] = []
    release = asyncio.Event()

    async def caller(name: str) -> None:
        async with turns.turn():
            order.append(name)
            await release.wait() if name == "first" else None

    first = asyncio.create_task(caller("first"))
    await settle(turns, 0)
    cancelled = asyncio.create_task(caller("cancelled"))
    last = asyncio.create_task(caller("last"))
    await settle(turns, 2)
    cancelled.cancel()
    release.set()
    await asyncio.gather(first, last)
    with pytest.raises(asyncio.CancelledError):
        await cancelled
    assert order == ["first", "last"]


async def test_a_turn_handed_to_a_caller_cancelled_at_that_moment_passes_on() -> None:
    turns = PodTurns()
    order: list[str] = []
    release = asyncio.Event()
    tasks: dict[str, asyncio.Task[None]] = {}

    async def first() -> None:
        async with turns.turn():
            order.append("first")
            await release.wait()
        # The turn has just been handed to "unlucky", which has not run yet.
        tasks["unlucky"].cancel()

    async def caller(name: str) -> None:
        async with turns.turn():
            order.append(name)

    tasks["first"] = asyncio.create_task(first())
    await settle(turns, 0)
    tasks["unlucky"] = asyncio.create_task(caller("unlucky"))
    tasks["last"] = asyncio.create_task(caller("last"))
    await settle(turns, 2)
    release.set()
    await asyncio.wait_for(asyncio.gather(tasks["first"], tasks["last"]), 5)
    with pytest.raises(asyncio.CancelledError):
        await tasks["unlucky"]
    assert order == ["first", "last"]
    async with turns.turn():  # and it is free again
        pass
