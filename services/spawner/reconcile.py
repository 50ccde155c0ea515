"""One level-triggered step: read the pod's desired state and make the runtime match it.

Called for every command the spawner consumes (and by SpawnerService.ReconcilePod). Safe to
run any number of times: the runtime creates-or-adopts by deterministic name, and a replayed
command for a deleted pod only finds nothing to remove. Returns an Outcome instead of raising:
a temporary failure is retried (services/common/messaging/dispatch.py backs off), a permanent
one is recorded once as ERROR for the generation tried, which is then not tried again until the
desired state changes. A container that ended by itself while the pod is ON is replaced when
health's schedule says so (services/common/restarts.py).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from services.common.failpoints import kill_if_armed
from services.common.outcomes import Done, Failed, Outcome, PermanentError, Retry, TemporaryError
from services.common.pods_model import PodRecord, RequestedStatus, Status
from services.common.restarts import is_ended
from services.common.runtime.types import EnsureResult, PodKey, Runtime
from services.common.secretbox import SecretBox
from services.common.templates import Credentials
from services.spawner.container_spec import build_container_spec
from services.spawner.ports import SpawnerStore

log = logging.getLogger(__name__)

SETTLED = (Status.ERROR, Status.COMPLETE)
LOG_RUNS_KEPT = 3  # the current run's logs and those of the two before it


class Reconciler:
    """Moves one pod toward its desired state."""

    def __init__(
        self,
        *,
        store: SpawnerStore,
        runtime: Runtime,
        secrets: SecretBox,
        clock: Callable[[], datetime],
        data_dir: Path,
        deployment_id: str,
    ) -> None:
        self._data_dir = data_dir
        self._deployment_id = deployment_id
        self._store = store
        self._runtime = runtime
        self._secrets = secrets
        self._clock = clock

    async def reconcile(self, key: PodKey) -> Outcome:
        record: PodRecord | None = None
        try:
            record = await self._store.pods.get_pod(key)
            return await self._step(key, record)
        except TemporaryError as exc:
            log.warning("reconcile %s/%s will be retried: %s", key.tenant_id, key.pod_id, exc)
            return Retry(str(exc), exc.delay)
        except PermanentError as exc:
            log.warning("reconcile %s/%s failed: %s", key.tenant_id, key.pod_id, exc)
            if record is not None:
                await self._store.pod_state.mark_failed(
                    key, record.generation, str(exc), self._clock()
                )
            return Failed(str(exc))

    async def _step(self, key: PodKey, record: PodRecord | None) -> Outcome:
        if record is None or record.deletion_requested:
            removed = await self._runtime.remove(key)
            kill_if_armed("spawner-after-remove-delete", self._data_dir)
            if record is not None:
                await self._store.pod_state.remove_pod(key)
            return Done("removed" if removed else "nothing to remove")
        if record.status_requested is RequestedStatus.OFF:
            removed = await self._runtime.remove(key)
            kill_if_armed("spawner-after-remove-stop", self._data_dir)
            await self._store.pod_state.mark_stopped(key, record.generation, self._clock())
            return Done("stopped" if removed else "already stopped")
        if record.status_requested is RequestedStatus.RESTART:
            await self._runtime.remove(key)
            kill_if_armed("spawner-after-remove-restart", self._data_dir)
            outcome = await self._run(record)
            await self._store.pod_state.finish_restart(key, record.generation, self._clock())
            return outcome
        if record.observed_generation < record.generation:
            return await self._run(record)
        if record.restart_pending:
            return await self._restart(record)
        if record.status in SETTLED:
            return Done(f"left {record.status.value.lower()}")
        return await self._run(record)

    async def _restart(self, record: PodRecord) -> Outcome:
        """Replaces the container of a run that ended by itself, once its time has come."""
        assert record.restart_due_ts is not None
        wait = (record.restart_due_ts - self._clock()).total_seconds()
        if wait > 0:
            return Done(f"restart due in {wait:.1f}s")
        await self._runtime.remove(record.key)
        result = await self._ensure(record)
        restarted = await self._store.pod_state.mark_restarted(
            record.key, record.run, result.action, LOG_RUNS_KEPT, self._clock()
        )
        key = record.key
        log.info("pod %s/%s: container %s after its end", key.tenant_id, key.pod_id, result.action)
        return Done("restarted" if restarted else result.action)

    async def _ensure(self, record: PodRecord) -> EnsureResult:
        """Applies the pod's spec. A container made now is labelled with the log run it
        starts (the pod's next), which is recorded only after the engine started it: health
        holds it CREATING until then (services/health/observe.py)."""
        credentials = await self._credentials(record)
        spec = build_container_spec(record, credentials, self._deployment_id)
        result = await self._runtime.ensure(spec)
        kill_if_armed("spawner-after-ensure", self._data_dir)
        return result

    async def _run(self, record: PodRecord) -> Outcome:
        if 0 < record.observed_generation < record.generation:  # a pod that ran before
            await self._clear_finished_run(record.key)
        result = await self._ensure(record)
        # A new log run, in the same write: for a container made now, or for one an earlier
        # attempt made (labelled with a run not recorded yet) and this one adopts.
        new_container = result.action in ("created", "replaced") or result.state.run > record.run
        await self._store.pod_state.mark_applied(
            record.key,
            record.generation,
            result.action,
            self._clock(),
            runs_kept=LOG_RUNS_KEPT if new_container else 0,
        )
        # A replayed command adopts what is there: logged only when something changed.
        level = logging.DEBUG if result.action == "adopted" else logging.INFO
        log.log(
            level, "pod %s/%s: container %s", record.key.tenant_id, record.key.pod_id, result.action
        )
        return Done(result.action)

    async def _clear_finished_run(self, key: PodKey) -> None:
        """A pod asked to run again after its container ended (or froze) gets a fresh one."""
        state = await self._runtime.inspect(key)
        if state is not None and is_ended(state):
            await self._runtime.remove(key)

    async def _credentials(self, record: PodRecord) -> Credentials | None:
        if not record.has_credentials:
            return None
        encrypted = await self._store.pods.credentials(record.key)
        return Credentials.from_json(self._secrets.decrypt(encrypted)) if encrypted else None
