"""How consume_commands treats each delivered command, with in-memory messages (no NATS).

Covers the settlement of every outcome, crashes, undecodable payloads, per-pod serialisation,
the concurrency bound, in_progress keep-alives and abandoning handlers on cancellation.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import pytest

from services.common.messaging import PodCommand
from services.common.messaging.dispatch import Dispatcher
from services.common.outcomes import Done, Failed, Outcome, PermanentError, Retry, TemporaryError

pytestmark = pytest.mark.timeout(30)


@dataclass
class FakeMetadata:
    num_delivered: int = 1


@dataclass
class FakeDelivery:
    """A JetStream message double that records how it was settled."""

    data: bytes
    subject: str = "pods.test.commands.t.p"
    metadata: FakeMetadata = field(default_factory=FakeMetadata)
    settlements: list[tuple[str, float | None]] = field(default_factory=list)
    progress_pings: int = 0
    settled: asyncio.Event = field(default_factory=asyncio.Event)

    async def ack(self) -> None:
        self._record("ack", None)

    async def nak(self, delay: float | None = None) -> None:
        self._record("nak", delay)

    async def term(self) -> None:
        self._record("term", None)

    async def in_progress(self) -> None:
        self.progress_pings += 1

    def _record(self, kind: str, delay: float | None) -> None:
        self.settlements.append((kind, delay))
        self.settled.set()


def delivery(pod: str = "p", reason: str = "create", deliveries: int = 1) -> FakeDelivery:
    return FakeDelivery(PodCommand("t", pod, reason).encode(), metadata=FakeMetadata(deliveries))


Handler = Callable[[PodCommand], Awaitable[Outcome]]


def returning(outcome: Outcome) -> Handler:
    async def handler(command: PodCommand) -> Outcome:
        return outcome

    return handler


async def settle_one(
    handler: Handler, message: FakeDelivery, jitter: float = 1.0
) -> list[tuple[str, float | None]]:
    dispatcher = Dispatcher(handler, concurrency=4, heartbeat=10.0, jitter=lambda: jitter)
    dispatcher.submit(message)
    await asyncio.wait_for(dispatcher.drain(), 5)
    return message.settlements


class TestSettlement:
    async def test_done_acks(self) -> None:
        assert await settle_one(returning(Done("created")), delivery()) == [("ack", None)]

    async def test_retry_naks_with_the_delay(self) -> None:
        outcome = Retry(reason="engine busy", delay=2.5)
        assert await settle_one(returning(outcome), delivery()) == [("nak", 2.5)]

    async def test_failed_terminates(self, caplog: pytest.LogCaptureFixture) -> None:
        outcome = Failed(reason="image missing")
        assert await settle_one(returning(outcome), delivery()) == [("term", None)]
        assert "image missing" in caplog.text

    async def test_undecodable_terminates_without_calling_the_handler(
        self, caplog: pytest.LogCaptureFixture
    ) -> None:
        calls: list[PodCommand] = []

        async def handler(command: PodCommand) -> Outcome:
            calls.append(command)
            return Done("x")

        settled = await settle_one(handler, FakeDelivery(b"garbage"))
        assert settled == [("term", None)]
        assert calls == []
        assert "undecodable" in caplog.text

    @pytest.mark.parametrize(("deliveries", "delay"), [(1, 1.0), (3, 4.0), (50, 60.0)])
    async def test_crash_naks_with_backoff_by_delivery_count(
        self, deliveries: int, delay: float, caplog: pytest.LogCaptureFixture
    ) -> None:
        async def handler(command: PodCommand) -> Outcome:
            raise RuntimeError("boom")

        with caplog.at_level(logging.ERROR):
            settled = await settle_one(handler, delivery(deliveries=deliveries))
        assert settled == [("nak", delay)]
        crash = [r for r in caplog.records if "crashed" in r.getMessage()]
        assert crash and crash[0].exc_info is not None  # logged with the traceback

    async def test_temporary_error_naks_with_its_delay_on_the_first_delivery(self) -> None:
        async def handler(command: PodCommand) -> Outcome:
            raise TemporaryError("engine down", delay=7.0)

        assert await settle_one(handler, delivery(deliveries=1)) == [("nak", 7.0)]

    @pytest.mark.parametrize(("deliveries", "delay"), [(1, 2.5), (2, 5.0), (4, 20.0), (9, 60.0)])
    async def test_retries_back_off_by_delivery_count_up_to_the_cap(
        self, deliveries: int, delay: float
    ) -> None:
        outcome = Retry(reason="engine busy", delay=2.5)
        settled = await settle_one(returning(outcome), delivery(deliveries=deliveries))
        assert settled == [("nak", delay)]

    @pytest.mark.parametrize(("jitter", "delay"), [(0.0, 10.0), (0.5, 15.0), (1.0, 20.0)])
    async def test_jitter_spreads_a_retry_over_the_upper_half_of_its_backoff(
        self, jitter: float, delay: float
    ) -> None:
        outcome = Retry(reason="engine busy", delay=5.0)
        settled = await settle_one(returning(outcome), delivery(deliveries=3), jitter=jitter)
        assert settled == [("nak", delay)]

    async def test_permanent_error_terminates(self) -> None:
        async def handler(command: PodCommand) -> Outcome:
            raise PermanentError("image missing")

        assert await settle_one(handler, delivery()) == [("term", None)]

    async def test_non_outcome_is_treated_as_a_crash(self) -> None:
        async def handler(command: PodCommand) -> Outcome:
            return None  # type: ignore[return-value]

        assert await settle_one(handler, delivery()) == [("nak", 1.0)]


class TestScheduling:
    async def test_same_pod_runs_one_at_a_time_in_order(self) -> None:
        active: dict[str, int] = {}
        most: dict[str, int] = {}
        order: list[tuple[str, str]] = []

        async def handler(command: PodCommand) -> Outcome:
            active[command.pod_id] = active.get(command.pod_id, 0) + 1
            most[command.pod_id] = max(most.get(command.pod_id, 0), active[command.pod_id])
            order.append((command.pod_id, command.reason))
            await asyncio.sleep(0.05)
            active[command.pod_id] -= 1
            return Done("ok")

        dispatcher = Dispatcher(handler, concurrency=8, heartbeat=10.0)
        for i in range(3):
            dispatcher.submit(delivery("a", f"r{i}"))
            dispatcher.submit(delivery("b", f"r{i}"))
        await asyncio.wait_for(dispatcher.drain(), 5)

        assert most == {"a": 1, "b": 1}
        assert [r for p, r in order if p == "a"] == ["r0", "r1", "r2"]
        assert order[:2] in ([("a", "r0"), ("b", "r0")], [("b", "r0"), ("a", "r0")])
        assert dispatcher._locks.__len__() == 0  # per-pod locks are dropped when idle

    async def test_different_pods_run_concurrently(self) -> None:
        running = 0
        most = 0
        release = asyncio.Event()

        async def handler(command: PodCommand) -> Outcome:
            nonlocal running, most
            running += 1
            most = max(most, running)
            await release.wait()
            running -= 1
            return Done("ok")

        dispatcher = Dispatcher(handler, concurrency=3, heartbeat=10.0)
        for pod in ("a", "b", "c"):
            dispatcher.submit(delivery(pod))
        await asyncio.sleep(0.05)
        assert most == 3
        assert dispatcher.free_slots == 0
        release.set()
        await asyncio.wait_for(dispatcher.drain(), 5)
        assert dispatcher.free_slots == 3

    async def test_a_backlog_on_one_pod_does_not_hold_up_other_pods(self) -> None:
        """Five commands of pod a wait behind a's first (which blocks); the dispatcher still
        has room for another pod, whose command runs at once, while a's stay in order."""
        release_a = asyncio.Event()
        order: list[tuple[str, str]] = []

        async def handler(command: PodCommand) -> Outcome:
            order.append((command.pod_id, command.reason))
            if command.pod_id == "a":
                await release_a.wait()
            return Done("ok")

        dispatcher = Dispatcher(handler, concurrency=2, heartbeat=10.0)
        backlog = [delivery("a", f"r{i}") for i in range(5)]
        for message in backlog:
            dispatcher.submit(message)
        assert dispatcher.free_slots == 1  # one pod in hand of two: room for one more pod
        other = delivery("b")
        dispatcher.submit(other)
        assert dispatcher.free_slots == 0
        await asyncio.wait_for(other.settled.wait(), 5)
        assert order == [("a", "r0"), ("b", "create")]  # b ran while a's backlog waited
        release_a.set()
        await asyncio.wait_for(dispatcher.drain(), 5)
        assert [r for p, r in order if p == "a"] == ["r0", "r1", "r2", "r3", "r4"]
        assert all(m.settlements == [("ack", None)] for m in [*backlog, other])
        assert dispatcher.free_slots == 2

    async def test_messages_in_hand_are_bounded_even_for_one_pod(self) -> None:
        release = asyncio.Event()

        async def handler(command: PodCommand) -> Outcome:
            await release.wait()
            return Done("ok")

        dispatcher = Dispatcher(handler, concurrency=2, heartbeat=10.0)
        for i in range(8):  # concurrency x WAITING_PER_SLOT
            dispatcher.submit(delivery("a", f"r{i}"))
        assert dispatcher.free_slots == 0
        release.set()
        await asyncio.wait_for(dispatcher.drain(), 5)
        assert dispatcher.free_slots == 2

    async def test_many_pods_run_at_once_up_to_the_concurrency(self) -> None:
        """32 pods' commands run together (the spawner's default), each pod's in order."""
        running = 0
        most = 0
        release = asyncio.Event()
        order: dict[str, list[str]] = {}

        async def handler(command: PodCommand) -> Outcome:
            nonlocal running, most
            running += 1
            most = max(most, running)
            order.setdefault(command.pod_id, []).append(command.reason)
            await release.wait()
            running -= 1
            return Done("ok")

        dispatcher = Dispatcher(handler, concurrency=32, heartbeat=10.0)
        for step in ("create", "update", "delete"):
            for pod in range(32):
                dispatcher.submit(delivery(f"p{pod}", step))
        await asyncio.sleep(0.05)
        assert most == 32
        release.set()
        await asyncio.wait_for(dispatcher.drain(), 5)
        assert all(steps == ["create", "update", "delete"] for steps in order.values())
        assert len(order) == 32

    async def test_waits_for_a_free_slot_or_stop(self) -> None:
        release = asyncio.Event()

        async def handler(command: PodCommand) -> Outcome:
            await release.wait()
            return Done("ok")

        dispatcher = Dispatcher(handler, concurrency=1, heartbeat=10.0)
        dispatcher.submit(delivery())
        stop = asyncio.Event()
        waiter = asyncio.create_task(dispatcher.wait_for_slot(stop))
        await asyncio.sleep(0.05)
        assert not waiter.done()
        release.set()
        await asyncio.wait_for(waiter, 5)

        release.clear()
        dispatcher.submit(delivery())
        waiter = asyncio.create_task(dispatcher.wait_for_slot(stop))
        await asyncio.sleep(0.05)
        stop.set()
        await asyncio.wait_for(waiter, 5)
        release.set()
        await asyncio.wait_for(dispatcher.drain(), 5)

    def test_concurrency_must_be_positive(self) -> None:
        with pytest.raises(ValueError, match="concurrency"):
            Dispatcher(returning(Done("x")), concurrency=0, heartbeat=1.0)


