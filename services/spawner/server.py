"""Composes the spawner process: the command consumer and SpawnerService on one event loop.
Run by `python -m services.spawner`."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable
from datetime import UTC, datetime
from typing import Any, cast

import grpc

from services.common import metrics
from services.common.db.database import Repositories
from services.common.dependency_health import Check, DependencyHealth, connected
from services.common.failpoints import kill_if_armed
from services.common.generated.pods.v1 import spawner_service_pb2 as pb
from services.common.generated.pods.v1 import spawner_service_pb2_grpc as pb_grpc
from services.common.grpc_server import new_server, serve_until_stopped, stop_event
from services.common.log_setup import setup_logging
from services.common.messaging import PodCommand
from services.common.messaging.nats_bus import MessageBus
from services.common.observability import start_observability
from services.common.outcomes import Done, Failed, Outcome, PermanentError, TemporaryError
from services.common.runtime.kinds import FAKE
from services.common.runtime.types import PodKey, Runtime
from services.common.secretbox import SecretBox
from services.common.settings import Settings
from services.common.storage import wire
from services.common.storage.types import VolumeStore
from services.common.tracing import shutdown_tracing
from services.spawner.copy_servicer import CopyServicer
from services.spawner.exec_limits import ExecAdmission, ExecLimitReached, ExecLimits
from services.spawner.observe_servicer import ObserveServicer
from services.spawner.platforms.bench_fake import LABEL as FAKE_LABEL
from services.spawner.platforms.factory import (
    close_runtime,
    close_volume_store,
    runtime_from_settings,
    volume_store_from_settings,
)
from services.spawner.reconcile import Reconciler
from services.spawner.storage_servicer import StorageServicer

log = logging.getLogger(__name__)
Context = grpc.aio.ServicerContext[Any, Any]


def now() -> datetime:
    return datetime.now(UTC)


class SpawnerServicer(CopyServicer, ObserveServicer, StorageServicer):
    """Operator access to the reconciler, commands in pods, and (inherited) the runtime's
    observations for health, the volume store for the API and files copied into pods.
    `observed` is the runtime the observation RPCs read (`runtime` when not given)."""

    def __init__(
        self,
        reconciler: Reconciler,
        runtime: Runtime,
        admission: ExecAdmission,
        files: VolumeStore,
        observed: Runtime | None = None,
    ) -> None:
        ObserveServicer.__init__(self, observed or runtime)
        StorageServicer.__init__(self, files)
        CopyServicer.__init__(self, runtime)
        self._reconciler = reconciler
        self._runtime = runtime
        self._admission = admission

    async def ReconcilePod(
        self, request: pb.ReconcilePodRequest, context: Context
    ) -> pb.ReconcilePodResponse:
        outcome = await self._reconciler.reconcile(PodKey(request.tenant_id, request.pod_id))
        return pb.ReconcilePodResponse(outcome=describe(outcome))

    async def ExecInPod(
        self, request: pb.ExecInPodRequest, context: Context
    ) -> pb.ExecInPodResponse:
        key = PodKey(request.tenant_id, request.pod_id)
        if not request.user:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, "user: required")
        try:
            with self._admission.admit(key, request.user), metrics.exec_in_flight():
                result = await self._runtime.exec(
                    key, list(request.argv), request.timeout_seconds, request.limit_bytes
                )
        except ExecLimitReached as exc:
            await context.abort(grpc.StatusCode.RESOURCE_EXHAUSTED, str(exc))
        except PermanentError as exc:
            await context.abort(grpc.StatusCode.FAILED_PRECONDITION, str(exc))
        except TemporaryError as exc:
            await context.abort(grpc.StatusCode.UNAVAILABLE, str(exc))
        return pb.ExecInPodResponse(
            exit_code=result.exit_code,
            stdout=result.stdout,
            stderr=result.stderr,
            timed_out=result.timed_out,
        )


def exec_limits(settings: Settings) -> ExecLimits:
    return ExecLimits(
        per_pod=settings.exec_max_per_pod,
        per_user=settings.exec_max_per_user,
        total=settings.exec_max_total,
    )


def describe(outcome: Outcome) -> str:
    if isinstance(outcome, Done):
        return outcome.detail
    if isinstance(outcome, Failed):
        return f"failed: {outcome.reason}"
    return f"retry in {outcome.delay:.1f}s: {outcome.reason}"


def engine_check(runtime: Runtime) -> Check:
    """The spawner's health check of its runtime: a ping when the runtime has one (Docker's
    /_ping, one round trip), else listing what it manages (on Kubernetes, from the informer's
    cache). Listing on Docker inspects every container: at hundreds of pods every 2 s, that
    took engine threads from the creates."""
    ping = getattr(runtime, "ping", None)
    return cast(Check, ping) if callable(ping) else runtime.list_managed


async def counted(reconcile: Awaitable[Outcome]) -> Outcome:
    """The outcome of `reconcile`, counted in `pods_reconcile_outcomes` by kind (a raised
    TemporaryError as retry, PermanentError as failed, as the dispatcher settles them)."""
    try:
        outcome = await reconcile
    except TemporaryError:
        metrics.count_outcome("retry")
        raise
    except PermanentError:
        metrics.count_outcome("failed")
        raise
    metrics.count_outcome(metrics.outcome_kind(outcome))
    return outcome


async def run(settings: Settings) -> None:
    store = Repositories.open(settings.effective_database_url)
    runtime = runtime_from_settings(settings, creates=True)
    if settings.runtime == FAKE:
        log.warning("%s: deployment %s", FAKE_LABEL, settings.deployment_id)
    # What health observes through SpawnerService: a runtime of its own, so that its event
    # subscription (on Kubernetes, a pod cache) leaves what the reconciler reads as it was.
    observed = runtime_from_settings(settings)
    files = volume_store_from_settings(settings)
    reconciler = Reconciler(
        store=store,
        runtime=runtime,
        secrets=SecretBox.from_settings(settings),
        clock=now,
        data_dir=settings.data_dir,
        deployment_id=settings.deployment_id,
    )
    bus = await MessageBus.connect(settings)
    await bus.ensure_streams()

    async def handle(command: PodCommand) -> Outcome:
        outcome = await counted(reconciler.reconcile(PodKey(command.tenant_id, command.pod_id)))
        kill_if_armed(f"spawner-before-ack-{command.reason}", settings.data_dir)
        return outcome

    def register(server: grpc.aio.Server) -> None:
        admission = ExecAdmission(exec_limits(settings))
        servicer = SpawnerServicer(reconciler, runtime, admission, files, observed)
        pb_grpc.add_SpawnerServiceServicer_to_server(servicer, server)

    health = DependencyHealth(
        ["pods.v1.SpawnerService"],
        {
            "database": store.ping,
            "nats": connected(lambda: bus.connected, "NATS"),
            "runtime": engine_check(runtime),
        },
    )
    server = new_server(
        settings.spawner_port, register, health, settings.bind_address, wire.SERVER_OPTIONS
    )
    stop = stop_event()
    log.info("spawner listening on %s:%d", settings.bind_address, settings.spawner_port)
    try:
        await serve_until_stopped(
            server,
            stop,
            bus.consume_commands(handle, stop=stop, concurrency=settings.spawner_concurrency),
            health.run(),
        )
    finally:
        await bus.close()
        await store.close()
        close_volume_store(files)
        await close_runtime(runtime)
        await close_runtime(observed)


def main() -> None:
    setup_logging("spawner")
    settings = Settings.from_env()
    start_observability("spawner", settings, settings.spawner_metrics_port)
    try:
        asyncio.run(run(settings))
    finally:
        shutdown_tracing()
