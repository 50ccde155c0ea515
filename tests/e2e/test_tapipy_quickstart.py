"""The Tapis Pods quickstart runs unchanged through the real tapipy client against the local
stack: templated PostgreSQL pod and custom HTTP image, from create to delete."""

from __future__ import annotations

import functools
import urllib.request

import psycopg2
import pytest
from tapipy.tapis import Tapis

from tests.e2e.conftest import Cleanup, Unique
from tests.e2e.harness import Stack, eventually
from tests.e2e.refusals import refusal

pytestmark = [pytest.mark.docker, pytest.mark.stack]


@pytest.fixture(scope="module")
def t(stack: Stack) -> Tapis:
    client = Tapis(base_url=stack.url, username="testuser", password="testpass")
    client.get_tokens()
    return client


def published_port(stack: Stack, pod_id: str, container_port: int) -> int:
    (container,) = stack.containers(pod_id)
    container.reload()
    binding = container.attrs["NetworkSettings"]["Ports"][f"{container_port}/tcp"][0]
    assert binding["HostIp"] == "127.0.0.1"
    return int(binding["HostPort"])


def test_postgres_template_quickstart(
    t: Tapis, stack: Stack, unique: Unique, cleanup: Cleanup
) -> None:
    docpod = cleanup.pod(unique("docpod"))
    pod = t.pods.create_pod(pod_id=docpod, template="postgres", description="My example pod!")
    assert pod.pod_id == docpod
    assert pod.status == "REQUESTED"
    assert pod.networking.default.protocol == "postgres"
    assert pod.networking.default.url.startswith(f"{docpod}.")

    seen: list[str] = []

    def available() -> bool:
        status: str = t.pods.get_pod(pod_id=docpod).status
        if not seen or seen[-1] != status:
            seen.append(status)
        return status == "AVAILABLE"

    eventually(available, what=f"{docpod} AVAILABLE")
    assert seen[-1] == "AVAILABLE"
    assert set(seen) <= {"REQUESTED", "CREATING", "AVAILABLE"}, seen

    logs = eventually(
        lambda: "ready to accept connections" in t.pods.get_pod_logs(pod_id=docpod).logs,
        timeout=30,
        what="PostgreSQL start-up in the pod's logs",
    )
    assert logs
    action_logs = t.pods.get_pod_logs(pod_id=docpod).action_logs
    assert any("status AVAILABLE" in line for line in action_logs)

    creds = t.pods.get_pod_credentials(pod_id=docpod)
    assert creds.user_username == docpod
    assert len(creds.user_password) >= 24
    port = published_port(stack, docpod, 5432)
    with (
        psycopg2.connect(
            host="127.0.0.1",
            port=port,
            dbname="postgres",
            user=creds.user_username,
            password=creds.user_password,
            connect_timeout=10,
        ) as conn,
        conn.cursor() as cur,
    ):
        cur.execute("select current_user")
        assert cur.fetchone() == (docpod,)
    with pytest.raises(psycopg2.OperationalError):
        psycopg2.connect(
            host="127.0.0.1", port=port, dbname="postgres", user=docpod, password="wrong"
        )

    assert docpod in [p.pod_id for p in t.pods.list_pods()]

    t.pods.delete_pod(pod_id=docpod)
    eventually(lambda: not stack.containers(docpod), timeout=60, what="container removed")
    eventually(lambda: docpod not in [p.pod_id for p in t.pods.list_pods()], 30, "record gone")
    refusal(lambda: t.pods.get_pod(pod_id=docpod), 404, f"pod '{docpod}' not found")


def test_custom_image_serves_http_on_port_5000(
    t: Tapis, stack: Stack, unique: Unique, cleanup: Cleanup
) -> None:
    webpod = cleanup.pod(unique("webpod"))
    t.pods.create_pod(pod_id=webpod, image="pods-http:latest", description="web")
    eventually(lambda: t.pods.get_pod(pod_id=webpod).status == "AVAILABLE", what="webpod up")
    pod = t.pods.get_pod(pod_id=webpod)
    assert pod.networking.default.protocol == "http"
    assert pod.networking.default.port == 5000
    assert pod.status_container.ready is True

    port = published_port(stack, webpod, 5000)
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=10) as response:
        assert response.status == 200

    eventually(
        lambda: "url=/" in t.pods.get_pod_logs(pod_id=webpod).logs,
        timeout=30,
        what="the request in the pod's logs",
    )
    assert t.pods.get_pod_credentials(pod_id=webpod).user_username == webpod  # every pod's

    t.pods.delete_pod(pod_id=webpod)
    eventually(lambda: not stack.containers(webpod), timeout=60, what="container removed")


def test_a_missing_image_ends_in_error_with_the_reason(
    t: Tapis, stack: Stack, unique: Unique, cleanup: Cleanup
) -> None:
    ghostpod = cleanup.pod(unique("ghostpod"))
    t.pods.create_pod(pod_id=ghostpod, image="no-such-image:1")
    pod = eventually(
        lambda: (p := t.pods.get_pod(pod_id=ghostpod)).status == "ERROR" and p,
        timeout=60,
        what="ghostpod ERROR",
    )
    assert "no-such-image" in pod.status_container.message
    t.pods.delete_pod(pod_id=ghostpod)


def test_another_user_cannot_see_or_delete_my_pod(
    t: Tapis, stack: Stack, unique: Unique, cleanup: Cleanup
) -> None:
    privpod = cleanup.pod(unique("privpod"))
    t.pods.create_pod(pod_id=privpod, image="pods-http:latest")
    other = Tapis(base_url=stack.url, username="otheruser", password="otherpass")
    other.get_tokens()
    assert privpod not in [p.pod_id for p in other.pods.list_pods()]
    for call in (other.pods.get_pod, other.pods.get_pod_credentials, other.pods.delete_pod):
        refusal(functools.partial(call, pod_id=privpod), 404, f"pod '{privpod}' not found")
    assert t.pods.get_pod(pod_id=privpod).pod_id == privpod
    t.pods.delete_pod(pod_id=privpod)
