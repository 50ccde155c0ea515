"""Composes the API process: store, bus, secret box, identity and servicers on one grpc.aio
server, with health and server reflection. Run by `python -m services.api`."""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import UTC, datetime
from pathlib import Path

import grpc
from envoy.service.ext_proc.v3 import external_processor_pb2_grpc

from services.api.domain.access import Access
from services.api.domain.catalog import Catalog
from services.api.domain.identity import Identity, TenantInfo
from services.api.domain.login_throttle import LoginThrottle, ThrottlePolicy
from services.api.domain.pod_files import PodFiles
from services.api.domain.pods import Pods
from services.api.domain.quotas import Quotas
from services.api.domain.template_tags import TemplateTags
from services.api.domain.validation import Limits
from services.api.domain.volume_inputs import SizeLimits
from services.api.domain.volumes import Volumes
from services.api.domain.watch import PodWatch, Wakeups
from services.api.identity_config import check_identity
from services.api.jwks import JwksKeys
from services.api.login_wiring import login_servicer, register_login
from services.api.remote_volumes import RemoteVolumeStore
from services.api.spawner_client import SpawnerCommandRunner
from services.api.tokens import (
    StaticKey,
    TokenIssuer,
    TokenVerifier,
    TrustedIssuer,
    load_or_create_private_key,
    public_key_pem,
)
from services.api.transport.auth import Authenticator
from services.api.transport.body_check import NetworkingBodyCheck
from services.api.transport.identity_servicer import IdentityServicer
from services.api.transport.misc_servicer import MiscServicer
from services.api.transport.pod_auth_servicer import PodAuthServicer
from services.api.transport.pod_files_servicer import PodFilesServicer
from services.api.transport.pods_servicer import PodsServicer
from services.api.transport.snapshots_servicer import SnapshotsServicer
from services.api.transport.template_tags_servicer import TemplateTagsServicer
from services.api.transport.templates_servicer import TemplatesServicer
from services.api.transport.volumes_servicer import VolumesServicer
from services.api.transport.watch_servicer import PodStreamsServicer
from services.common.db.database import Repositories
from services.common.dependency_health import DependencyHealth, connected
from services.common.failpoints import kill_if_armed
from services.common.generated.pods.v1 import (
    identity_service_pb2_grpc,
    misc_service_pb2_grpc,
    pod_auth_service_pb2_grpc,
    pod_files_service_pb2_grpc,
    pod_streams_service_pb2_grpc,
    pods_service_pb2_grpc,
    snapshots_service_pb2_grpc,
    template_tags_service_pb2_grpc,
    templates_service_pb2_grpc,
    volumes_service_pb2_grpc,
)
from services.common.grpc_server import new_server, serve_until_stopped, stop_event
from services.common.log_setup import setup_logging
from services.common.messaging import PodCommand
from services.common.messaging.nats_bus import MessageBus
from services.common.observability import start_observability
from services.common.pods_model import ResourceSpec
from services.common.quotas_model import Quota
from services.common.reflection import enable_reflection
from services.common.runtime.kubernetes.queues import parse_compute_queues
from services.common.runtime.types import PodKey
from services.common.secretbox import SecretBox
from services.common.settings import Settings, SettingsError
from services.common.templates import seed_templates
from services.common.tracing import shutdown_tracing

log = logging.getLogger(__name__)


# The services the api serves, as health and server reflection name them.
API_SERVICES: tuple[str, ...] = (
    "pods.v1.PodsService",
    "pods.v1.TemplatesService",
    "pods.v1.TemplateTagsService",
    "pods.v1.VolumesService",
    "pods.v1.SnapshotsService",
    "pods.v1.IdentityService",
    "pods.v1.PodStreamsService",
    "pods.v1.PodFilesService",
    "pods.v1.MiscService",
    "pods.v1.PodAuthService",
)


def now() -> datetime:
    return datetime.now(UTC)


class BusReconciler:
    """Publishes reconcile commands on NATS JetStream. The failpoint
    `api-before-publish-<reason>` (create, delete, update, start, stop, restart) kills the
    process after the desired state is written and before its command is published."""

    def __init__(self, bus: MessageBus, data_dir: Path) -> None:
        self._bus = bus
        self._data_dir = data_dir

    async def request_reconcile(self, key: PodKey, reason: str) -> None:
        kill_if_armed(f"api-before-publish-{reason}", self._data_dir)
        await self._bus.publish_command(PodCommand(key.tenant_id, key.pod_id, reason))


