"""Fair and safe objects through the real stack (on PostgreSQL and on SQLite): quotas hold under parallel
creates and answer 429 naming the quota and the use; pod ids that cannot fit a DNS label are
refused; the image allow-list matches names, not string prefixes, and holds templates too; a
revoked grant stops the pods that used it within seconds; concurrent demotions never remove
the last ADMIN."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import asyncpg
import pytest

from tests.e2e.harness import Stack, eventually, start_stack, stop_stack

pytestmark = [pytest.mark.docker, pytest.mark.stack]

PG_ADMIN_DSN = os.environ.get("PODS_TEST_PG_DSN", "postgresql://postgres@127.0.0.1:5432/postgres")
POD_QUOTA = 3


async def _pg(statement: str) -> None:
    admin = await asyncpg.connect(PG_ADMIN_DSN)
    try:
        await admin.execute(statement)
    finally:
        await admin.close()


@pytest.fixture(
    scope="module", params=[pytest.param("postgres", marks=pytest.mark.postgres), "sqlite"]
)
def fair(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Stack]:
    """A stack of its own with a pod quota of 3, on a fresh PostgreSQL database or on the
    default SQLite file."""
    env = {"PODS_QUOTA_PODS": str(POD_QUOTA), "PODS_QUOTA_VOLUMES": "100"}
    running = start_stack(tmp_path_factory.mktemp("fair"), env, database=request.param)
    try:
        yield running
    finally:
        stop_stack(running)


def call(
    stack: Stack, method: str, path: str, body: dict[str, Any] | None, token: str
) -> tuple[int, Any]:
    status, _, data = stack.request(
        method, path, json.dumps(body).encode() if body is not None else None, token=token
    )
    return status, data


def web_pod(pod_id: str, **extra: Any) -> dict[str, Any]:
    return {"pod_id": pod_id, "image": "pods-http:latest", **extra}


def delete_pods(stack: Stack, token: str, *pod_ids: str) -> None:
    for pod_id in pod_ids:
        call(stack, "DELETE", f"/v3/pods/{pod_id}", None, token)
    for pod_id in pod_ids:

        def gone(pod_id: str = pod_id) -> bool:
            return call(stack, "GET", f"/v3/pods/{pod_id}", None, token)[0] == 404

        eventually(gone, 60, f"{pod_id} gone")


def test_parallel_creates_never_exceed_the_pod_quota(fair: Stack) -> None:
    token, admin = fair.token(), fair.token("adminuser", "adminpass")
    status, body = call(fair, "POST", "/v3/pods", web_pod("quota0"), token)
    assert status == 200, body
    with ThreadPoolExecutor(6) as pool:
        answers = list(
            pool.map(
                lambda i: call(fair, "POST", "/v3/pods", web_pod(f"quota{i}"), token), range(1, 7)
            )
        )
    statuses = sorted(status for status, _ in answers)
    assert statuses == [200] * (POD_QUOTA - 1) + [429] * (7 - POD_QUOTA), answers
    refusal = next(body for status, body in answers if status == 429)
    assert refusal["message"] == f"quota exceeded: pods {POD_QUOTA} of {POD_QUOTA} in use"
    created = [b["result"]["pod_id"] for s, b in answers if s == 200] + ["quota0"]

    status, body = call(fair, "GET", "/v3/pods/quotas/testuser", None, token)
    assert status == 200, body
    assert body["result"]["use"]["pods"] == POD_QUOTA
    assert body["result"]["limits"]["pods"] == POD_QUOTA
    assert call(fair, "GET", "/v3/pods/quotas/otheruser", None, token)[0] == 403
    assert call(fair, "PUT", "/v3/pods/quotas/testuser", {"pods": 10}, token)[0] == 403
    status, body = call(fair, "PUT", "/v3/pods/quotas/testuser", {"pods": POD_QUOTA + 1}, admin)
    assert status == 200 and body["result"]["overridden"] == ["pods"], body
    status, body = call(fair, "POST", "/v3/pods", web_pod("quotaextra"), token)
    assert status == 200, body
    created.append("quotaextra")
    status, body = call(fair, "PUT", "/v3/pods/quotas/testuser", {"pods": -1}, admin)
    assert status == 200 and body["result"]["limits"]["pods"] == POD_QUOTA, body
    delete_pods(fair, token, *created)


def test_pod_ids_that_cannot_fit_a_dns_label_are_refused(fair: Stack) -> None:
    token = fair.token()
    status, body = call(fair, "POST", "/v3/pods", web_pod("a" * 64), token)
    assert status == 400, body
    assert body["message"].startswith("pod_id: ") and "at most 63" in body["message"]
    long_stanza = web_pod("b" * 55, networking={"metrics1": {"protocol": "http", "port": 9000}})
    status, body = call(fair, "POST", "/v3/pods", long_stanza, token)
    assert status == 400 and "b" * 55 + "-metrics1" in body["message"], body
    assert call(fair, "GET", "/v3/pods/" + "b" * 55, None, token)[0] == 404  # nothing written


def test_the_allow_list_matches_names_and_holds_templates(fair: Stack) -> None:
    token, admin = fair.token(), fair.token("adminuser", "adminpass")
    status, body = call(fair, "POST", "/v3/pods/images", {"image": "pods-http*"}, admin)
    assert status == 200, body
    try:
        status, body = call(
            fair, "POST", "/v3/pods", web_pod("evil1", image="pods-http.evil.com/x:1"), token
        )
        assert status == 403 and "allow-list" in body["message"], body
        status, body = call(
            fair, "POST", "/v3/pods", web_pod("evil2", image="pods-http-x:1"), token
        )
        assert status == 403, body
        status, body = call(
            fair, "POST", "/v3/pods", {"pod_id": "tpl1", "template": "postgres"}, token
        )
        assert status == 403 and "of template 'postgres'" in body["message"], body
        template = {"template_id": "echoer", "image": "pods-echo:latest"}
        status, body = call(fair, "POST", "/v3/pods/templates", template, admin)
        assert status == 403 and "allow-list" in body["message"], body
        status, body = call(fair, "POST", "/v3/pods", web_pod("good1"), token)
        assert status == 200, body
        delete_pods(fair, token, "good1")
    finally:
        call(fair, "DELETE", "/v3/pods/images/pods-http%2A", None, admin)


def container_running(stack: Stack, pod_id: str) -> bool:
    return any(c.status == "running" for c in stack.containers(pod_id))


def test_a_revoked_grant_stops_the_pods_that_used_it(fair: Stack) -> None:
    alice, other = fair.token(), fair.token("otheruser", "otherpass")
    assert call(fair, "POST", "/v3/pods/volumes", {"volume_id": "revvol"}, alice)[0] == 200
    grant = {"user": "otheruser", "level": "USER"}
    assert call(fair, "POST", "/v3/pods/volumes/revvol/permissions", grant, alice)[0] == 200
    pod = web_pod("revpod", volume_mounts={"revvol": {"type": "tapisvolume", "mount_path": "/d"}})
    status, body = call(fair, "POST", "/v3/pods", pod, other)
    assert status == 200, body
    eventually(
        lambda: (
            call(fair, "GET", "/v3/pods/revpod", None, other)[1]["result"]["status"] == "AVAILABLE"
        ),
        90,
        "revpod AVAILABLE",
    )
    status, body = call(
        fair, "DELETE", "/v3/pods/volumes/revvol/permissions/otheruser", None, alice
    )
    assert status == 200, body
    eventually(lambda: not container_running(fair, "revpod"), 20, "revpod's container gone")
    record = call(fair, "GET", "/v3/pods/revpod", None, other)[1]["result"]
    assert record["status_requested"] == "OFF"
    logs = call(fair, "GET", "/v3/pods/revpod/logs", None, other)[1]["result"]["action_logs"]
    assert any(
        "otheruser's permission on volume 'revvol' was revoked by testuser" in line for line in logs
    )
    status, body = call(fair, "GET", "/v3/pods/revpod/start", None, other)
    assert status == 403 and "needs USER permission on volume 'revvol'" in body["message"], body

    # The owner's delete is not blocked forever by someone else's pod: force stops it.
    status, body = call(fair, "DELETE", "/v3/pods/volumes/revvol", None, alice)
    assert status == 400 and "force=true" in body["message"], body
    status, body = call(fair, "DELETE", "/v3/pods/volumes/revvol?force=true", None, alice)
    assert status == 200, body
    delete_pods(fair, other, "revpod")


def test_concurrent_demotions_never_remove_the_last_admin(fair: Stack) -> None:
    alice, other = fair.token(), fair.token("otheruser", "otherpass")
    admin = fair.token("adminuser", "adminpass")
    for round_ in range(12):
        volume_id = f"admins{round_}"
        assert call(fair, "POST", "/v3/pods/volumes", {"volume_id": volume_id}, alice)[0] == 200
        path = f"/v3/pods/volumes/{volume_id}/permissions"
        grant = {"user": "otheruser", "level": "ADMIN"}
        assert call(fair, "POST", path, grant, alice)[0] == 200
        with ThreadPoolExecutor(2) as pool:
            answers = list(
                pool.map(
                    lambda demotion, path=path: call(fair, "POST", path, *demotion),
                    [
                        ({"user": "otheruser", "level": "READ"}, alice),
                        ({"user": "testuser", "level": "READ"}, other),
                    ],
                )
            )
        grants = call(fair, "GET", path, None, admin)[1]["result"]["permissions"]
        assert any(g.endswith(":ADMIN") for g in grants), (round_, answers, grants)
        # One wins; the other is refused as the last ADMIN (400) or, once demoted, as no
        # longer an ADMIN (403).
        assert sorted(status for status, _ in answers) in ([200, 400], [200, 403]), answers
        call(fair, "DELETE", f"/v3/pods/volumes/{volume_id}", None, admin)
