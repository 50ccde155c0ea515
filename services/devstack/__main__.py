"""`python -m services.devstack`: the whole stack in the foreground on embedded defaults.

It is `scripts/up`'s launcher, and the one place that turns the built-in identity on by
default (services/devstack/identity.py) and runs the neo4j template on its local stand-in
image (services/devstack/local_images.py); it refuses to start on an unsafe identity
configuration (services/api/identity_config.py)."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import ssl
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Mapping

from services.api.identity_config import check_identity
from services.api.tokens import load_or_create_private_key
from services.common.db.migrate import upgrade_async
from services.common.log_setup import setup_logging
from services.common.nats_server import EmbeddedNatsServer
from services.common.secretbox import load_or_create_key
from services.common.settings import Settings, SettingsError
from services.devstack.identity import local_identity_env
from services.devstack.local_images import local_image_env
from services.devstack.supervisor import Supervisor, child_env, child_overrides

log = logging.getLogger("devstack")
SERVICES = [
    ("api", "services.api"),
    ("spawner", "services.spawner"),
    ("health", "services.health"),
    ("router", "gateway.pod_router"),
    ("gateway", "gateway"),
]


def gateway_answers(url: str, context: ssl.SSLContext | None = None) -> bool:
    try:
        with urllib.request.urlopen(  # noqa: S310
            f"{url}/v3/sites", timeout=2, context=context
        ) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError):
        return False


def probe_context() -> ssl.SSLContext:
    """TLS for asking our own gateway, on loopback, whether it serves: its certificate names
    the public host (perhaps not 127.0.0.1), and clients verify it, not this probe."""
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


async def wait_for_gateway(
    url: str, timeout: float = 60.0, context: ssl.SSLContext | None = None
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if await asyncio.to_thread(gateway_answers, url, context):
            return
        await asyncio.sleep(0.2)
    raise TimeoutError(f"the gateway did not answer on {url} within {timeout:.0f}s")


async def run(settings: Settings, local_env: Mapping[str, str]) -> int:
    data = settings.data_dir.resolve()
    data.mkdir(parents=True, exist_ok=True)
    if not settings.secret_key:
        load_or_create_key(data / "secret.key")
    load_or_create_private_key(data / "jwt-private.pem")
    await upgrade_async(settings.effective_database_url)

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)

    nats = EmbeddedNatsServer(settings.nats_port, data / "nats")
    await nats.start()
    nats_keeper = asyncio.create_task(nats.keep_running(data / "pids" / "nats.pid"))
    supervisor = Supervisor(data / "pids", child_env({**local_env, "PODS_DATA_DIR": str(data)}))
    try:
        overrides = child_overrides(os.environ)
        for name, module in SERVICES:
            await supervisor.start(supervisor.python_module(name, module, overrides.get(name)))
        if settings.gateway_tls:
            await wait_for_gateway(
                f"https://127.0.0.1:{settings.gateway_port}", context=probe_context()
            )
        else:
            await wait_for_gateway(f"http://127.0.0.1:{settings.gateway_port}")
        if settings.dev_identity == "off":
            users = f"none: the built-in identity is off (issuer {settings.jwt_issuer})"
        else:
            users = ", ".join(settings.dev_users) + " (set PODS_DEV_USERS=user:password,...)"
        print(
            f"\nPods service is up: {settings.public_url}\n"
            f"  dev users: {users}\n"
            f"  tenant: {settings.tenant_id}   data: {data}\n"
            f"  gRPC and REST on port {settings.gateway_port}"
            f"{' (TLS)' if settings.gateway_tls else ''}; Ctrl-C stops everything.\n"
            f"  pods: https://<pod_id>.{settings.pod_domain}:{settings.pods_port} (TLS, by name)\n"
            f"  development CA: {data / 'gateway' / 'tls' / 'ca.pem'}\n",
            flush=True,
        )
        await stop.wait()
    finally:
        await supervisor.stop_all()
        nats_keeper.cancel()
        await asyncio.gather(nats_keeper, return_exceptions=True)
        await nats.stop()
        (data / "pids" / "nats.pid").unlink(missing_ok=True)
    return 0


def main() -> None:
    local_env = {**local_identity_env(os.environ), **local_image_env(os.environ)}
    settings = Settings.from_env({**os.environ, **local_env})
    setup_logging("devstack", settings.log_format)
    try:
        check_identity(settings)
    except SettingsError as exc:
        sys.exit(f"devstack: {exc}")
    sys.exit(asyncio.run(run(settings, local_env)))


main()