class TestKeepAliveAndCancellation:
    async def test_long_handler_sends_in_progress_until_settled(self) -> None:
        async def handler(command: PodCommand) -> Outcome:
            await asyncio.sleep(0.35)
            return Done("ok")

        dispatcher = Dispatcher(handler, concurrency=2, heartbeat=0.1)
        message = delivery()
        dispatcher.submit(message)
        await asyncio.wait_for(dispatcher.drain(), 5)
        assert message.progress_pings >= 2
        pings = message.progress_pings
        await asyncio.sleep(0.25)
        assert message.progress_pings == pings  # stops once settled

    async def test_a_command_waiting_for_its_pod_is_kept_alive_too(self) -> None:
        async def handler(command: PodCommand) -> Outcome:
            await asyncio.sleep(0.35)
            return Done("ok")

        dispatcher = Dispatcher(handler, concurrency=2, heartbeat=0.1)
        first, second = delivery(reason="one"), delivery(reason="two")
        dispatcher.submit(first)
        dispatcher.submit(second)
        await asyncio.wait_for(first.settled.wait(), 5)
        assert second.progress_pings >= 2
        await asyncio.wait_for(dispatcher.drain(), 5)

    async def test_abandon_cancels_handlers_and_leaves_messages_unsettled(self) -> None:
        started = asyncio.Event()
        cancelled = asyncio.Event()

        async def handler(command: PodCommand) -> Outcome:
            started.set()
            try:
                await asyncio.sleep(60)
            except asyncio.CancelledError:
                cancelled.set()
                raise
            return Done("never")

        dispatcher = Dispatcher(handler, concurrency=2, heartbeat=10.0)
        message = delivery()
        dispatcher.submit(message)
        await asyncio.wait_for(started.wait(), 5)
        dispatcher.abandon()
        await asyncio.wait_for(dispatcher.drain(), 5)
        assert cancelled.is_set()
        assert message.settlements == []
        assert dispatcher.free_slots == 2
