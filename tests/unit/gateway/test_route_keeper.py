"""The route keeper (gateway/route_keeper.py) over in-memory doubles of its ports
(gateway/ports.py): it publishes what the records say, logs the route count only when it
changes, and wakes up on pod events."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import pytest

from gateway import xds_files
from gateway.certs import TlsFiles
from gateway.pods_listener import PodsListenerOptions
from gateway.ports import EventHandler
from gateway.route_keeper import RouteKeeper, wake_on_events
from gateway.routes import RouteTable
from services.common.pods_model import PodRecord, Status
from tests.unit.gateway.pods_support import plain
from tests.unit.gateway.test_route_source import record

TLS = TlsFiles(cert=Path("/tls/pods.pem"), key=Path("/tls/pods-key.pem"), ca=Path("/tls/ca.pem"))
OPTIONS = PodsListenerOptions(port=8443, tls=TLS, router_port=50054)
DOMAIN = "pods.example.org"
LOGGER = "gateway.route_keeper"


class Pods:
    """The records the keeper reads; tests change `records` between refreshes."""

    def __init__(self, *records: PodRecord) -> None:
        self.records = list(records)

    async def list_all_pods(self) -> list[PodRecord]:
        return list(self.records)


class Events:
    """Pod events delivered by hand: `emit` calls the subscribed handler."""

    def __init__(self) -> None:
        self.handler: EventHandler | None = None
        self.closed = False

    async def subscribe_events(self, handler: EventHandler) -> Events:
        self.handler = handler
        return self

    async def close(self) -> None:
        self.closed = True

    async def emit(self, event: object) -> None:
        assert self.handler is not None
        await self.handler(event)


def count_lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.name == LOGGER and r.getMessage().startswith("routes: ")
    ]


async def test_publishes_the_records_routes_and_logs_the_count_only_when_it_changes(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger=LOGGER)
    pods = Pods(record("web", Status.AVAILABLE, {5000: 32001}))
    keeper = RouteKeeper(pods, DOMAIN, tmp_path / "xds", OPTIONS)

    await keeper.refresh()
    await keeper.refresh()
    assert list(keeper.current().routes) == ["web.pods.example.org"]
    (listener,) = plain(xds_files.read_published(tmp_path / "xds").listeners)
    assert "web.pods.example.org" in [c["name"] for c in listener["filter_chains"]]
    assert count_lines(caplog) == ["routes: 1 (1 serving)"]

    pods.records.append(record("db", Status.CREATING, {}))
    await keeper.refresh()
    await keeper.refresh()
    assert count_lines(caplog) == ["routes: 1 (1 serving)", "routes: 2 (1 serving)"]


async def test_a_pod_event_wakes_the_keeper_until_the_subscription_closes() -> None:
    events = Events()
    wake = asyncio.Event()
    subscription = await wake_on_events(events, wake)
    assert not wake.is_set()
    await events.emit(object())
    assert wake.is_set()
    await subscription.close()
    assert events.closed


class Reporter:
    """The keeper's RouteReporter: what each publication told it."""

    def __init__(self) -> None:
        self.told: list[tuple[int, int]] = []

    def published(self, routes: int, serving: int, seconds: float) -> None:
        assert seconds >= 0
        self.told.append((routes, serving))


async def test_every_publication_is_reported_with_the_table_size(tmp_path: Path) -> None:
    pods = Pods(record("web", Status.AVAILABLE, {5000: 32001}), record("db", Status.CREATING, {}))
    reporter = Reporter()
    keeper = RouteKeeper(pods, DOMAIN, tmp_path / "xds", OPTIONS, reporter=reporter)
    await keeper.refresh()
    await keeper.refresh()  # nothing changed: still reported (the gauge stays right)
    assert reporter.told == [(2, 1), (2, 1)]


async def test_a_restarted_gateway_s_empty_snapshot_is_replaced_at_the_next_refresh(
    tmp_path: Path,
) -> None:
    """`python -m gateway` publishes the empty snapshot when Envoy (re)starts; the keeper's
    cached rendering must not hide that its routes are gone from the files."""
    xds = tmp_path / "xds"
    keeper = RouteKeeper(Pods(record("web", Status.AVAILABLE, {5000: 32001})), DOMAIN, xds, OPTIONS)
    await keeper.refresh()
    published = xds_files.read_published(xds)

    assert xds_files.publish(xds, RouteTable(routes={}), OPTIONS).changed  # the gateway restarts
    assert xds_files.read_published(xds) != published
    await keeper.refresh()
    assert xds_files.read_published(xds) == published
