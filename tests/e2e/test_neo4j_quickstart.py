"""The Tapis Pods documentation's quickstart on the local stack: a neo4j pod from
`pod_template='template/neo4j'`, its logs and generated credentials through the real tapipy
client, and the real neo4j driver logging in over `bolt+s://<pod>.pods.localhost:<pods port>`
through the gateway (SNI routing, the stack's CA) as user <pod id> with the generated password.
Locally the neo4j template runs pods-neo4j-standin:local (FalkorDB behind a Bolt login gate,
not Neo4j); production keeps the official image."""

from __future__ import annotations

import json
import socket
from typing import Any

import pytest
from neo4j import Driver, GraphDatabase
from neo4j.exceptions import AuthError
from tapipy.errors import BadRequestError
from tapipy.tapis import Tapis

from services.health.probes import BOLT_HANDSHAKE
from tests.e2e.conftest import Cleanup, Unique
from tests.e2e.harness import Stack, eventually
from tests.e2e.test_networking import tcp_answer

pytestmark = [pytest.mark.docker, pytest.mark.stack]

DOMAIN = "pods.localhost"


@pytest.fixture(scope="module")
def t(stack: Stack) -> Tapis:
    client = Tapis(base_url=stack.url, username="testuser", password="testpass")
    client.get_tokens()
    return client


def wait_available(t: Tapis, pod_id: str) -> None:
    eventually(lambda: t.pods.get_pod(pod_id=pod_id).status == "AVAILABLE", what=f"{pod_id} up")


def bolt_driver(stack: Stack, pod_id: str, user: str, password: str) -> Driver:
    """The neo4j driver for bolt+s://<pod>.pods.localhost:<pods port> (the name is sent as SNI
    and checked against the stack's certificate; see `localhost_names`)."""
    port = int(stack.env["PODS_PODS_PORT"])
    return GraphDatabase.driver(
        f"bolt+s://{pod_id}.{DOMAIN}:{port}", auth=(user, password), connection_timeout=10
    )


@pytest.fixture
def localhost_names(monkeypatch: pytest.MonkeyPatch) -> None:
    """Resolves `*.localhost` to loopback, as resolvers that know the convention do (this
    machine's does not)."""
    real = socket.getaddrinfo

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        local = isinstance(host, str) and host.endswith(".localhost")
        return real("127.0.0.1" if local else host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)


@pytest.mark.usefixtures("localhost_names")
def test_the_documented_quickstart(
    t: Tapis, stack: Stack, unique: Unique, cleanup: Cleanup, monkeypatch: pytest.MonkeyPatch
) -> None:
    docpod = cleanup.pod(unique("docpod"))
    # What a pod_template-aware client sends (tapipy 25 drops the argument before sending,
    # see the next test), byte for byte the documentation's call.
    body = {"pod_id": docpod, "pod_template": "template/neo4j", "description": "My example pod!"}
    status, _, created = stack.request(
        "POST", "/v3/pods", json.dumps(body).encode(), token=stack.token()
    )
    assert status == 200, created
    assert isinstance(created, dict)
    assert created["result"]["pod_template"] == "template/neo4j"
    assert created["result"]["template"] == "neo4j"

    wait_available(t, docpod)
    pod = t.pods.get_pod(pod_id=docpod)
    assert pod.pod_template == "template/neo4j"
    assert pod.networking.default.protocol == "tcp" and pod.networking.default.port == 7687
    eventually(
        lambda: "Bolt on port 7687" in t.pods.get_pod_logs(pod_id=docpod).logs,
        timeout=30,
        what="the stand-in's start-up line in the pod's logs",
    )
    creds = t.pods.get_pod_credentials(pod_id=docpod)
    assert creds.user_username == docpod  # as the Tapis documentation says
    assert creds.user_password not in t.pods.get_pod_logs(pod_id=docpod).logs

    host = f"{docpod}.{DOMAIN}"
    # Routed when the Bolt handshake (health's readiness probe's) gets a version back.
    eventually(lambda: len(tcp_answer(stack, host, BOLT_HANDSHAKE, 4)) == 4, 5.0, f"{host} routed")
    monkeypatch.setenv("SSL_CERT_FILE", str(stack.ca))  # trust the stack's CA, as a user would
    with bolt_driver(stack, docpod, creds.user_username, creds.user_password) as driver:
        driver.verify_connectivity()
        records, _, _ = driver.execute_query("RETURN 1 AS one")
        assert [r["one"] for r in records] == [1]
    with (
        bolt_driver(stack, docpod, creds.user_username, "not-the-password") as driver,
        pytest.raises(AuthError),
    ):
        driver.verify_connectivity()


def test_tapipy_sends_the_template_namespace_and_says_what_to_do_without_it(
    t: Tapis, unique: Unique, cleanup: Cleanup
) -> None:
    # tapipy 25.4.0's spec has no pod_template, and the client drops unknown arguments before
    # sending; the 400 then says what to send instead.
    with pytest.raises(BadRequestError, match="template='template/neo4j'"):
        t.pods.create_pod(
            pod_id=unique("dropped"), pod_template="template/neo4j", description="My example pod!"
        )
    graph = cleanup.pod(unique("graph"))
    pod = t.pods.create_pod(pod_id=graph, template="template/neo4j", description="My example pod!")
    assert (pod.template, pod.pod_template) == ("neo4j", "template/neo4j")
    wait_available(t, graph)
    assert t.pods.get_pod_credentials(pod_id=graph).user_username == graph


def test_a_custom_pod_gets_credentials_through_the_placeholders(
    t: Tapis, stack: Stack, unique: Unique, cleanup: Cleanup
) -> None:
    web = cleanup.pod(unique("web"))
    t.pods.create_pod(
        pod_id=web,
        image="pods-http:latest",
        environment_variables={"POD_MESSAGE": "user=<<TAPIS_user_username>>"},
    )
    creds = t.pods.get_pod_credentials(pod_id=web)
    assert creds.user_username == web and len(creds.user_password) >= 24
    assert t.pods.get_pod(pod_id=web).environment_variables.POD_MESSAGE.endswith("username>>")
    wait_available(t, web)
    (container,) = stack.containers(web)
    container.reload()
    assert f"POD_MESSAGE=user={web}" in container.attrs["Config"]["Env"]
