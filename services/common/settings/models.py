"""The settings models, one per concern, and `Settings`, all of them at once, read from the
environment by `Settings.from_env()`. Each field's variable is `PODS_` + its name in upper
case unless it names another (`validation_alias`); its description and default make the
README's configuration table (scripts/gen_settings_doc.py).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import Field

from services.common.settings.base import (
    DevIdentity,
    NameSet,
    SettingsGroup,
    Stripped,
    Users,
    validated,
)
from services.common.settings.health import HealthSettings, RestartSettings


def _doc(default: str) -> dict[str, Any]:
    """How the README shows a default that is not a plain value."""
    return {"doc_default": default}


class RuntimeSettings(SettingsGroup):
    """Where pods run: the container platform, and Kubernetes' options (deploy/kubernetes)."""

    runtime: str = Field(
        "docker",
        description="`docker` or `kubernetes` (`fake`: an in-memory FAKE for scale benchmarks"
        " only, refused without PODS_ALLOW_FAKE_RUNTIME)",
    )
    allow_fake_runtime: bool = Field(
        False,
        description="benchmarks only: accept PODS_RUNTIME=fake (no container runs; every pod"
        " answers from one loopback listener)",
    )
    k8s_namespace: str = Field("pods", description="the namespace of pods, volumes, snapshots")
    k8s_image_pull_policy: str = Field("IfNotPresent", description="pods' imagePullPolicy")
    k8s_image_pull_secrets: str = Field(
        "", description="comma-separated Secret names pods pull images with"
    )
    k8s_compute_queues: str = Field(
        "", description="JSON, see services/common/runtime/kubernetes/queues.py"
    )
    k8s_non_root_images: str = Field(
        "", description="comma-separated image prefixes known to run as non-root"
    )
    k8s_storage_class: str = Field(
        "",
        description="StorageClass of volume and snapshot claims",
        json_schema_extra=_doc("the default class"),
    )
    k8s_volume_access_mode: str = Field(
        "ReadWriteOnce", description="access mode of volume and snapshot claims"
    )
    k8s_storage_helper_image: str = Field(
        "busybox:1.36", description="the image that reaches volume files on Kubernetes"
    )


class SiteSettings(SettingsGroup):
    """Which deployment, tenant and site this is, and its public address."""

    deployment_id: str = Field(
        "local",
        description="label value on every container we create; names the NATS streams",
    )
    tenant_id: str = Field("dev", description="tenant served")
    site_id: str = Field("local", description="site served")
    public_url: str = Field(
        "http://localhost:8080",
        description="base URL clients use; tapipy must be given exactly this",
        json_schema_extra=_doc("`http://localhost:<gateway port>` (`https` with PODS_GATEWAY_TLS)"),
    )


class IdentitySettings(SettingsGroup):
    """Who may call: the built-in identity, an external token issuer, login throttling."""

    dev_identity: DevIdentity = Field(
        "off",
        description="the built-in identity: `0` off, `1` on (strong passwords only), `local` "
        "on for a loopback-only stack (any password)",
        json_schema_extra=_doc("`0` (`local` under `scripts/up`)"),
    )
    dev_users: Users = Field(
        default_factory=dict,
        description="built-in identity users, `user:password,...`",
        json_schema_extra=_doc("(none; `testuser:testpass` under `scripts/up`)"),
    )
    token_ttl: int = Field(4 * 3600, description="token lifetime, seconds")
    jwt_issuer: Stripped = Field(
        "", description="trust RS256 access tokens of this external issuer (`iss`)"
    )
    jwt_public_key_file: Stripped = Field("", description="its keys: a PEM public key file")
    jwt_jwks_url: Stripped = Field(
        "",
        description="its keys: a JWKS URL (refreshed every 5 min and on an unknown `kid`)",
    )
    jwt_audience: Stripped = Field("", description="when set, its tokens must name it in `aud`")
    admin_users: NameSet = Field(
        frozenset(),
        description="users of the built-in identity who may act on every pod of the tenant",
    )
    jwt_admin_users: NameSet = Field(
        frozenset(),
        description="users of the external issuer who may act on every pod of the tenant",
    )
    login_user_failures: int = Field(
        30, description="consecutive failed logins per (tenant, user) before 429"
    )
    login_address_failures: int = Field(
        100, description="consecutive failed logins per client address before 429"
    )
    login_block_seconds: float = Field(
        60.0, description="the first refusal, seconds; doubled per further failure"
    )
    login_block_max_seconds: float = Field(3600.0, description="the longest refusal, seconds")


