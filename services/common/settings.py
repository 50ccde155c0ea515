"""Settings for every process, read once from the environment (PODS_* variables).

Each process calls `Settings.from_env()` at start-up and passes the result down; nothing else
reads the environment. Defaults are the embedded single-machine stack.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from services.common.restarts import RestartPolicy


class SettingsError(ValueError):
    """An environment variable holds a value we cannot use."""


def _int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise SettingsError(f"{name} must be an integer, got {raw!r}") from None


def _positive(env: Mapping[str, str], name: str, default: int) -> int:
    value = _int(env, name, default)
    if value < 1:
        raise SettingsError(f"{name} must be at least 1, got {value}")
    return value


def _float(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        return float(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a number, got {raw!r}") from None


DEV_IDENTITY_MODES = ("off", "on", "local")


def _bool(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = env.get(name, "").strip().lower()
    if raw == "":
        return default
    if raw in ("1", "true", "yes", "on"):
        return True
    if raw in ("0", "false", "no", "off"):
        return False
    raise SettingsError(f"{name} must be 1 or 0 (true or false), got {raw!r}")


def _users(raw: str) -> dict[str, str]:
    users: dict[str, str] = {}
    if not raw.strip():
        return users
    for item in raw.split(","):
        name, sep, password = item.strip().partition(":")
        if not sep or not name or not password:
            raise SettingsError(f"PODS_DEV_USERS entries must be user:password, got {item!r}")
        users[name] = password
    return users


def _names(raw: str) -> frozenset[str]:
    return frozenset(name.strip() for name in raw.split(",") if name.strip())


def _dev_identity(raw: str) -> str:
    """PODS_DEV_IDENTITY: unset, 0 or off; 1 or on; local."""
    value = raw.strip().lower()
    modes = {"": "off", "0": "off", "off": "off", "1": "on", "on": "on", "local": "local"}
    if value not in modes:
        raise SettingsError(f"PODS_DEV_IDENTITY must be 0, 1 or local, got {raw!r}")
    return modes[value]


@dataclass(frozen=True)
class Settings:
    """Everything configurable, grouped by concern. Times are seconds, sizes bytes."""

    # Where things run
    runtime: str = "docker"  # docker | kubernetes
    bind_address: str = "127.0.0.1"  # the gRPC servers' listen address (0.0.0.0 in a cluster)
    k8s_namespace: str = "pods"
    k8s_image_pull_policy: str = "IfNotPresent"
    k8s_image_pull_secrets: str = ""  # comma-separated Secret names
    k8s_compute_queues: str = ""  # JSON, see services/common/runtime/kubernetes/config.py
    k8s_non_root_images: str = ""  # comma-separated image prefixes known to run as non-root
    k8s_storage_class: str = ""  # StorageClass of volume and snapshot claims ("": the default)
    k8s_volume_access_mode: str = "ReadWriteOnce"
    k8s_storage_helper_image: str = "busybox:1.36"  # reaches volume files on Kubernetes

    # Identity and tenancy
    deployment_id: str = "local"
    tenant_id: str = "dev"
    site_id: str = "local"
    public_url: str = "http://localhost:8080"
    # The built-in identity (password logins, tokens we sign): off unless enabled; `local`
    # (what scripts/up sets) also allows well-known passwords, on loopback only.
    dev_identity: str = "off"  # off | on | local
    dev_users: Mapping[str, str] = field(default_factory=dict)
    token_ttl: int = 4 * 3600
    # The external issuer: its tokens are verified with a PEM public key file or the keys
    # of a JWKS URL, and must name jwt_audience in `aud` when that is set.
    jwt_issuer: str = ""
    jwt_public_key_file: str = ""
    jwt_jwks_url: str = ""
    jwt_audience: str = ""
    admin_users: frozenset[str] = frozenset()  # admins when the built-in identity vouches
    jwt_admin_users: frozenset[str] = frozenset()  # admins when the external issuer vouches
    # Password guessing: consecutive failures before logins are refused for a while.
    login_user_failures: int = 30  # per (tenant, username)
    login_address_failures: int = 100  # per client address
    login_block_seconds: float = 60.0  # the first refusal; doubles with each further failure
    login_block_max_seconds: float = 3600.0

    # Storage
    data_dir: Path = Path("data")
    database_url: str = ""  # default: SQLite file in data_dir
    secret_key: str = ""  # Fernet key for secrets at rest; default: generated into data_dir

    # Messaging
    nats_url: str = "nats://127.0.0.1:4333"
    nats_port: int = 4333  # the embedded nats-server's port
    ack_wait: float = 30.0  # seconds a command may stay unacked before redelivery
    nats_stream_replicas: int = 1  # JetStream replicas of our streams (3 on a NATS cluster)

    # Ports of the local processes
    gateway_port: int = 8080
    gateway_admin_port: int = 9901
    pods_port: int = 8443  # the one TLS port serving every pod by name (443 in production)
    router_port: int = 50054  # the STARTTLS router for classic PostgreSQL clients (loopback)
    tls_cert_file: str = ""  # PEM certificate for *.<pod_domain>; default: dev CA issues one
    tls_key_file: str = ""
    gateway_api_host: str = "127.0.0.1"  # where Envoy reaches the API (a Service name in a cluster)
    # The REST/gRPC port speaks TLS (production); plain HTTP is refused then.
    gateway_tls: bool = False
    # Its certificate (for the public URL's host); default: PODS_TLS_CERT_FILE's, else dev CA.
    gateway_tls_cert_file: str = ""
    gateway_tls_key_file: str = ""
    gateway_max_connections: int = 10000  # open client connections over all gateway ports
    gateway_max_heap_mb: int = 1024  # Envoy's heap; keep below the gateway's memory limit
    gateway_config_dir: str = ""  # Envoy's bootstrap and descriptor set; default <data_dir>/gateway
    api_port: int = 50051
    spawner_port: int = 50052
    health_port: int = 50053
    spawner_address: str = ""  # where the API reaches SpawnerService; default 127.0.0.1:port

    # Pods
    pod_domain: str = "pods.localhost"
    image_postgres: str = "pods-postgres:15"
    image_neo4j: str = "neo4j:5"
    default_cpu_limit_millis: int = 2000
    default_mem_limit_mib: int = 3072
    max_cpu_millis: int = 8000  # the largest request or limit a pod may ask for
    max_mem_mib: int = 16384
    max_gpus: int = 0  # GPUs a pod may ask for (0: none on this deployment)
    log_limit_bytes: int = 10 * 1024 * 1024
    pod_pids_limit: int = 1024  # processes and threads per pod container (Docker)
    min_time_to_stop: int = 300  # seconds; lower only for tests

    # Exec (commands run in pods by the spawner; beyond a limit: RESOURCE_EXHAUSTED, HTTP 429)
    exec_max_per_pod: int = 4  # commands running at once in one pod
    exec_max_per_user: int = 8  # commands running at once for one user of a tenant
    exec_max_total: int = 32  # commands running at once in the spawner (its exec threads)

    # Volumes and snapshots (sizes in MiB, as Tapis's size_limit)
    volume_size_default_mib: int = 1024  # size_limit when a volume or snapshot gives none
    volume_size_max_mib: int = 10240  # the largest size_limit accepted

    # Per-user quotas (defaults; tenant admins raise them per user)
    quota_pods: int = 10  # pod records a user owns
    quota_volumes: int = 10  # volumes and snapshots a user owns
    quota_cpu_millis: int = 16000  # summed cpu_limit of the user's pods asked to run
    quota_mem_mib: int = 32768  # summed mem_limit of the user's pods asked to run
    quota_storage_mib: int = 20480  # summed size_limit of the user's volumes and snapshots

    # Health loop
    resync_interval: float = 5.0
    probe_interval: float = 0.01  # first readiness probe delay of a starting pod
    probe_interval_max: float = 1.0
    drift_grace: float = 10.0  # seconds before a stuck pod's command is published again
    route_refresh: float = 1.0  # the pod router rebuilds routes at least this often

    # Restarts of containers that ended by themselves (services/common/restarts.py)
    restart_backoff: float = 10.0  # seconds before the second restart in a row; doubles
    restart_backoff_max: float = 300.0  # the longest wait between two restarts
    restart_reset: float = 600.0  # a run this long ends a streak of restarts
    retry_backoff_max: float = 60.0  # longest wait before retrying a temporary failure

    @property
    def restart_policy(self) -> RestartPolicy:
        return RestartPolicy(
            base=self.restart_backoff, cap=self.restart_backoff_max, reset_after=self.restart_reset
        )

    @property
    def effective_database_url(self) -> str:
        """The configured URL, or the SQLite file under data_dir."""
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{(self.data_dir / 'pods.db').resolve()}"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Reads PODS_* variables; unset ones keep their defaults."""
        e = os.environ if env is None else env
        d = cls()
        return cls(
            runtime=e.get("PODS_RUNTIME", d.runtime),
            bind_address=e.get("PODS_BIND_ADDRESS", d.bind_address),
            k8s_namespace=e.get("PODS_K8S_NAMESPACE", d.k8s_namespace),
            k8s_image_pull_policy=e.get("PODS_K8S_IMAGE_PULL_POLICY", d.k8s_image_pull_policy),
            k8s_image_pull_secrets=e.get("PODS_K8S_IMAGE_PULL_SECRETS", d.k8s_image_pull_secrets),
            k8s_compute_queues=e.get("PODS_K8S_COMPUTE_QUEUES", d.k8s_compute_queues),
            k8s_non_root_images=e.get("PODS_K8S_NON_ROOT_IMAGES", d.k8s_non_root_images),
            k8s_storage_class=e.get("PODS_K8S_STORAGE_CLASS", d.k8s_storage_class),
            k8s_volume_access_mode=e.get("PODS_K8S_VOLUME_ACCESS_MODE", d.k8s_volume_access_mode),
            k8s_storage_helper_image=e.get(
                "PODS_K8S_STORAGE_HELPER_IMAGE", d.k8s_storage_helper_image
            ),
            nats_stream_replicas=_int(e, "PODS_NATS_STREAM_REPLICAS", d.nats_stream_replicas),
            deployment_id=e.get("PODS_DEPLOYMENT_ID", d.deployment_id),
            tenant_id=e.get("PODS_TENANT_ID", d.tenant_id),
            site_id=e.get("PODS_SITE_ID", d.site_id),
            public_url=e.get("PODS_PUBLIC_URL", "")
            or f"{'https' if _bool(e, 'PODS_GATEWAY_TLS', d.gateway_tls) else 'http'}://localhost:"
            f"{_int(e, 'PODS_GATEWAY_PORT', d.gateway_port)}",
            dev_identity=_dev_identity(e.get("PODS_DEV_IDENTITY", "")),
            dev_users=_users(e.get("PODS_DEV_USERS", "")),
            token_ttl=_int(e, "PODS_TOKEN_TTL", d.token_ttl),
            jwt_issuer=e.get("PODS_JWT_ISSUER", d.jwt_issuer).strip(),
            jwt_public_key_file=e.get("PODS_JWT_PUBLIC_KEY_FILE", d.jwt_public_key_file).strip(),
            jwt_jwks_url=e.get("PODS_JWT_JWKS_URL", d.jwt_jwks_url).strip(),
            jwt_audience=e.get("PODS_JWT_AUDIENCE", d.jwt_audience).strip(),
            admin_users=_names(e.get("PODS_ADMIN_USERS", "")),
            jwt_admin_users=_names(e.get("PODS_JWT_ADMIN_USERS", "")),
            login_user_failures=_int(e, "PODS_LOGIN_USER_FAILURES", d.login_user_failures),
            login_address_failures=_int(e, "PODS_LOGIN_ADDRESS_FAILURES", d.login_address_failures),
            login_block_seconds=_float(e, "PODS_LOGIN_BLOCK_SECONDS", d.login_block_seconds),
            login_block_max_seconds=_float(
                e, "PODS_LOGIN_BLOCK_MAX_SECONDS", d.login_block_max_seconds
            ),
            data_dir=Path(e.get("PODS_DATA_DIR", str(d.data_dir))),
            database_url=e.get("PODS_DATABASE_URL", d.database_url),
            secret_key=e.get("PODS_SECRET_KEY", d.secret_key),
            nats_url=e.get("PODS_NATS_URL", "")
            or f"nats://127.0.0.1:{_int(e, 'PODS_NATS_PORT', d.nats_port)}",
            nats_port=_int(e, "PODS_NATS_PORT", d.nats_port),
            ack_wait=_float(e, "PODS_ACK_WAIT", d.ack_wait),
            gateway_port=_int(e, "PODS_GATEWAY_PORT", d.gateway_port),
            gateway_admin_port=_int(e, "PODS_GATEWAY_ADMIN_PORT", d.gateway_admin_port),
            pods_port=_int(e, "PODS_PODS_PORT", d.pods_port),
            router_port=_int(e, "PODS_ROUTER_PORT", d.router_port),
            tls_cert_file=e.get("PODS_TLS_CERT_FILE", d.tls_cert_file),
            tls_key_file=e.get("PODS_TLS_KEY_FILE", d.tls_key_file),
            gateway_api_host=e.get("PODS_GATEWAY_API_HOST", d.gateway_api_host),
            gateway_tls=_bool(e, "PODS_GATEWAY_TLS", d.gateway_tls),
            gateway_tls_cert_file=e.get("PODS_GATEWAY_TLS_CERT_FILE", d.gateway_tls_cert_file),
            gateway_tls_key_file=e.get("PODS_GATEWAY_TLS_KEY_FILE", d.gateway_tls_key_file),
            gateway_max_connections=_int(
                e, "PODS_GATEWAY_MAX_CONNECTIONS", d.gateway_max_connections
            ),
            gateway_max_heap_mb=_int(e, "PODS_GATEWAY_MAX_HEAP_MB", d.gateway_max_heap_mb),
            gateway_config_dir=e.get("PODS_GATEWAY_CONFIG_DIR", "")
            or str(Path(e.get("PODS_DATA_DIR", str(d.data_dir))) / "gateway"),
            api_port=_int(e, "PODS_API_PORT", d.api_port),
            spawner_port=_int(e, "PODS_SPAWNER_PORT", d.spawner_port),
            health_port=_int(e, "PODS_HEALTH_PORT", d.health_port),
            spawner_address=e.get("PODS_SPAWNER_ADDRESS", "")
            or f"127.0.0.1:{_int(e, 'PODS_SPAWNER_PORT', d.spawner_port)}",
            pod_domain=e.get("PODS_POD_DOMAIN", d.pod_domain),
            image_postgres=e.get("PODS_IMAGE_POSTGRES", d.image_postgres),
            image_neo4j=e.get("PODS_IMAGE_NEO4J", d.image_neo4j),
            default_cpu_limit_millis=_int(e, "PODS_DEFAULT_CPU_LIMIT", d.default_cpu_limit_millis),
            default_mem_limit_mib=_int(e, "PODS_DEFAULT_MEM_LIMIT", d.default_mem_limit_mib),
            max_cpu_millis=_int(e, "PODS_MAX_CPU", d.max_cpu_millis),
            max_mem_mib=_int(e, "PODS_MAX_MEM", d.max_mem_mib),
            max_gpus=_int(e, "PODS_MAX_GPUS", d.max_gpus),
            log_limit_bytes=_int(e, "PODS_LOG_LIMIT_BYTES", d.log_limit_bytes),
            pod_pids_limit=_positive(e, "PODS_POD_PIDS_LIMIT", d.pod_pids_limit),
            min_time_to_stop=_int(e, "PODS_MIN_TIME_TO_STOP", d.min_time_to_stop),
            exec_max_per_pod=_positive(e, "PODS_EXEC_MAX_PER_POD", d.exec_max_per_pod),
            exec_max_per_user=_positive(e, "PODS_EXEC_MAX_PER_USER", d.exec_max_per_user),
            exec_max_total=_positive(e, "PODS_EXEC_MAX_TOTAL", d.exec_max_total),
            volume_size_default_mib=_int(e, "PODS_VOLUME_SIZE_DEFAULT", d.volume_size_default_mib),
            volume_size_max_mib=_int(e, "PODS_VOLUME_SIZE_MAX", d.volume_size_max_mib),
            quota_pods=_int(e, "PODS_QUOTA_PODS", d.quota_pods),
            quota_volumes=_int(e, "PODS_QUOTA_VOLUMES", d.quota_volumes),
            quota_cpu_millis=_int(e, "PODS_QUOTA_CPU", d.quota_cpu_millis),
            quota_mem_mib=_int(e, "PODS_QUOTA_MEM", d.quota_mem_mib),
            quota_storage_mib=_int(e, "PODS_QUOTA_STORAGE", d.quota_storage_mib),
            resync_interval=_float(e, "PODS_RESYNC_INTERVAL", d.resync_interval),
            probe_interval=_float(e, "PODS_PROBE_INTERVAL", d.probe_interval),
            probe_interval_max=_float(e, "PODS_PROBE_INTERVAL_MAX", d.probe_interval_max),
            drift_grace=_float(e, "PODS_DRIFT_GRACE", d.drift_grace),
            route_refresh=_float(e, "PODS_ROUTE_REFRESH", d.route_refresh),
            restart_backoff=_float(e, "PODS_RESTART_BACKOFF", d.restart_backoff),
            restart_backoff_max=_float(e, "PODS_RESTART_BACKOFF_MAX", d.restart_backoff_max),
            restart_reset=_float(e, "PODS_RESTART_RESET", d.restart_reset),
            retry_backoff_max=_float(e, "PODS_RETRY_BACKOFF_MAX", d.retry_backoff_max),
        )
