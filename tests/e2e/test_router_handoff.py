"""The STARTTLS router's opt-in hand-off (PODS_ROUTER_HANDOFF=1) through the real stack:
classic libpq connections (SSLRequest first) reach their own PostgreSQL pod by name once the
router hands the TLS stream to Envoy's pods_handoff listener, and the router itself never
terminates them. The default path (0) is covered by test_networking.py."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from tapipy.tapis import Tapis

from tests.e2e.conftest import Cleanup, Unique
from tests.e2e.harness import Stack, start_stack, stop_stack
from tests.e2e.test_networking import DOMAIN, _pg, ca_file, create_and_wait

pytestmark = [pytest.mark.docker, pytest.mark.stack]


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    running = start_stack(
        tmp_path_factory.mktemp("stack-handoff"), extra_env={"PODS_ROUTER_HANDOFF": "1"}
    )
    try:
        yield running
    finally:
        stop_stack(running)


@pytest.fixture(scope="module")
def t(stack: Stack) -> Tapis:
    client = Tapis(base_url=stack.url, username="testuser", password="testpass")
    client.get_tokens()
    return client


def test_classic_libpq_reaches_each_postgres_pod_through_the_hand_off(
    t: Tapis, stack: Stack, unique: Unique, cleanup: Cleanup
) -> None:
    names = (cleanup.pod(unique("hoa")), cleanup.pod(unique("hob")))
    for name in names:
        create_and_wait(stack, t, pod_id=name, template="postgres")
    assert (stack.data_dir / "gateway" / "handoff.sock").is_socket()
    for name in names:
        creds = t.pods.get_pod_credentials(pod_id=name)
        args = (stack, f"{name}.{DOMAIN}", creds.user_username, creds.user_password)
        assert _pg(*args) == name  # sslmode=prefer: SSLRequest, then TLS handed to Envoy
        assert _pg(*args, sslmode="verify-full", sslrootcert=str(ca_file(stack))) == name
        assert _pg(*args, sslmode="require", sslnegotiation="direct") == name
