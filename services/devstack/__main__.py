"""`python -m services.devstack`: the whole stack in the foreground on embedded defaults."""

from __future__ import annotations

import asyncio
import logging
import signal
import sys
import time
import urllib.error
import urllib.request

from services.api.tokens import load_or_create_private_key
from services.common.db.migrate import upgrade_async
from services.common.nats_server import EmbeddedNatsServer
from services.common.secretbox import load_or_create_key
from services.common.settings import Settings
from services.devstack.supervisor import Supervisor, child_env

log = logging.getLogger("devstack")
SERVICES = [
    ("api", "services.api"),
    ("spawner", "services.spawner"),
    ("health", "services.health"),
    ("router", "gateway.pod_router"),
    ("gateway", "gateway"),
]


def gateway_answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/v3/sites", timeout=2) as response:  # noqa: S310
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError):
        return False


async def wait_for_gateway(url: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if await asyncio.to_thread(gateway_answers, url):
            return
        await asyncio.sleep(0.2)
    raise TimeoutError(f"the gateway did not answer on {url} within {timeout:.0f}s")


async def run(settings: Settings) -> int:
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
    supervisor = Supervisor(data / "pids", child_env({"PODS_DATA_DIR": str(data)}))
    try:
        for name, module in SERVICES:
            await supervisor.start(supervisor.python_module(name, module))
        await wait_for_gateway(f"http://127.0.0.1:{settings.gateway_port}")
        users = ", ".join(settings.dev_users)
        print(
            f"\nPods service is up: {settings.public_url}\n"
            f"  dev users: {users} (set PODS_DEV_USERS=user:password,...)\n"
            f"  tenant: {settings.tenant_id}   data: {data}\n"
            f"  gRPC and REST on port {settings.gateway_port}; Ctrl-C stops everything.\n"
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
    logging.basicConfig(level=logging.INFO, format="%(asctime)s devstack %(message)s")
    sys.exit(asyncio.run(run(Settings.from_env())))


main()
