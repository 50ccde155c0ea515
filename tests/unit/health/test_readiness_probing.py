"""How health finds out that a starting pod serves: the probe schedule (a fixed short interval
for the first half second, then a growing one), and the prober recording AVAILABLE from the
probe that answered, without another inspect or probe, unless the pod moved on meanwhile.

The service is a real loopback server that behaves as a published port does: first like
docker-proxy with nothing listening inside (it accepts and closes at once), then like the
service (it answers HTTP). The watcher's waits are counted in virtual time (its `sleep`),
so the assertions are about the schedule and the round trips, not about this machine's speed.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field

import pytest

from services.common.db.database import Repositories
from services.common.pods_model import PodRecord, PodSpec, RequestedStatus, Status
from services.common.runtime.fake import FakeRuntime, ticking_clock
from services.common.runtime.naming import with_hash
from services.common.runtime.types import ContainerSpec, PodKey, PortSpec
from services.health.probes import probe, probe_delays
from services.health.turns import PodTurns
from services.health.watcher import Watcher

KEY = PodKey("dev", "web1")
INTERVAL = 0.01
FAST_WINDOW = 0.5
LONGEST = 1.0


def test_the_first_half_second_is_probed_at_a_fixed_interval() -> None:
    delays = list(itertools.islice(probe_delays(INTERVAL, FAST_WINDOW, LONGEST), 50))
    assert delays == [INTERVAL] * 50


def test_after_the_fast_window_the_interval_grows_by_half_up_to_the_longest() -> None:
    after = list(itertools.islice(probe_delays(INTERVAL, FAST_WINDOW, LONGEST), 50, 70))
    assert after[:3] == pytest.approx([0.015, 0.0225, 0.03375])
    assert all(b >= a for a, b in itertools.pairwise(after))
    assert after[-1] == LONGEST


def test_no_fast_window_grows_from_the_first_probe() -> None:
    delays = list(itertools.islice(probe_delays(INTERVAL, 0.0, LONGEST), 3))
    assert delays == pytest.approx([0.015, 0.0225, 0.03375])


def test_the_interval_never_falls_below_the_first_one() -> None:
    delays = list(itertools.islice(probe_delays(2.0, 0.0, 1.0), 3))
    assert delays == [2.0, 2.0, 2.0]


@dataclass
class LateService:
    """A published port whose service starts listening `listens_at` virtual seconds after
    the container started; before that docker-proxy accepts and closes at once."""

    listens_at: float
    now: float = 0.0  # virtual seconds since the container started
    port: int = 0
    probes: list[tuple[float, bool]] = field(default_factory=list)  # (when, answered)
    gate: asyncio.Event = field(default_factory=asyncio.Event)  # cleared: the prober waits

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(OSError):
            if self.now >= self.listens_at:
                await reader.readline()
                writer.write(b"HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n")
                await writer.drain()
            writer.close()
            await writer.wait_closed()

    async def sleep(self, seconds: float) -> None:
        """The watcher's sleep: advances virtual time, yields to the loop once."""
        await self.gate.wait()
        self.now += seconds
        await asyncio.sleep(0)

    async def prober(self, protocol: str, host: str, port: int) -> bool:
        """The real HTTP probe, counted."""
        answered = await probe(protocol, host, port)
        self.probes.append((self.now, answered))
        return answered


@pytest.fixture
async def late() -> AsyncIterator[LateService]:
    service = LateService(listens_at=0.3)
    service.gate.set()
    server = await asyncio.start_server(service.handle, "127.0.0.1", 0)
    service.port = server.sockets[0].getsockname()[1]
    async with server:
        yield service


