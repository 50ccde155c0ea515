"""The health loop: follows runtime events, resyncs pods periodically, probes starting
pods quickly, captures logs incrementally, records what it sees, and heals drift. When the
container of an ON pod ends by itself it records that end once and asks the spawner for a new
container when the restart rule says so (services/common/restarts.py).

The resync is incremental: every `resync_interval` seconds it observes only the pods in
motion (not settled, being deleted, with a desired state not applied yet, a restart due,
time_to_stop passed, or a run seen ended whose end is not recorded yet: one query,
PodRepository.pods_in_motion) and reads new output of the
running ones (quiet ones less often: log_cadence.py); the full sweep (every pod against the
runtime, and orphans) runs every `full_resync_interval` seconds and on HealthService.Resync.
A settled pod changes only through a runtime event (observed at once) or through the API
(which puts it in motion), so the full sweep is there for events lost while the event stream
was down: it also runs at the next pass after the stream is reopened. One change has no event:
the spawner recording the run of a container that has already ended (its end counts only
then, observe.run_end); such a pod is observed again shortly (RECHECK_DELAYS) until it has.

Run by server.py. Every step is level-triggered: a missed event is caught by the next full
sweep, and a crash loses nothing that the next start does not observe again.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterator
from datetime import datetime
from typing import Protocol

from services.common.outcomes import TemporaryError
from services.common.pods_model import PodRecord, RequestedStatus, Status
from services.common.restarts import RestartPolicy, is_ended
from services.common.runtime.types import ContainerState, Phase, PodKey
from services.health.log_cadence import LogCadence
from services.health.observe import Observation, observe, run_end, unrecorded
from services.health.ports import HealthStore, RuntimeObserver
from services.health.probes import probe, probe_delays
from services.health.turns import PodTurns

log = logging.getLogger(__name__)

Prober = Callable[[str, str, int], Awaitable[bool]]
RESTART_MARGIN = 0.05  # seconds after a restart's due time before asking for it
# An ended container whose run the spawner has not recorded yet is observed again after these
# delays (seconds) until it has: no runtime event announces that record. The incremental
# resync is the backstop (PodRepository.pods_in_motion).
RECHECK_DELAYS = (0.05, 0.1, 0.2, 0.4, 0.8, 1.6, 3.2)


class Notifier(Protocol):
    """Tells the rest of the system what health saw (NATS in production)."""

    async def request_reconcile(self, key: PodKey, reason: str) -> None: ...

    async def status_changed(self, record: PodRecord, status: Status) -> None: ...


class Watcher:
    """Observes pods and writes what it sees."""

    def __init__(
        self,
        *,
        store: HealthStore,
        runtime: RuntimeObserver,
        notifier: Notifier,
        clock: Callable[[], datetime],
        resync_interval: float,
        probe_interval: float,
        probe_interval_max: float,
        drift_grace: float,
        log_limit_bytes: int,
        restart_policy: RestartPolicy | None = None,
        prober: Prober = probe,
        full_resync_interval: float | None = None,
        probe_fast_window: float = 0.5,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._sleep = sleep  # the prober's waits (tests count them instead of waiting)
        self._probe_fast_window = probe_fast_window
        self._prober = prober
        self._restart_policy = restart_policy or RestartPolicy()
        self._restart_timers: dict[PodKey, asyncio.Task[None]] = {}
        self._rechecks: dict[PodKey, asyncio.Task[None]] = {}
        self._awaiting_record: set[PodKey] = set()  # ended before the spawner recorded it
        self._store = store
        self._runtime = runtime
        self._notifier = notifier
        self._clock = clock
        self._resync_interval = resync_interval
        # None: every resync is a full sweep (the unit tests' watchers).
        self._full_resync_interval = full_resync_interval
        self._sweep_due = True  # the first pass, and after the event stream was down
        self._probe_interval = probe_interval
        self._probe_interval_max = probe_interval_max
        self._drift_grace = drift_grace
        self._log_limit = log_limit_bytes
        self._probing: dict[PodKey, asyncio.Task[None]] = {}
        # What each prober probes: the record and container of the latest observation.
        self._probe_targets: dict[PodKey, tuple[PodRecord, ContainerState]] = {}
        self._turns: dict[PodKey, PodTurns] = {}
        self._event_tasks: set[asyncio.Task[None]] = set()
        # The event observation of each pod still waiting for its turn (at most one).
        self._event_waiting: dict[PodKey, object] = {}
        self._log_cadence = LogCadence()

    async def run(self) -> None:
        """Runs the event follower and the resync loop until cancelled."""
        try:
            await asyncio.gather(self._follow_events(), self._resync_forever())
        finally:
            timers = [*self._restart_timers.values(), *self._rechecks.values()]
            for task in [*self._probing.values(), *timers]:
                task.cancel()

    # -- one pod -------------------------------------------------------------------------

    async def observe_pod(
        self,
        key: PodKey,
        *,
        answered: tuple[PodRecord, ContainerState] | None = None,
        on_turn: Callable[[], None] | None = None,
    ) -> Observation | None:
        """Observes one pod now and records the result; a starting pod gets a prober (or its
        prober is told the container now seen). `answered` is the prober's: the record and
        container state it probed, whose port has just answered. While the pod is still
        where the prober left it (`_unchanged`), that state stands for the container without
        another inspect or probe; otherwise the pod is observed afresh.

        Records are written one observation at a time (turns.PodTurns), in the order of the
        calls except that the prober's goes before those still waiting (which then observe
        after it); the new output is read after the turn (append_logs moves the cursor only
        from where this read began), so that a probe that answered waits for no log read.
        `on_turn` is called when this observation's turn comes."""
        turns = self._turns.setdefault(key, PodTurns())
        try:
            return await self._observe_in_turn(key, turns, answered, on_turn)
        finally:
            if turns.idle and self._turns.get(key) is turns:
                del self._turns[key]  # nobody holds or awaits it; the next call makes one

    @property
    def pods_with_turns(self) -> int:
        """Pods with an observation in progress or waiting (held turns are forgotten)."""
        return len(self._turns)

    async def _observe_in_turn(
        self,
        key: PodKey,
        turns: PodTurns,
        answered: tuple[PodRecord, ContainerState] | None,
        on_turn: Callable[[], None] | None,
    ) -> Observation | None:
        async with turns.turn(urgent=answered is not None):
            if on_turn is not None:
                on_turn()
            record = await self._store.pods.get_pod(key)
            if record is None:
                return None
            if answered is not None and _unchanged(answered[0], record, answered[1]):
                state: ContainerState | None = answered[1]
                ready = True
            else:
                state = await self._runtime.inspect(key)
                ready = await self._ready(record, state)
            observation = observe(record, state, ready)
            starting = observation is not None and observation.status is Status.CREATING
            if starting and state is not None:
                self._probe_soon(key, record, state)  # probing begins while this records
            if observation is not None:
                await self._record(record, observation)
            await self._note_end(record, state)
            if unrecorded(record, state) and is_ended(state):
                self._recheck_soon(key)
            else:
                self._awaiting_record.discard(key)
        if state is not None:
            await self._capture_logs(key, state)
        return observation

    async def _ready(self, record: PodRecord, state: ContainerState | None) -> bool:
        if state is None or state.phase is not Phase.RUNNING:
            return False
        stanzas = sorted(
            record.spec.networking.items(), key=lambda item: (item[0] != "default", item[0])
        )
        for _name, stanza in stanzas:
            host_port = state.published.get(stanza.port)
            if stanza.protocol != "local_only" and host_port:
                return await self._prober(stanza.protocol, "127.0.0.1", host_port)
        return True  # nothing published: running is all we can tell

    async def _record(self, record: PodRecord, observation: Observation) -> None:
        changed = await self._store.pod_state.record_observation(
            record.key, observation.status, observation.container, self._clock()
        )
        if changed:
            log.info("pod %s/%s is %s", record.key.tenant_id, record.key.pod_id, observation.status)
            await self._notifier.status_changed(record, observation.status)

    async def _note_end(self, record: PodRecord, state: ContainerState | None) -> None:
        """Records the end of the current run (once) and asks for its replacement when due."""
        now = self._clock()
        end = run_end(record, state, now)
        if end is None:
            return
        due = await self._store.pod_state.record_exit(
            record.key,
            run=record.run,
            reason=end.reason,
            run_seconds=end.run_seconds,
            policy=self._restart_policy,
            now=now,
        )
        if due is None:
            return
        key = record.key
        log.info(
            "pod %s/%s: %s; new container due at %s",
            key.tenant_id,
            key.pod_id,
            end.reason,
            due.isoformat(),
        )
        delay = (due - now).total_seconds()
        if delay <= 0:
            await self._notifier.request_reconcile(key, "container ended")
            return
        timer = self._restart_timers.pop(key, None)
        if timer is not None:
            timer.cancel()
        self._restart_timers[key] = asyncio.create_task(self._ask_restart_after(key, delay))

    async def _ask_restart_after(self, key: PodKey, delay: float) -> None:
        await asyncio.sleep(delay + RESTART_MARGIN)
        self._restart_timers.pop(key, None)
        await self._notifier.request_reconcile(key, "restart due")

    def _recheck_soon(self, key: PodKey) -> None:
        self._awaiting_record.add(key)
        task = self._rechecks.get(key)
        if task is None or task.done():
            self._rechecks[key] = asyncio.create_task(self._recheck(key))

    async def _recheck(self, key: PodKey) -> None:
        """Observes a pod whose container ended before the spawner recorded its run until
        the spawner has (then its end counts: observe.run_end, and a restart is scheduled)."""
        try:
            for delay in RECHECK_DELAYS:
                await asyncio.sleep(delay)
                if key not in self._awaiting_record:
                    return
                try:
                    await self.observe_pod(key)
                except TemporaryError as exc:
                    log.warning("observing %s/%s failed: %s", key.tenant_id, key.pod_id, exc)
        finally:
            self._awaiting_record.discard(key)
            if self._rechecks.get(key) is asyncio.current_task():
                del self._rechecks[key]

    async def _capture_logs(self, key: PodKey, state: ContainerState) -> None:
        """Reads the container's new output into the pod's current run; none while the
        container's own run is not recorded yet (its output would land in the previous
        container's run): once it is, the read starts from the beginning."""
        position = await self._store.logs.log_position(key)
        if position is not None and position[0] >= state.run:
            await self._capture_from(key, *position)

    async def _capture_from(self, key: PodKey, run: int, cursor: str) -> bool:
        """Appends the output written since `cursor` of run `run`; whether there was any."""
        chunk = await self._runtime.logs_since(key, cursor, self._log_limit)
        if chunk.text or chunk.cursor != cursor:
            await self._store.logs.append_logs(
                key,
                chunk.text,
                run=run,
                after=cursor,
                cursor=chunk.cursor,
                limit_bytes=self._log_limit,
            )
        return bool(chunk.text)

    def _probe_soon(self, key: PodKey, record: PodRecord, state: ContainerState) -> None:
        """Probes a starting pod on the schedule of probes.probe_delays until it answers,
        then records it (observe_pod with the state probed); a full observation also runs
        whenever the probe interval has grown to its maximum (the container may have
        stopped meanwhile). The prober always probes the container of the latest
        observation: one seen created and then running, or replaced, is probed as it is
        now, from the start of the schedule."""
        self._probe_targets[key] = (record, state)
        task = self._probing.get(key)
        if task is None or task.done():
            self._probing[key] = asyncio.create_task(self._probe_until_settled(key))

    def _probe_delays(self) -> Iterator[float]:
        return probe_delays(self._probe_interval, self._probe_fast_window, self._probe_interval_max)

    async def _probe_until_settled(self, key: PodKey) -> None:
        probed: ContainerState | None = None
        delays = self._probe_delays()
        while (target := self._probe_targets.get(key)) is not None:
            record, state = target
            if probed is None or (probed.phase, probed.started_at) != (
                state.phase,
                state.started_at,
            ):
                probed, delays = state, self._probe_delays()  # another container, or started
            delay = next(delays)
            await self._sleep(delay)
            if self._probe_targets.get(key) is not target:
                continue  # observed meanwhile: probe what was seen then
            answered = await self._ready(record, state)  # cheap: no database, no engine call
            if not answered and delay < self._probe_interval_max:
                continue
            try:
                observation = await self.observe_pod(key, answered=target if answered else None)
            except TemporaryError as exc:
                log.warning("probe of %s/%s failed: %s", key.tenant_id, key.pod_id, exc)
                observation = None
            settled = observation is None or observation.status is not Status.CREATING
            if settled and self._probe_targets.get(key) is target:
                del self._probe_targets[key]  # else a later observation saw it starting

    # -- all pods ------------------------------------------------------------------------

    async def resync(self) -> int:
        """Observes every pod, asks for stuck ones again, and reports orphans. Returns the
        number of pods observed."""
        records = await self._store.pods.list_all_pods()
        known = {r.key for r in records}
        for record in records:
            await self._resync_one(record)
        for state in await self._runtime.list_managed():
            if state.key not in known:
                await self._notifier.request_reconcile(state.key, "orphan")
        return len(records)

    async def resync_changed(self) -> int:
        """The incremental resync: observes the pods in motion (see the module docstring)
        and reads new output of the running ones. Returns the number of pods observed."""
        records = await self._store.pods.pods_in_motion(self._clock())
        for record in records:
            await self._resync_one(record)
        observed = {r.key for r in records}
        running = {
            key: (run, cursor)
            for key, run, cursor in await self._store.logs.running_positions()
            if key not in observed
        }
        for key in self._log_cadence.due(list(running)):
            try:
                found = await self._capture_from(key, *running[key])
            except TemporaryError as exc:
                log.warning("reading output of %s/%s failed: %s", key.tenant_id, key.pod_id, exc)
            else:
                self._log_cadence.read(key, found_output=found)
        return len(records)

    async def _resync_one(self, record: PodRecord) -> None:
        try:
            await self.observe_pod(record.key)
        except TemporaryError as exc:  # one pod's trouble must not hold up the others
            key = record.key
            log.warning("observing %s/%s failed: %s", key.tenant_id, key.pod_id, exc)
        if self._expired(record):
            await self._stop_expired(record)
        elif self._stuck(record):
            await self._notifier.request_reconcile(record.key, "resync")
        elif self._restart_overdue(record):
            await self._notifier.request_reconcile(record.key, "restart overdue")

    def _expired(self, record: PodRecord) -> bool:
        """The run has passed its time_to_stop_ts."""
        due = record.time_to_stop_ts
        on = record.status_requested is RequestedStatus.ON and not record.deletion_requested
        return on and due is not None and self._clock() >= due

    async def _stop_expired(self, record: PodRecord) -> None:
        stopped = await self._store.pods.set_requested(
            record.key, RequestedStatus.OFF, self._clock(), "time_to_stop reached; stopping"
        )
        if stopped is not None:
            log.info("pod %s/%s reached its time_to_stop", record.key.tenant_id, record.key.pod_id)
            await self._notifier.request_reconcile(record.key, "time_to_stop")

    def _stuck(self, record: PodRecord) -> bool:
        """Desired state not applied for longer than the grace period (a lost command, or a
        pod being deleted while the spawner was down)."""
        waiting = record.deletion_requested or record.observed_generation < record.generation
        age = (self._clock() - record.status_changed_ts).total_seconds()
        return waiting and age > self._drift_grace

    def _restart_overdue(self, record: PodRecord) -> bool:
        """A scheduled restart has not happened a grace period after it was due (its command
        was lost, or health restarted and forgot its timer)."""
        due = record.restart_due_ts
        if not record.restart_pending or due is None:
            return False
        return (self._clock() - due).total_seconds() > self._drift_grace

    async def _resync_forever(self) -> None:
        swept_at: float | None = None  # loop time of the last full sweep
        loop = asyncio.get_running_loop()
        while True:
            try:
                every = self._full_resync_interval
                due = swept_at is None or (every is not None and loop.time() - swept_at >= every)
                if every is None or due or self._sweep_due:
                    started, self._sweep_due = loop.time(), False
                    count = await self.resync()
                    swept_at = started
                else:
                    count = await self.resync_changed()
                log.debug("resynced %d pods", count)
            except (TemporaryError, OSError) as exc:
                self._sweep_due = True  # the next pass is a full one
                log.warning("resync failed, will retry: %s", exc)
            except Exception:
                self._sweep_due = True
                log.exception("resync failed, will retry")
            await asyncio.sleep(self._resync_interval)

    async def _follow_events(self) -> None:
        backoff = 0.5
        while True:
            try:
                async for event in self._runtime.watch():
                    backoff = 0.5
                    task = asyncio.create_task(self._on_event(event.key))
                    self._event_tasks.add(task)
                    task.add_done_callback(self._event_tasks.discard)
            except TemporaryError as exc:
                log.warning("runtime events interrupted (%s); reconnecting in %.1fs", exc, backoff)
            await asyncio.sleep(backoff)
            self._sweep_due = True  # events may have been lost meanwhile: sweep once reopened
            backoff = min(backoff * 2, 30.0)

    async def _on_event(self, key: PodKey) -> None:
        """Observes the pod after a runtime event. An event that finds the previous event's
        observation still waiting for its turn adds none: that one inspects after both (a
        container's start, or a stop's die and destroy, come in bursts)."""
        if key in self._event_waiting:
            return
        mine = self._event_waiting[key] = object()

        def turn_came() -> None:
            if self._event_waiting.get(key) is mine:
                del self._event_waiting[key]

        try:
            await self.observe_pod(key, on_turn=turn_came)
        except Exception:
            log.exception("observing %s/%s after an event failed", key.tenant_id, key.pod_id)
        finally:
            turn_came()


def _unchanged(probed: PodRecord, now: PodRecord, state: ContainerState) -> bool:
    """The pod is where the prober found it: CREATING (or already AVAILABLE: another
    observation found it serving first), at the same desired state and run (or at the run
    `state`'s container was made to start: the spawner recorded it meanwhile), with that
    container recorded as its current one. A container that stopped or was replaced since
    has an event of its own, whose observation either took its turn before this one (and
    changed the record) or takes it after (and records what it sees)."""
    return (
        now.status in (Status.CREATING, Status.AVAILABLE)
        and now.generation == probed.generation
        and now.run in (probed.run, state.run)
        and now.status_requested is probed.status_requested
        and not now.deletion_requested
        and state.started_at is not None
        and now.start_instance_ts == state.started_at
    )
