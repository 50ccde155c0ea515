"""Stream set-up, pod events, and behaviour when NATS goes away and comes back."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

import nats
import pytest
from nats.js.api import AckPolicy, RetentionPolicy, StorageType

from services.common.messaging import PodCommand, PodEvent
from services.common.messaging.nats_bus import MessageBus
from services.common.nats_server import EmbeddedNatsServer
from services.common.outcomes import Done, Outcome, TemporaryError
from services.common.runtime.types import PodKey
from services.common.settings import Settings

from .conftest import backlog_is, consuming, eventually, free_port, settings_for

pytestmark = pytest.mark.timeout(60)


class TestEnsureStreams:
    async def test_creates_streams_and_consumer_as_designed(
        self, bus: MessageBus, settings: Settings
    ) -> None:
        client = await nats.connect(settings.nats_url)
        try:
            jsm = client.jetstream()
            commands = await jsm.stream_info(bus.names.commands_stream)
            events = await jsm.stream_info(bus.names.events_stream)
            consumer = await jsm.consumer_info(bus.names.commands_stream, "spawner")
        finally:
            await client.close()
        assert commands.config.retention == RetentionPolicy.WORK_QUEUE
        assert commands.config.storage == StorageType.FILE
        assert commands.config.subjects == [f"pods.{settings.deployment_id}.commands.>"]
        assert commands.config.duplicate_window and commands.config.duplicate_window > 0
        assert commands.config.max_age and commands.config.max_age > 0
        assert events.config.retention == RetentionPolicy.LIMITS
        assert events.config.max_age == 3600
        assert consumer.config.ack_policy == AckPolicy.EXPLICIT
        assert consumer.config.ack_wait == settings.ack_wait
        assert consumer.config.max_deliver == -1
        assert consumer.config.max_ack_pending and consumer.config.max_ack_pending > 0

    async def test_is_idempotent_and_updates_ack_wait(
        self, bus: MessageBus, settings: Settings
    ) -> None:
        await bus.publish_command(PodCommand("dev", "p1", "create"))
        await bus.ensure_streams()
        await bus.ensure_streams()
        assert await bus.command_backlog() == 1  # nothing was recreated

        slower = Settings(
            nats_url=settings.nats_url, deployment_id=settings.deployment_id, ack_wait=7.0
        )
        async with await MessageBus.connect(slower, connect_within=5) as other:
            await other.ensure_streams()
        client = await nats.connect(settings.nats_url)
        try:
            info = await client.jetstream().consumer_info(bus.names.commands_stream, "spawner")
        finally:
            await client.close()
        assert info.config.ack_wait == 7.0

    async def test_stream_names_map_dashed_deployment_ids(self, bus: MessageBus) -> None:
        assert bus.names.deployment_id.startswith("test-")
        assert bus.names.commands_stream.startswith("PODS_TEST_")
        assert bus.names.commands_stream.endswith("_COMMANDS")


class TestEvents:
    async def test_subscriber_gets_events_published_after_it(self, bus: MessageBus) -> None:
        received: list[PodEvent] = []
        got_two = asyncio.Event()

        async def handler(event: PodEvent) -> None:
            received.append(event)
            if len(received) == 2:
                got_two.set()

        subscription = await bus.subscribe_events(handler)
        try:
            await bus.publish_event(PodEvent("dev", "p1", "CREATING", 1))
            await bus.publish_event(PodEvent("dev", "p1", "AVAILABLE", 1))
            await asyncio.wait_for(got_two.wait(), 10)
        finally:
            await subscription.close()
        assert [e.status for e in received] == ["CREATING", "AVAILABLE"]

    async def test_pod_changes_reach_the_api_watchers_wakeups(self, bus: MessageBus) -> None:
        """The api's feed (PodChangeFeed): one subscription, each event's pod, in order."""
        keys: list[PodKey] = []
        got_two = asyncio.Event()

        def on_change(key: PodKey) -> None:
            keys.append(key)
            if len(keys) == 2:
                got_two.set()

        subscription = await bus.follow_pod_changes(on_change)
        try:
            await bus.publish_event(PodEvent("dev", "p1", "CREATING", 1))
            await bus.publish_event(PodEvent("dev", "p2", "AVAILABLE", 1))
            await asyncio.wait_for(got_two.wait(), 10)
        finally:
            await subscription.close()
        assert keys == [PodKey("dev", "p1"), PodKey("dev", "p2")]

    async def test_new_only_by_default_everything_on_request(self, bus: MessageBus) -> None:
        await bus.publish_event(PodEvent("dev", "old", "AVAILABLE", 1))
        async with bus.events() as fresh, bus.events(deliver_all=True) as replay:
            await bus.publish_event(PodEvent("dev", "new", "AVAILABLE", 2))
            first_fresh = await asyncio.wait_for(anext(fresh), 10)
            replayed = [await asyncio.wait_for(anext(replay), 10) for _ in range(2)]
        assert first_fresh.pod_id == "new"
        assert [e.pod_id for e in replayed] == ["old", "new"]

    async def test_bad_events_and_failing_handlers_do_not_stop_delivery(
        self, bus: MessageBus, settings: Settings, caplog: pytest.LogCaptureFixture
    ) -> None:
        received: list[PodEvent] = []
        done = asyncio.Event()

        async def handler(event: PodEvent) -> None:
            received.append(event)
            if event.pod_id == "boom":
                raise RuntimeError("handler bug")
            done.set()

        subscription = await bus.subscribe_events(handler)
        client = await nats.connect(settings.nats_url)
        try:
            await client.jetstream().publish(f"pods.{settings.deployment_id}.events.x.y", b"?")
            await bus.publish_event(PodEvent("dev", "boom", "ERROR", 1))
            await bus.publish_event(PodEvent("dev", "fine", "AVAILABLE", 1))
            await asyncio.wait_for(done.wait(), 10)
        finally:
            await client.close()
            await subscription.close()
        assert [e.pod_id for e in received] == ["boom", "fine"]
        assert "undecodable event" in caplog.text
        assert "handler bug" in caplog.text


class TestOutages:
    async def test_connect_to_nothing_is_a_temporary_error(self) -> None:
        settings = settings_for(f"nats://127.0.0.1:{free_port()}")
        started = time.monotonic()
        with pytest.raises(TemporaryError):
            await MessageBus.connect(settings, connect_within=1.0)
        assert time.monotonic() - started < 5

    async def test_consumer_survives_a_server_restart(
        self, private_server: EmbeddedNatsServer
    ) -> None:
        settings = settings_for(private_server.url)
        received: list[PodCommand] = []

        async def handler(command: PodCommand) -> Outcome:
            received.append(command)
            return Done("ok")

        bus = await MessageBus.connect(settings, connect_within=5, publish_wait=1.0)
        await bus.ensure_streams()
        try:
            async with consuming(bus, handler):
                await bus.publish_command(PodCommand("dev", "before", "create"))
                await backlog_is(bus, 0)

                await private_server.stop()
                with pytest.raises(TemporaryError):
                    await bus.publish_command(PodCommand("dev", "during", "create"))

                await private_server.start()  # same port and store: streams survive
                await publish_when_back(bus, PodCommand("dev", "after", "create"))
                await backlog_is(bus, 0)
        finally:
            await bus.close()
        # "during" was not confirmed, but the client buffered it and may have sent it later
        assert [c.pod_id for c in received if c.pod_id != "during"] == ["before", "after"]

    async def test_event_subscription_resumes_after_a_server_restart(
        self, private_server: EmbeddedNatsServer
    ) -> None:
        bus = await MessageBus.connect(settings_for(private_server.url), connect_within=5)
        await bus.ensure_streams()
        try:
            async with bus.events() as events:
                await bus.publish_event(PodEvent("dev", "before", "AVAILABLE", 1))
                assert (await asyncio.wait_for(anext(events), 10)).pod_id == "before"
                await private_server.stop()
                await private_server.start()
                await publish_event_when_back(bus, PodEvent("dev", "after", "AVAILABLE", 1))
                assert (await asyncio.wait_for(anext(events), 15)).pod_id == "after"
        finally:
            await bus.close()

    async def test_streams_are_recreated_after_a_server_lost_them(
        self, private_server: EmbeddedNatsServer, tmp_path_factory: pytest.TempPathFactory
    ) -> None:
        settings = settings_for(private_server.url)
        received: list[PodCommand] = []

        async def handler(command: PodCommand) -> Outcome:
            received.append(command)
            return Done("ok")

        bus = await MessageBus.connect(settings, connect_within=5, publish_wait=1.0)
        await bus.ensure_streams()
        try:
            async with consuming(bus, handler):
                await private_server.stop()
                blank = EmbeddedNatsServer(private_server.port, tmp_path_factory.mktemp("blank"))
                async with blank:
                    await publish_when_back(bus, PodCommand("dev", "after", "create"))

                    async def handled() -> bool:
                        return len(received) == 1

                    await eventually(handled)
        finally:
            await bus.close()
        assert [c.pod_id for c in received] == ["after"]


async def publish_when_back(bus: MessageBus, command: PodCommand, within: float = 15.0) -> None:
    await retry_publish(lambda: bus.publish_command(command), within)


async def publish_event_when_back(bus: MessageBus, event: PodEvent, within: float = 15.0) -> None:
    await retry_publish(lambda: bus.publish_event(event), within)


async def retry_publish(publish: Callable[[], Awaitable[object]], within: float) -> None:
    """Publishes, retrying TemporaryError until `within` seconds have passed."""
    deadline = time.monotonic() + within
    while True:
        try:
            await publish()
            return
        except TemporaryError:
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.2)