def issuer_url(settings: Settings) -> str:
    return f"{settings.public_url}/v3/tokens"


def compute_queue_names(settings: Settings) -> list[str]:
    """The queues configured for the Kubernetes runtime (PODS_K8S_COMPUTE_QUEUES)."""
    return list(parse_compute_queues(settings.k8s_compute_queues))


def external_issuer(settings: Settings) -> TrustedIssuer | None:
    """The external issuer (PODS_JWT_ISSUER), with its JWKS or its PEM key, if configured."""
    if not settings.jwt_issuer:
        return None
    keys: StaticKey | JwksKeys
    if settings.jwt_jwks_url:
        keys = JwksKeys(settings.jwt_jwks_url)
    else:
        keys = StaticKey(Path(settings.jwt_public_key_file).read_bytes())
    return TrustedIssuer(settings.jwt_issuer, keys, settings.jwt_audience)


def trusted_issuers(
    settings: Settings, own_public_pem: bytes | None, external: TrustedIssuer | None
) -> list[TrustedIssuer]:
    """The built-in identity (when it is on) and the external issuer (when configured)."""
    trusted = [] if external is None else [external]
    if own_public_pem is not None:
        trusted.append(TrustedIssuer(issuer_url(settings), StaticKey(own_public_pem)))
    return trusted


def admins_by_issuer(settings: Settings) -> dict[str, frozenset[str]]:
    """PODS_ADMIN_USERS for the built-in identity, PODS_JWT_ADMIN_USERS for the external one."""
    admins: dict[str, frozenset[str]] = {}
    if settings.dev_identity != "off":
        admins[issuer_url(settings)] = settings.admin_users
    if settings.jwt_issuer:
        admins[settings.jwt_issuer] = settings.jwt_admin_users
    return admins


def throttle_policy(settings: Settings) -> ThrottlePolicy:
    return ThrottlePolicy(
        user_failures=settings.login_user_failures,
        address_failures=settings.login_address_failures,
        block_seconds=settings.login_block_seconds,
        block_max_seconds=settings.login_block_max_seconds,
    )


def build_identity(settings: Settings) -> tuple[Identity, Authenticator, JwksKeys | None]:
    """The built-in identity (inert when off), the authenticator, and the JWKS to refresh."""
    dev_on = settings.dev_identity != "off"
    private_pem = (
        load_or_create_private_key(settings.data_dir / "jwt-private.pem") if dev_on else None
    )
    public_pem = public_key_pem(private_pem) if private_pem is not None else None
    external = external_issuer(settings)
    identity = Identity(
        tenant=TenantInfo(
            tenant_id=settings.tenant_id,
            site_id=settings.site_id,
            base_url=settings.public_url,
            token_service=issuer_url(settings) if dev_on else settings.jwt_issuer,
            public_key=public_pem.decode() if public_pem is not None else "",
        ),
        users=settings.dev_users if dev_on else {},
        issuer=(
            TokenIssuer(private_pem, issuer_url(settings), settings.token_ttl)
            if private_pem is not None
            else None
        ),
        throttle=LoginThrottle(throttle_policy(settings), time.monotonic),
        clock=now,
    )
    auth = Authenticator(
        TokenVerifier(trusted_issuers(settings, public_pem, external)),
        [settings.tenant_id],
        admins_by_issuer(settings),
    )
    jwks = external.keys if external is not None else None
    return identity, auth, jwks if isinstance(jwks, JwksKeys) else None