class DatabaseSettings(SettingsGroup):
    """Where state is kept: the data directory, the database, the key of secrets at rest."""

    data_dir: Path = Field(
        Path("data"), description="SQLite file, NATS store, keys, Envoy files, pid files"
    )
    database_url: str = Field(
        "",
        description="e.g. `postgresql+asyncpg://user@host/db`",
        json_schema_extra=_doc("SQLite file in the data dir"),
    )
    secret_key: str = Field(
        "",
        description="Fernet key for secrets at rest",
        json_schema_extra=_doc("generated into the data dir"),
    )

    @property
    def effective_database_url(self) -> str:
        """The configured URL, or the SQLite file under data_dir."""
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{(self.data_dir / 'pods.db').resolve()}"


class MessagingSettings(SettingsGroup):
    """NATS JetStream: where it is, and how commands are redelivered and retried."""

    nats_url: str = Field(
        "nats://127.0.0.1:4333",
        description="NATS to use",
        json_schema_extra=_doc("`nats://127.0.0.1:<nats port>`"),
    )
    nats_port: int = Field(4333, description="port of the embedded nats-server")
    ack_wait: float = Field(
        30.0, description="seconds before an unacknowledged command is redelivered"
    )
    spawner_concurrency: int = Field(
        32,
        ge=1,
        description="pods a spawner works on at once (one pod's commands still run one at a "
        "time, in order); also its threads for engine calls",
    )
    nats_stream_replicas: int = Field(
        1, description="JetStream replicas of our streams and lease bucket (3 on a NATS cluster)"
    )
    retry_backoff_max: float = Field(
        60.0, description="the longest wait, seconds, before retrying a temporarily failed command"
    )


class ProcessSettings(SettingsGroup):
    """Where the internal gRPC servers listen and reach each other."""

    bind_address: str = Field(
        "127.0.0.1", description="where the gRPC servers listen (0.0.0.0 in a cluster)"
    )
    api_port: int = Field(50051, description="the API's gRPC port (loopback)")
    spawner_port: int = Field(50052, description="the spawner's gRPC port (loopback)")
    health_port: int = Field(50053, description="health's gRPC port (loopback)")
    spawner_address: str = Field(
        "",
        description=(
            "where the API (exec, volume and snapshot files) and health (what the runtime"
            " sees) reach the spawner"
        ),
        json_schema_extra=_doc("`127.0.0.1:<spawner port>`"),
    )


class ObservabilitySettings(SettingsGroup):
    """What operators see: Prometheus metrics (one port per process, 0 = off), the log
    format and OpenTelemetry traces."""

    api_metrics_port: int = Field(0, description="the API's Prometheus `/metrics` port (0: off)")
    spawner_metrics_port: int = Field(
        0, description="the spawner's Prometheus `/metrics` port (0: off)"
    )
    health_metrics_port: int = Field(0, description="health's Prometheus `/metrics` port (0: off)")
    router_metrics_port: int = Field(
        0, description="the pod router's Prometheus `/metrics` port (0: off)"
    )
    gateway_metrics_port: int = Field(
        0, description="Envoy's statistics as Prometheus `/metrics` on this port (0: off)"
    )
    metrics_refresh: float = Field(
        15.0, description="seconds between health's counts of pods by status (`pods_by_status`)"
    )
    log_format: Literal["text", "json"] = Field(
        "text",
        description="`text`, or `json`: one JSON object a line with pod, tenant and request id",
    )
    otlp_endpoint: str = Field(
        "",
        description="OTLP/HTTP collector (`http://host:4318`) to export traces to (empty: off)",
    )


