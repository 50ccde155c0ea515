"""The hook around each command (services/common/command_context.py, through the
Dispatcher's `scope`): the handler runs inside it with the command's log context, the
publisher's request id comes across in the headers, and redeliveries are counted."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from prometheus_client import REGISTRY

from services.common.command_context import REQUEST_ID_HEADER, command_scope, request_headers
from services.common.log_setup import current_context, log_context
from services.common.messaging import PodCommand
from services.common.messaging.dispatch import Delivery, Dispatcher
from services.common.outcomes import Done, Outcome
from tests.unit.messaging.test_dispatcher import FakeDelivery, FakeMetadata


@dataclass
class WithHeaders(FakeDelivery):
    headers: dict[str, str] = field(default_factory=dict)


async def handled_in(scope_message: FakeDelivery) -> dict[str, str]:
    seen: dict[str, str] = {}

    async def handler(command: PodCommand) -> Outcome:
        seen.update(current_context())
        return Done("created")

    dispatcher = Dispatcher(handler, concurrency=1, heartbeat=10.0, scope=command_scope)
    dispatcher.submit(scope_message)
    await asyncio.wait_for(dispatcher.drain(), 5)
    assert scope_message.settlements == [("ack", None)]
    return seen


async def test_the_handler_logs_with_the_command_and_the_publishers_request_id() -> None:
    with log_context(request_id="req-42"):
        headers = request_headers(None)
    assert headers == {REQUEST_ID_HEADER: "req-42"}  # tracing is off: no traceparent
    message = WithHeaders(PodCommand("dev", "web1", "create").encode(), headers=headers)
    seen = await handled_in(message)
    assert seen == {"tenant": "dev", "pod": "web1", "request_id": "req-42"}


async def test_a_command_without_headers_gets_a_request_id_of_its_own() -> None:
    seen = await handled_in(FakeDelivery(PodCommand("dev", "web1", "create").encode()))
    assert len(seen["request_id"]) == 32


async def test_a_redelivered_command_is_counted() -> None:
    before = REGISTRY.get_sample_value("pods_command_redeliveries_total") or 0.0
    message = FakeDelivery(PodCommand("dev", "web1", "create").encode(), metadata=FakeMetadata(2))
    await handled_in(message)
    assert REGISTRY.get_sample_value("pods_command_redeliveries_total") == before + 1


async def test_the_scope_wraps_handling_and_settlement() -> None:
    events: list[str] = []

    @contextmanager
    def scope(message: Delivery, command: PodCommand, deliveries: int) -> Iterator[None]:
        events.append(f"enter {command.pod_id} {deliveries}")
        yield
        events.append("exit")

    async def handler(command: PodCommand) -> Outcome:
        events.append("handle")
        return Done("created")

    message = FakeDelivery(PodCommand("t", "p", "create").encode())
    dispatcher = Dispatcher(handler, concurrency=1, heartbeat=10.0, scope=scope)
    dispatcher.submit(message)
    await asyncio.wait_for(dispatcher.drain(), 5)
    assert events == ["enter p 1", "handle", "exit"]
    assert message.settlements == [("ack", None)]