async def run(settings: Settings) -> None:
    check_identity(settings)
    if settings.dev_identity == "off" and settings.dev_users:
        log.warning("PODS_DEV_USERS is ignored: the built-in identity is off (PODS_DEV_IDENTITY)")
    identity, auth, jwks = build_identity(settings)
    refresher = None
    if jwks is not None:
        await jwks.refresh_logged()
        refresher = asyncio.create_task(jwks.keep_fresh())
    store = Repositories.open(settings.effective_database_url)
    bus = await MessageBus.connect(settings)
    await bus.ensure_streams()
    await store.catalog.seed_templates(settings.tenant_id, seed_templates(settings), now())
    catalog = Catalog(store, now)
    reconciler = BusReconciler(bus, settings.data_dir)
    quota = Quota(
        pods=settings.quota_pods,
        volumes=settings.quota_volumes,
        cpu_millis=settings.quota_cpu_millis,
        mem_mib=settings.quota_mem_mib,
        storage_mib=settings.quota_storage_mib,
    )
    runner = SpawnerCommandRunner(settings.spawner_address)
    files = RemoteVolumeStore(settings.spawner_address)  # only the spawner touches the runtime
    volumes = Volumes(
        store=store,
        files=files,
        limits=SizeLimits(
            default_mib=settings.volume_size_default_mib, max_mib=settings.volume_size_max_mib
        ),
        clock=now,
        quota=quota,
        reconciler=reconciler,
    )
    limits = Limits(
        max_cpu_millis=settings.max_cpu_millis,
        max_mem_mib=settings.max_mem_mib,
        max_gpus=settings.max_gpus,
        compute_queues=frozenset({"default", *compute_queue_names(settings)}),
        min_time_to_stop=settings.min_time_to_stop,
        defaults=ResourceSpec(
            cpu_limit=settings.default_cpu_limit_millis,
            mem_limit=settings.default_mem_limit_mib,
        ),
    )
    pods = Pods(
        store=store,
        reconciler=reconciler,
        secrets=SecretBox.from_settings(settings),
        limits=limits,
        log_limit_bytes=settings.log_limit_bytes,
        clock=now,
        runner=runner,
        mounts=volumes,
        quota=quota,
    )
    quotas = Quotas(store.quotas, quota)
    wakeups = Wakeups()
    feed = await wakeups.follow(bus)
    watch = PodWatch(pods, pods, wakeups)
    login = login_servicer(settings, identity, auth, store.pods, now)

    def register(server: grpc.aio.Server) -> None:
        pods_service_pb2_grpc.add_PodsServiceServicer_to_server(
            PodsServicer(pods, auth, settings.pod_domain, settings.pods_port, quotas, watch),
            server,
        )
        pod_streams_service_pb2_grpc.add_PodStreamsServiceServicer_to_server(
            PodStreamsServicer(auth, watch, pods), server
        )
        templates_service_pb2_grpc.add_TemplatesServiceServicer_to_server(
            TemplatesServicer(catalog, auth), server
        )
        template_tags_service_pb2_grpc.add_TemplateTagsServiceServicer_to_server(
            TemplateTagsServicer(
                TemplateTags(store, catalog, limits, now),
                pods,
                auth,
                settings.pod_domain,
                settings.pods_port,
            ),
            server,
        )
        volumes_service_pb2_grpc.add_VolumesServiceServicer_to_server(
            VolumesServicer(volumes, auth), server
        )
        snapshots_service_pb2_grpc.add_SnapshotsServiceServicer_to_server(
            SnapshotsServicer(volumes, auth), server
        )
        identity_service_pb2_grpc.add_IdentityServiceServicer_to_server(
            IdentityServicer(identity), server
        )
        pod_files_service_pb2_grpc.add_PodFilesServiceServicer_to_server(
            PodFilesServicer(PodFiles(Access(store, now), runner), auth), server
        )
        misc_service_pb2_grpc.add_MiscServiceServicer_to_server(MiscServicer(auth), server)
        register_login(server, login)  # the gateway's ext_authz check (gateway/pod_login.py)
        pod_auth_service_pb2_grpc.add_PodAuthServiceServicer_to_server(
            PodAuthServicer(
                store.pods, auth, settings.site_id, settings.pod_domain, settings.pods_port
            ),
            server,
        )
        # Envoy's check of REST bodies (gateway/body_checks.py); not routed to the public.
        external_processor_pb2_grpc.add_ExternalProcessorServicer_to_server(
            NetworkingBodyCheck(), server
        )
        # grpcurl list/describe (reached through the gateway too): the API's own services.
        enable_reflection(server, API_SERVICES)

    health = DependencyHealth(
        list(API_SERVICES),
        {"database": store.ping, "nats": connected(lambda: bus.connected, "NATS")},
    )
    server = new_server(settings.api_port, register, health, settings.bind_address)
    log.info("api listening on %s:%d", settings.bind_address, settings.api_port)
    try:
        await serve_until_stopped(server, stop_event(), health.run())
    finally:
        if refresher is not None:
            refresher.cancel()
        await feed.close()
        await runner.close()
        await files.close()
        await bus.close()
        await store.close()


def main() -> None:
    setup_logging("api")
    try:
        settings = Settings.from_env()
        check_identity(settings)
    except SettingsError as exc:
        log.error("%s", exc)
        raise SystemExit(2) from None
    start_observability("api", settings, settings.api_metrics_port)
    try:
        asyncio.run(run(settings))
    finally:
        shutdown_tracing()