class Pod:
    """One pod whose container publishes port 5000 on the late service's port."""

    def __init__(self, store: Repositories, service: LateService) -> None:
        self.store = store
        self.runtime = FakeRuntime("test", first_host_port=service.port)
        self.clock = ticking_clock()
        self.changes: list[tuple[Status, int]] = []  # each status recorded, inspects by then
        pod = self

        class Notifier:
            async def request_reconcile(self, key: PodKey, reason: str) -> None:
                pass

            async def status_changed(self, record: PodRecord, status: Status) -> None:
                pod.changes.append((status, pod.inspects()))

        self.watcher = Watcher(
            store=store,
            runtime=self.runtime,
            notifier=Notifier(),
            clock=self.clock,
            resync_interval=60,
            probe_interval=INTERVAL,
            probe_fast_window=FAST_WINDOW,
            probe_interval_max=LONGEST,
            drift_grace=10,
            log_limit_bytes=1000,
            prober=service.prober,
            sleep=service.sleep,
        )

    async def start(
        self, *, created_only: bool = False, run: int = 0, recorded: bool = True
    ) -> None:
        """Creates the pod and starts its container (or only creates it), made to start
        `run`; the spawner records it unless not `recorded`."""
        if await self.store.pods.get_pod(KEY) is None:
            await self.store.pods.create_pod(
                KEY,
                owner="alice",
                spec=PodSpec(image="img"),
                credentials_encrypted=None,
                now=self.clock(),
            )
        ports = (PortSpec("default", 5000, "http"),)
        spec = ContainerSpec(key=KEY, image="img", ports=ports, run=run)
        if created_only:
            self.runtime.add_created(with_hash(spec))
            return
        await self.runtime.ensure(with_hash(spec))
        if recorded:
            await self.store.pod_state.mark_applied(KEY, 1, "created", self.clock())

    async def status(self) -> Status:
        record = await self.store.pods.get_pod(KEY)
        assert record is not None
        return record.status

    async def settled(self) -> Status:
        """The status once the prober has finished (condition and deadline)."""
        for _ in range(1000):
            task = self.watcher._probing.get(KEY)
            if task is None or task.done():
                break
            await asyncio.sleep(0.005)
        return await self.status()

    def inspects(self) -> int:
        return sum(1 for call, _ in self.runtime.calls if call == "inspect")


async def test_a_late_service_is_available_at_the_first_probe_after_it_listens(
    store: Repositories, late: LateService
) -> None:
    pod = Pod(store, late)
    await pod.start()
    await pod.watcher.observe_pod(KEY)
    assert await pod.status() is Status.CREATING

    assert await pod.settled() is Status.AVAILABLE
    answered_at = [when for when, answered in late.probes if answered]
    # A growing interval (10, 15, 22.5 ms...) would first probe at 322 ms; each probe of the
    # fast window is one interval after the last.
    assert answered_at == [pytest.approx(late.listens_at, abs=INTERVAL + 1e-9)]
    refused = [when for when, answered in late.probes if not answered]
    assert len(refused) == pytest.approx(late.listens_at / INTERVAL, abs=1)


async def test_the_probe_that_answered_is_recorded_without_another_inspect_or_probe(
    store: Repositories, late: LateService
) -> None:
    pod = Pod(store, late)
    await pod.start()
    await pod.watcher.observe_pod(KEY)
    assert pod.inspects() == 1

    assert await pod.settled() is Status.AVAILABLE
    assert pod.inspects() == 1
    assert late.probes[-1][1] is True
    assert [answered for _, answered in late.probes].count(True) == 1
    record = await store.pods.get_pod(KEY)
    assert record is not None and record.status_container.ready


async def test_the_probe_that_answered_goes_before_observations_still_waiting(
    store: Repositories, late: LateService
) -> None:
    pod = Pod(store, late)
    await pod.start()
    late.gate.clear()
    await pod.watcher.observe_pod(KEY)
    turns = pod.watcher._turns.setdefault(KEY, PodTurns())  # (as observe_pod takes it)
    async with turns.turn():  # an observation in progress
        event = asyncio.create_task(pod.watcher.observe_pod(KEY))  # an event's, waiting
        await until(lambda: turns.waiting == 1)
        late.listens_at = 0.0
        late.gate.set()  # the prober's probe answers and it waits for its turn too
        await until(lambda: turns.waiting == 2)
    await event

    assert await pod.settled() is Status.AVAILABLE
    # Recorded by the prober before the event's observation inspected anything; in arrival
    # order, the event's observation would have inspected and probed first.
    assert pod.changes == [(Status.AVAILABLE, 1)]
    assert pod.inspects() == 2  # the event's observation still ran, after it