class GatewaySettings(SettingsGroup):
    """The gateway: Envoy's ports, TLS and limits, and the pod router."""

    gateway_port: int = Field(8080, description="public REST and gRPC port")
    gateway_admin_port: int = Field(9901, description="Envoy admin (loopback)")
    pods_port: int = Field(
        8443, description="the one TLS port serving every pod by name (443 in production)"
    )
    router_port: int = Field(50054, description="the STARTTLS router (loopback, behind Envoy)")
    router_handoff: bool = Field(
        False,
        description="1: the STARTTLS router reads the SNI and hands the TLS stream to Envoy "
        "(relayed in the kernel; plaintext CancelRequests are not routed); 0: it terminates "
        "TLS itself and routes plaintext CancelRequests (psql's Ctrl-C). Off by default: on "
        "a quiet 2-core machine the hand-off gained no measurable throughput (BENCHMARKS.md)",
        json_schema_extra=_doc("0"),
    )
    router_health_port: int = Field(
        50055, description="the pod router's gRPC health (grpc.health.v1) port"
    )
    tls_cert_file: str = Field(
        "",
        description="PEM certificate for `*.<pod domain>`",
        json_schema_extra=_doc("development CA"),
    )
    tls_key_file: str = Field("", description="its key", json_schema_extra=_doc("development CA"))
    gateway_api_host: str = Field(
        "127.0.0.1", description="where Envoy reaches the API (a Service name in a cluster)"
    )
    gateway_tls: bool = Field(
        False,
        description="1: the REST/gRPC port speaks TLS only (production); the default public URL "
        "becomes `https://localhost:<port>`",
        json_schema_extra=_doc("0"),
    )
    gateway_tls_cert_file: str = Field(
        "",
        description="the REST/gRPC port's certificate; must name the public URL's host",
        json_schema_extra=_doc("`PODS_TLS_CERT_FILE`, else development CA"),
    )
    gateway_tls_key_file: str = Field(
        "",
        description="its key",
        json_schema_extra=_doc("`PODS_TLS_KEY_FILE`, else development CA"),
    )
    gateway_max_connections: int = Field(
        10000, description="open client connections Envoy accepts over all its ports"
    )
    gateway_max_heap_mb: int = Field(
        1024,
        description="Envoy's heap; near it Envoy stops taking requests (keep below its memory "
        "limit)",
    )
    gateway_config_dir: str = Field(
        "",
        description="Envoy's bootstrap and descriptor set",
        json_schema_extra=_doc("`<data dir>/gateway`"),
    )
    route_refresh: float = Field(
        1.0, description="seconds between full route rebuilds (pod events trigger one at once)"
    )
    cors_origins: NameSet = Field(
        frozenset(),
        description="comma-separated origins (`https://console.example.org`) whose browser "
        "pages may call the REST API (CORS, answered by Envoy); empty: CORS off",
        json_schema_extra=_doc("empty"),
    )


class PodSettings(SettingsGroup):
    """Pods: their domain, template images, resource defaults and limits, logs."""

    pod_domain: str = Field("pods.localhost", description="pods' addresses are `<pod_id>.<domain>`")
    image_postgres: str = Field("pods-postgres:15", description="the postgres template's image")
    image_neo4j: str = Field("neo4j:5", description="the neo4j template's image")
    default_cpu_limit_millis: int = Field(
        2000,
        validation_alias="PODS_DEFAULT_CPU_LIMIT",
        description="cpu_limit of a pod that gives none, millicores",
    )
    default_mem_limit_mib: int = Field(
        3072,
        validation_alias="PODS_DEFAULT_MEM_LIMIT",
        description="mem_limit of a pod that gives none, MiB",
    )
    max_cpu_millis: int = Field(
        8000,
        validation_alias="PODS_MAX_CPU",
        description="the largest cpu request or limit a pod may ask for, millicores",
    )
    max_mem_mib: int = Field(
        16384,
        validation_alias="PODS_MAX_MEM",
        description="the largest memory request or limit a pod may ask for, MiB",
    )
    max_gpus: int = Field(0, description="GPUs a pod may ask for (0: none on this deployment)")
    log_limit_bytes: int = Field(10 * 1024 * 1024, description="logs kept per pod, bytes")
    pod_pids_limit: int = Field(
        1024,
        ge=1,
        description="processes and threads per pod container (Docker; on Kubernetes the "
        "kubelet's `podPidsLimit`)",
    )
    docker_network_mode: Literal["auto", "shared", "per-pod", "default-bridge"] = Field(
        "auto",
        description="`auto`: `default-bridge` while the engine keeps its default bridge with "
        "inter-container traffic off, else `shared` (asked at every create; creates at the same "
        "moment share one answer); `shared`: every pod container on Docker joins one bridge of "
        "the deployment "
        "(`pods-<deployment>.shared`, inter-container traffic off, so pods still cannot reach "
        "each other), made on first use and kept; `per-pod`: a bridge of its own for each pod, "
        "removed with it (slower to start, one subnet of the engine's address pools each); "
        "`default-bridge`: the engine's default bridge, about 60 ms faster to start and without "
        "Docker's DNS, refused unless dockerd runs with `--icc=false` (scripts/setup's engine)",
    )
    docker_network_subnet: str = Field(
        "",
        description="the shared pod network's subnet when it is made (`10.204.0.0/16`; empty: "
        "Docker picks one from its address pools); it holds as many pods as it has addresses",
    )
    docker_network_pool: int = Field(
        2,
        ge=0,
        le=16,
        description="`per-pod` mode only: warm pod networks the spawner keeps ready on Docker, "
        "so a create does not wait for a bridge to be made (0: each pod's network is made with "
        "its container); each holds one subnet of the engine's address pools",
    )
    min_time_to_stop: int = Field(
        300, description="smallest accepted time_to_stop, seconds (tests lower it)"
    )


