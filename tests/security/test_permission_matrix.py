"""The permission matrix: every public call (calls.py) made by every kind of caller
(principals.py) through the real gateway gets exactly the allowed answer.

- No token, an expired, forged or refresh token, or one of an issuer not configured: 401,
  whatever the call.
- On an object: the owner, an ADMIN sharee and a tenant admin succeed; READ and USER sharees
  succeed where their level suffices and get 403 otherwise; a stranger gets 404, worded like
  the answer for an object that does not exist.
- Tenant-wide changes (the image allow-list, quotas): tenant admins only (403 for others).
- A denial reveals nothing (no description, file contents or credentials in its body) and
  changes nothing (the object, its grants and its files are as before; nothing is created).
"""

from __future__ import annotations

import pytest

from tests.e2e.harness import eventually
from tests.security.calls import CALLS, Call, Kind, Needs
from tests.security.principals import UNAUTHENTICATED, Standing
from tests.security.requests_from_protos import SERVICES
from tests.security.world import MARKER, World, collection, send

pytestmark = [pytest.mark.docker, pytest.mark.stack]

LEVEL_OF = {Standing.READ: Needs.READ, Standing.USER: Needs.USER}
FULL = (Standing.OWNER, Standing.ADMIN, Standing.TENANT_ADMIN)
# Calls of the services that are not in the matrix, and why.
NOT_IN_MATRIX = {
    "pods.v1.IdentityService.CreateToken": "password login; tested in tests/e2e (tokens) with wrong and right passwords",
    # Refused with 501 for everyone (401 first for the Jupyter calls without a token); the
    # contract test (tests/contract/test_tapipy_spec_contract.py) checks the refusals.
    "pods.v1.MiscService.GetTraefikConfig": "Tapis-internal (Traefik); always 501",
    "pods.v1.MiscService.GetErrorPage": "Tapis-internal (Traefik); always 501",
    "pods.v1.MiscService.EnsureJupyterPod": "no Jupyter integration; always 501",
    "pods.v1.MiscService.UploadToJupyter": "no Jupyter integration; always 501",
    "pods.v1.PodAuthService.GetPodAuthCallback": "never succeeds (the login callback is on the pod's host); tested in tests/e2e/test_pod_login.py",
    "pods.v1.PodsService.ExecPod": "deprecated gRPC-only twin of ExecPodCommands (no REST path): the same domain call and authorization; tested in tests/e2e/test_exec_shapes.py",
}


def expected_status(call: Call, standing: Standing) -> int:
    """The one HTTP status `standing` must get for `call`."""
    if call.needs is Needs.PUBLIC:
        return 200
    if standing in UNAUTHENTICATED:
        return 401
    if call.needs is Needs.ANY:
        return 200
    if call.needs is Needs.TENANT_ADMIN:
        return 200 if standing is Standing.TENANT_ADMIN else 403
    if standing in FULL:
        return 200
    if standing is Standing.STRANGER:
        return 404
    return 200 if call.needs.value <= LEVEL_OF[standing].value else 403


def _fill(text: str, object_id: str, fresh: str, me: str = "") -> str:
    filled = text.replace("{id}", object_id).replace("{fresh}", fresh)
    return filled.replace("{me}", me or "secowner")


def _target(world: World, call: Call, succeeds: bool) -> str:
    """The object the call acts on: a fresh one when a success would remove it."""
    if call.kind is Kind.TENANT:
        return ""
    if call.consumes and succeeds:
        return world.make(call.kind)
    return world.shared[call.kind]


def _send(world: World, call: Call, standing: Standing, object_id: str, fresh: str):  # type: ignore[no-untyped-def]
    body = None if call.body is None else _fill(call.body, object_id, fresh).encode()
    return send(
        world.stack,
        call.method,
        _fill(call.path, object_id, fresh, world.who[standing].username).replace(
            "{pod}", world.shared[Kind.POD]
        ),
        world.who[standing].token,
        body,
        call.content_type,
        call.stream,
    )


def _exists(world: World, call: Call, fresh: str) -> bool:
    """Whether the object a create call would have made exists (seen by a tenant admin)."""
    if call.creates == "/v3/pods/images":
        return f"{fresh}*" in world.fingerprint(Kind.IMAGE_RULE, "")
    reply = send(world.stack, "GET", f"{call.creates}/{fresh}", world.token(Standing.TENANT_ADMIN))
    return reply.status == 200


