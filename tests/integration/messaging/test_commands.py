"""Commands through a real nats-server: delivery, settlement, redelivery and crash-safety."""

from __future__ import annotations

import asyncio
import time

import nats
import pytest

from services.common.messaging import PodCommand
from services.common.messaging.nats_bus import MessageBus
from services.common.outcomes import Done, Failed, Outcome, Retry
from services.common.runtime.types import PodKey
from services.common.settings import Settings

from .conftest import ACK_WAIT, backlog_is, consuming

pytestmark = pytest.mark.timeout(60)


class Recorder:
    """A handler that records each command (with the time) and returns scripted outcomes."""

    def __init__(self, *outcomes: Outcome, pause: float = 0.0) -> None:
        self._outcomes = list(outcomes)
        self._pause = pause
        self.calls: list[tuple[float, PodCommand]] = []
        self.called = asyncio.Event()

    async def __call__(self, command: PodCommand) -> Outcome:
        self.calls.append((time.monotonic(), command))
        self.called.set()
        await asyncio.sleep(self._pause)
        return self._outcomes.pop(0) if self._outcomes else Done("ok")

    async def wait_calls(self, count: int, within: float = 10.0) -> None:
        deadline = time.monotonic() + within
        while len(self.calls) < count:
            if time.monotonic() > deadline:
                pytest.fail(f"{len(self.calls)} calls, expected {count} within {within}s")
            await asyncio.sleep(0.02)


async def test_published_command_is_handled_then_acked(bus: MessageBus) -> None:
    handler = Recorder()
    async with consuming(bus, handler):
        sequence = await bus.publish_command(PodCommand("dev", "p1", "create"))
        assert sequence >= 1
        await handler.wait_calls(1)
        await backlog_is(bus, 0)
    assert [c for _, c in handler.calls] == [PodCommand("dev", "p1", "create")]


async def test_commands_wait_in_the_stream_until_a_spawner_runs(bus: MessageBus) -> None:
    await bus.publish_command(PodCommand("dev", "p1", "create"))
    await bus.publish_command(PodCommand("dev", "p2", "create"))
    assert await bus.command_backlog() == 2
    handler = Recorder()
    async with consuming(bus, handler):
        await handler.wait_calls(2)
        await backlog_is(bus, 0)


async def test_retry_is_redelivered_after_its_delay(bus: MessageBus) -> None:
    handler = Recorder(Retry(reason="engine busy", delay=0.6), Done("created"))
    async with consuming(bus, handler):
        await bus.publish_command(PodCommand("dev", "p1", "create"))
        await handler.wait_calls(2)
        await backlog_is(bus, 0)
    (first, _), (second, _) = handler.calls
    assert second - first >= 0.25  # a first delivery waits 0.5 to 1 times the delay (jitter)


async def test_crashing_handler_is_retried_with_backoff(
    bus: MessageBus, caplog: pytest.LogCaptureFixture
) -> None:
    calls: list[float] = []

    async def handler(command: PodCommand) -> Outcome:
        calls.append(time.monotonic())
        if len(calls) == 1:
            raise RuntimeError("engine exploded")
        return Done("created")

    async with consuming(bus, handler):
        await bus.publish_command(PodCommand("dev", "p1", "create"))
        await backlog_is(bus, 0)
    assert len(calls) == 2
    assert calls[1] - calls[0] >= 0.45  # first delivery backs off 0.5-1 s (1 s, jittered)
    assert "engine exploded" in caplog.text


async def test_failed_is_not_redelivered(bus: MessageBus) -> None:
    handler = Recorder(Failed(reason="image missing"))
    async with consuming(bus, handler):
        await bus.publish_command(PodCommand("dev", "p1", "create"))
        await handler.wait_calls(1)
        await backlog_is(bus, 0)
        await asyncio.sleep(ACK_WAIT * 1.5)
    assert len(handler.calls) == 1