class ExecSettings(SettingsGroup):
    """Commands run in pods by the spawner; beyond a limit: RESOURCE_EXHAUSTED (HTTP 429)."""

    exec_max_per_pod: int = Field(4, ge=1, description="commands running at once in one pod")
    exec_max_per_user: int = Field(
        8, ge=1, description="commands running at once for one user of a tenant"
    )
    exec_max_total: int = Field(
        32, ge=1, description="commands running at once in all (the spawner's exec threads)"
    )


class VolumeSettings(SettingsGroup):
    """Volumes and snapshots (sizes in MiB, as Tapis's size_limit)."""

    volume_size_default_mib: int = Field(
        1024,
        validation_alias="PODS_VOLUME_SIZE_DEFAULT",
        description="size_limit when a volume or snapshot gives none, MiB",
    )
    volume_size_max_mib: int = Field(
        10240,
        validation_alias="PODS_VOLUME_SIZE_MAX",
        description="the largest size_limit accepted, MiB",
    )


class QuotaSettings(SettingsGroup):
    """Per-user quotas: tenant defaults; tenant admins raise or lower them per user."""

    quota_pods: int = Field(10, description="pod records a user owns")
    quota_volumes: int = Field(10, description="volumes and snapshots a user owns")
    quota_cpu_millis: int = Field(
        16000,
        validation_alias="PODS_QUOTA_CPU",
        description="summed cpu_limit of the user's pods not OFF, millicores",
    )
    quota_mem_mib: int = Field(
        32768,
        validation_alias="PODS_QUOTA_MEM",
        description="summed mem_limit of the user's pods not OFF, MiB",
    )
    quota_storage_mib: int = Field(
        20480,
        validation_alias="PODS_QUOTA_STORAGE",
        description="summed size_limit of the user's volumes and snapshots, MiB",
    )


GROUPS: tuple[type[SettingsGroup], ...] = (
    SiteSettings,
    GatewaySettings,
    ProcessSettings,
    ObservabilitySettings,
    DatabaseSettings,
    MessagingSettings,
    IdentitySettings,
    PodSettings,
    ExecSettings,
    VolumeSettings,
    QuotaSettings,
    HealthSettings,
    RestartSettings,
    RuntimeSettings,
)


class Settings(
    SiteSettings,
    GatewaySettings,
    ProcessSettings,
    ObservabilitySettings,
    DatabaseSettings,
    MessagingSettings,
    IdentitySettings,
    PodSettings,
    ExecSettings,
    VolumeSettings,
    QuotaSettings,
    HealthSettings,
    RestartSettings,
    RuntimeSettings,
):
    """Everything configurable: every concern's settings at once. Times are seconds, sizes
    bytes unless a name says otherwise."""

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Reads PODS_* variables; unset ones keep their defaults. Raises SettingsError
        naming each variable whose value is wrong."""
        e = os.environ if env is None else env
        settings = validated(cls, cls._read(e))
        derived: dict[str, Any] = {}
        if not e.get("PODS_PUBLIC_URL", ""):
            scheme = "https" if settings.gateway_tls else "http"
            derived["public_url"] = f"{scheme}://localhost:{settings.gateway_port}"
        if not e.get("PODS_NATS_URL", ""):
            derived["nats_url"] = f"nats://127.0.0.1:{settings.nats_port}"
        if not e.get("PODS_GATEWAY_CONFIG_DIR", ""):
            derived["gateway_config_dir"] = str(settings.data_dir / "gateway")
        if not e.get("PODS_SPAWNER_ADDRESS", ""):
            derived["spawner_address"] = f"127.0.0.1:{settings.spawner_port}"
        return settings.model_copy(update=derived)