def _remove_created(world: World, call: Call, fresh: str) -> None:
    name = f"{fresh}*" if call.creates == "/v3/pods/images" else fresh
    world.call(Standing.TENANT_ADMIN, "DELETE", f"{call.creates}/{name}")


@pytest.mark.parametrize("standing", list(Standing), ids=lambda s: s.value)
@pytest.mark.parametrize("call", CALLS, ids=str)
def test_each_caller_gets_exactly_the_allowed_answer(
    world: World, call: Call, standing: Standing
) -> None:
    expected = expected_status(call, standing)
    object_id = _target(world, call, expected == 200)
    if call.grants_dummy:
        world.grant_dummy(call.kind, object_id)
    before = world.fingerprint(call.kind, object_id)
    fresh = world.fresh_id()

    reply = _send(world, call, standing, object_id, fresh)

    assert reply.status == expected, (
        f"{call} as {standing.value}: expected {expected}, got {reply.status}: {reply.message}"
    )
    if expected == 200:
        if call.rpc.endswith(".RestartPod"):
            # A restart ends by itself (status_requested back to ON): wait for it, or a
            # later denied call would see the object change under it.
            eventually(
                lambda: world.fingerprint(call.kind, object_id)[0]["status_requested"] != "RESTART",
                timeout=60,
                what="the restart done",
            )
        if call.creates:
            assert _exists(world, call, fresh)
            _remove_created(world, call, fresh)
        if call.consumes and call.kind is not Kind.IMAGE_RULE:
            path = f"{collection(call.kind)}/{object_id}"
            token = world.token(Standing.TENANT_ADMIN)
            eventually(
                lambda: send(world.stack, "GET", path, token).status == 404,
                timeout=60,
                what=f"{path} removed",
            )
        return
    assert reply.content_type == "application/json", reply.body[:200]
    assert reply.message, "a denial says why"
    assert MARKER not in reply.body.decode(errors="replace"), "a denial leaked the object"
    assert world.fingerprint(call.kind, object_id) == before, "a denied call changed the object"
    if call.creates:
        assert not _exists(world, call, fresh), "a denied create made the object"
    if expected == 404:
        missing = world.fresh_id()
        other = _send(world, call, standing, missing, world.fresh_id())
        assert other.status == 404
        assert reply.message.replace(object_id, "<id>") == other.message.replace(missing, "<id>"), (
            "a stranger can tell an existing object from a missing one"
        )


LISTS = [
    ("/v3/pods", Kind.POD, "pod_id"),
    ("/v3/pods/volumes", Kind.VOLUME, "volume_id"),
    ("/v3/pods/snapshots", Kind.SNAPSHOT, "snapshot_id"),
    ("/v3/pods/templates", Kind.TEMPLATE, "template_id"),
]


@pytest.mark.parametrize(("path", "kind", "id_field"), LISTS, ids=[p for p, _, _ in LISTS])
def test_lists_show_shared_objects_and_hide_the_others(
    world: World, path: str, kind: Kind, id_field: str
) -> None:
    def listed(standing: Standing) -> tuple[set[str], str]:
        reply = send(world.stack, "GET", path, world.token(standing))
        assert reply.status == 200
        return {item[id_field] for item in reply.json["result"]}, reply.body.decode()

    seen_by_reader, _ = listed(Standing.READ)
    seen_by_stranger, stranger_body = listed(Standing.STRANGER)
    assert world.shared[kind] in seen_by_reader
    assert world.shared[kind] not in seen_by_stranger
    assert MARKER not in stranger_body


def test_every_rpc_of_the_public_services_is_in_the_matrix() -> None:
    """Every RPC of every service the gateway serves (gateway.public_api.PUBLIC_SERVICES)
    has a row, by full name; and every row names an RPC that exists."""
    methods = {m.full_name for service in SERVICES for m in service.methods}
    covered = {call.rpc for call in CALLS}
    missing = methods - covered - set(NOT_IN_MATRIX)
    assert not missing, f"RPCs without a row in tests/security/calls.py: {sorted(missing)}"
    assert covered <= methods, f"rows of no public RPC: {sorted(covered - methods)}"