async def test_an_answer_for_a_pod_found_available_meanwhile_costs_no_inspect(
    store: Repositories, late: LateService
) -> None:
    pod = Pod(store, late)
    await pod.start()
    late.gate.clear()
    await pod.watcher.observe_pod(KEY)
    late.listens_at = 0.0
    await pod.watcher.observe_pod(KEY)  # an event's observation finds it serving first
    assert pod.changes == [(Status.AVAILABLE, 2)]
    late.gate.set()  # then the prober's probe answers too

    assert await pod.settled() is Status.AVAILABLE
    assert pod.inspects() == 2
    assert pod.changes == [(Status.AVAILABLE, 2)]


async def test_a_container_serves_only_once_the_spawner_has_recorded_its_run(
    store: Repositories, late: LateService
) -> None:
    """The engine started the container (made to start run 1) and the spawner has not
    recorded that run yet: answers leave the pod CREATING. Once the run is recorded, the
    next answer makes it AVAILABLE, still without another inspect."""
    pod = Pod(store, late)
    await pod.start(run=1, recorded=False)
    late.listens_at = 0.0
    late.gate.clear()
    await pod.watcher.observe_pod(KEY)
    late.gate.set()
    await until(lambda: sum(answered for _, answered in late.probes) >= 3)
    assert await pod.status() is Status.CREATING
    await store.pod_state.mark_applied(KEY, 1, "created", pod.clock(), runs_kept=2)

    assert await pod.settled() is Status.AVAILABLE
    record = await store.pods.get_pod(KEY)
    assert record is not None and record.run == 1
    assert pod.inspects() == 1
    assert [status for status, _ in pod.changes] == [Status.CREATING, Status.AVAILABLE]


async def test_a_container_seen_created_then_running_is_probed_as_running(
    store: Repositories, late: LateService
) -> None:
    pod = Pod(store, late)
    await pod.start(created_only=True)
    late.gate.clear()  # the prober waits before its first probe
    await pod.watcher.observe_pod(KEY)  # the create event: nothing to probe yet
    assert await pod.status() is Status.CREATING
    await pod.start()
    await pod.watcher.observe_pod(KEY)  # the start event: not listening yet
    late.listens_at = late.now + 0.3
    late.gate.set()

    assert await pod.settled() is Status.AVAILABLE
    # The prober probed the running container from the start of its schedule; with the
    # created one's state it could only have waited for a full observation (after its
    # interval had grown to a second).
    answered_at = [when for when, answered in late.probes if answered]
    assert answered_at == [pytest.approx(late.listens_at, abs=INTERVAL + 1e-9)]
    assert pod.inspects() == 2


async def test_a_pod_that_moved_on_is_observed_afresh_when_its_probe_answers(
    store: Repositories, late: LateService
) -> None:
    pod = Pod(store, late)
    await pod.start()
    late.gate.clear()  # the prober waits before its first probe
    await pod.watcher.observe_pod(KEY)
    assert await pod.status() is Status.CREATING
    # The container ends and its end is recorded before the service ever answers.
    pod.runtime.exit(KEY, 3)
    await pod.watcher.observe_pod(KEY)
    assert await pod.status() is Status.ERROR
    late.listens_at = 0.0  # then a stale answer comes (another process got the port)
    late.gate.set()

    assert await pod.settled() is Status.ERROR
    assert late.probes[-1][1] is True
    assert pod.inspects() == 3  # the prober's answer was checked by a new observation


async def test_a_pod_asked_to_stop_is_not_made_available_by_its_probe(
    store: Repositories, late: LateService
) -> None:
    pod = Pod(store, late)
    await pod.start()
    late.gate.clear()
    await pod.watcher.observe_pod(KEY)
    stopped = await store.pods.set_requested(KEY, RequestedStatus.OFF, pod.clock(), "stop")
    assert stopped is not None
    late.listens_at = 0.0  # the service answers once the stop has been asked for
    late.gate.set()

    assert await pod.settled() is Status.DELETING
    assert late.probes[-1][1] is True


async def until(condition: Callable[[], bool]) -> None:
    """Waits for `condition` (with a deadline)."""
    for _ in range(1000):
        if condition():
            return
        await asyncio.sleep(0.001)
    raise AssertionError("condition not met")
