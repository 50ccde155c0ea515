"""Property-based fuzzing of every REST binding (requests_from_protos.py) through the real
gateway: whatever a caller sends, the answer is never a 5xx, and an answer of 4xx leaves the
desired state in the database exactly as it was (nothing half written).

The cases are derandomized (the same ones each run, so CI is stable); set
PODS_FUZZ_EXAMPLES to run more. The figures are printed at the end of the run.
"""

from __future__ import annotations

import collections
import json
import os
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.e2e.harness import Stack, start_stack, stop_stack
from tests.security.requests_from_protos import Binding, Request, bindings, requests
from tests.security.world import send

pytestmark = [pytest.mark.docker, pytest.mark.stack]

BINDINGS = bindings()
TOTAL = int(os.environ.get("PODS_FUZZ_EXAMPLES", "2200"))
PER_BINDING = -(-TOTAL // len(BINDINGS))  # rounded up: the total is at least TOTAL
USERS = "fuzzer:fuzzpass,fuzzadmin:adminpass"
# MiscService's refusals of Tapis-internal calls (Traefik's, Jupyter's) answer 501 by design,
# whatever is sent (README: files into pods ... Tapis compatibility); 401 comes first for the
# Jupyter ones without a token.
ALWAYS_501 = {"GetTraefikConfig", "GetErrorPage", "EnsureJupyterPod", "UploadToJupyter"}

# The desired state, as the API writes it. Left out: what the spawner and health change on
# their own (status, logs, timestamps; RESTART becoming ON once applied), and pods being
# deleted with their grants (their removal is the asynchronous end of an earlier success).
LIVE_POD = (
    "(tenant_id, pod_id) IN (SELECT tenant_id, pod_id FROM pods WHERE NOT deletion_requested)"
)
DESIRED_STATE = {
    "pods": "SELECT tenant_id, pod_id, owner, spec, "
    "CASE status_requested WHEN 'RESTART' THEN 'ON' ELSE status_requested END, "
    "credentials_encrypted IS NOT NULL FROM pods WHERE NOT deletion_requested",
    "pod_permissions": f"SELECT tenant_id, pod_id, username, level FROM pod_permissions "
    f"WHERE {LIVE_POD}",
    "templates": "SELECT tenant_id, template_id, definition, owner FROM templates",
    "image_rules": "SELECT tenant_id, image, description, added_by FROM image_rules",
    "volumes": "SELECT tenant_id, volume_id, owner, description, size_limit_mib FROM volumes",
    "snapshots": "SELECT tenant_id, snapshot_id, owner, description, size_limit_mib, "
    "source_volume_id, source_volume_path FROM snapshots",
    "storage_permissions": "SELECT tenant_id, kind, object_id, username, level "
    "FROM storage_permissions",
}


@pytest.fixture(scope="module")
def fuzz_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    env = {
        "PODS_DEV_USERS": USERS,
        "PODS_ADMIN_USERS": "fuzzadmin",
        "PODS_MIN_TIME_TO_STOP": "300",  # no run ends on its own while the fuzzer looks
    }
    running = start_stack(tmp_path_factory.mktemp("fuzz"), env)
    try:
        yield running
    finally:
        stop_stack(running)


def desired_state(database: Path) -> list[Any]:
    """Every desired-state row, in a stable order."""
    with sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=30) as db:
        return [(table, sorted(db.execute(sql).fetchall())) for table, sql in DESIRED_STATE.items()]


# Objects the fuzzer finds by id. Calls that delete an object get their own (the "x" ones),
# so that the other calls keep finding theirs.
SEED = [
    ("/v3/pods", {"pod_id": "fuzzpod", "image": "pods-http:latest"}),
    ("/v3/pods", {"pod_id": "fuzzpodx", "image": "nosuchimage:1"}),
    ("/v3/pods/volumes", {"volume_id": "fuzzvol", "size_limit": 16}),
    ("/v3/pods/volumes", {"volume_id": "fuzzvolx", "size_limit": 16}),
    ("/v3/pods/snapshots", {"snapshot_id": "fuzzsnap", "source_volume_id": "fuzzvol"}),
    ("/v3/pods/snapshots", {"snapshot_id": "fuzzsnapx", "source_volume_id": "fuzzvol"}),
]
ADMIN_SEED = [
    ("/v3/pods/templates", {"template_id": "fuzztpl", "image": "x:1"}),
    ("/v3/pods/templates", {"template_id": "fuzztplx", "image": "x:1"}),
]


def _seed(stack: Stack, token: str, admin: str) -> None:
    for made, who in ((SEED, token), (ADMIN_SEED, admin)):
        for path, body in made:
            reply = send(stack, "POST", path, who, json.dumps(body).encode())
            assert reply.status == 200, (path, reply.body[:300])


def known_ids(binding: Binding) -> dict[str, list[str]]:
    """Real ids for the binding's path variables."""
    deletes = binding.method == "DELETE" and "{user}" not in binding.template
    suffix = "x" if deletes else ""
    return {
        "pod_id": [f"fuzzpod{suffix}"],
        "volume_id": [f"fuzzvol{suffix}"],
        "snapshot_id": [f"fuzzsnap{suffix}"],
        "template_id": [f"fuzztpl{suffix}"] if deletes else ["fuzztpl", "postgres"],
        "user": ["fuzzer", "someone"],
        "image_id": ["x*"],
        "path": ["a.txt", "dir/b.txt"],
    }


@pytest.fixture(scope="module")
def fuzz(fuzz_stack: Stack) -> tuple[Stack, dict[str, str | None]]:
    """The seeded stack and the callers' tokens."""
    token = fuzz_stack.token("fuzzer", "fuzzpass")
    admin = fuzz_stack.token("fuzzadmin", "adminpass")
    _seed(fuzz_stack, token, admin)
    return fuzz_stack, {"user": token, "admin": admin}


def test_the_fuzzer_sends_at_least_2000_requests() -> None:
    assert len(BINDINGS) * PER_BINDING >= min(TOTAL, 2000)


@pytest.mark.parametrize("binding", BINDINGS, ids=str)
def test_no_request_gets_a_5xx_and_a_4xx_writes_nothing(
    fuzz: tuple[Stack, dict[str, str | None]], binding: Binding
) -> None:
    stack, tokens = fuzz
    database = stack.data_dir / "pods.db"
    statuses: collections.Counter[int] = collections.Counter()
    callers = [tokens["user"], tokens["user"], tokens["user"], tokens["admin"], None]

    @settings(
        max_examples=PER_BINDING,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(request=requests(binding, known_ids(binding)), caller=st.sampled_from(callers))
    def one_request(request: Request, caller: str | None) -> None:
        before = desired_state(database)
        reply = send(
            stack, request.method, request.path, caller, request.body, request.content_type
        )
        statuses[reply.status] += 1
        refused = binding.rpc in ALWAYS_501 and reply.status == 501
        assert reply.status < 500 or refused, (
            f"{request.method} {request.path[:200]} body={request.body!r:.300}"
            f" → {reply.status} {reply.body[:300]!r}"
        )
        if 400 <= reply.status < 500:
            assert desired_state(database) == before, (
                f"{request.method} {request.path[:200]} answered {reply.status} but wrote"
            )

    one_request()
    print(
        f"{binding}: {sum(statuses.values())} requests, statuses {dict(sorted(statuses.items()))}"
    )
    assert sum(statuses.values()) >= PER_BINDING