async def test_undecodable_message_is_dropped_and_consuming_goes_on(
    bus: MessageBus, settings: Settings
) -> None:
    client = await nats.connect(settings.nats_url)
    try:
        subject = bus.names.command_subject(PodKey("dev", "junk"))
        await client.jetstream().publish(subject, b"{not json")
    finally:
        await client.close()
    handler = Recorder()
    async with consuming(bus, handler):
        await bus.publish_command(PodCommand("dev", "p1", "create"))
        await handler.wait_calls(1)
        await backlog_is(bus, 0)
    assert [c.pod_id for _, c in handler.calls] == ["p1"]


async def test_long_handler_is_kept_alive_past_ack_wait(bus: MessageBus) -> None:
    handler = Recorder(pause=ACK_WAIT * 2.5)
    async with consuming(bus, handler):
        await bus.publish_command(PodCommand("dev", "p1", "create"))
        await handler.wait_calls(1)
        await backlog_is(bus, 0, within=ACK_WAIT * 5)
    assert len(handler.calls) == 1


async def test_unacked_command_of_a_killed_consumer_goes_to_the_next_one(
    settings: Settings,
) -> None:
    """The crash-safety the spawner relies on: no ack, no loss."""
    first_bus = await MessageBus.connect(settings, connect_within=5)
    await first_bus.ensure_streams()
    stuck = Recorder(pause=3600)
    stop = asyncio.Event()
    first = asyncio.create_task(first_bus.consume_commands(stuck, stop=stop))
    await first_bus.publish_command(PodCommand("dev", "p1", "create"))
    await asyncio.wait_for(stuck.called.wait(), 10)

    first.cancel()  # the spawner dies mid-create
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(first, 10)
    await first_bus.close()

    async with await MessageBus.connect(settings, connect_within=5) as second_bus:
        handler = Recorder()
        async with consuming(second_bus, handler):
            await handler.wait_calls(1, within=ACK_WAIT * 5)
            await backlog_is(second_bus, 0)
    assert [c for _, c in handler.calls] == [PodCommand("dev", "p1", "create")]


async def test_same_pod_is_serialised_and_different_pods_overlap(bus: MessageBus) -> None:
    active: dict[str, int] = {}
    most: dict[str, int] = {}
    running = 0
    most_running = 0
    seen: list[tuple[str, str]] = []

    async def handler(command: PodCommand) -> Outcome:
        nonlocal running, most_running
        pod = command.pod_id
        active[pod] = active.get(pod, 0) + 1
        most[pod] = max(most.get(pod, 0), active[pod])
        running += 1
        most_running = max(most_running, running)
        seen.append((pod, command.reason))
        await asyncio.sleep(0.2)
        running -= 1
        active[pod] -= 1
        return Done("ok")

    for i in range(3):
        await bus.publish_command(PodCommand("dev", "a", f"r{i}"))
        await bus.publish_command(PodCommand("dev", "b", f"r{i}"))
    async with consuming(bus, handler, concurrency=4):
        await backlog_is(bus, 0)
    assert len(seen) == 6
    assert most == {"a": 1, "b": 1}
    assert most_running == 2
    assert [r for p, r in seen if p == "a"] == ["r0", "r1", "r2"]


async def test_stop_finishes_commands_in_hand_and_acks_them(bus: MessageBus) -> None:
    handler = Recorder(pause=0.5)
    stop = asyncio.Event()
    task = asyncio.create_task(bus.consume_commands(handler, stop=stop))
    await bus.publish_command(PodCommand("dev", "p1", "create"))
    await asyncio.wait_for(handler.called.wait(), 10)
    stop.set()
    await asyncio.wait_for(task, 10)
    await backlog_is(bus, 0, within=ACK_WAIT / 2)  # acked before returning, not redelivered
    assert len(handler.calls) == 1


async def test_duplicate_msg_id_is_stored_once(bus: MessageBus) -> None:
    command = PodCommand("dev", "p1", "create")
    first = await bus.publish_command(command, msg_id="outbox-17")
    again = await bus.publish_command(command, msg_id="outbox-17")
    assert first == again
    await bus.publish_command(command)
    assert await bus.command_backlog() == 2
