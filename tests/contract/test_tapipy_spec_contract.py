"""The REST contract with tapipy: for every operation of tapipy's bundled pods spec
(tapipy/resources/openapi_v3-pods.yml, the paths tapipy 25.4.0 calls), a request through the
real stack reaches a handler of this service: never the gateway's "Could not resolve"
(no binding) nor a gRPC "method not implemented". A successful JSON answer has the Tapis
envelope and a `result` of the type the spec gives it (object, list or string), with the
fields the spec marks required; the read calls on real objects must succeed, so those
shapes are checked, not skipped.

The calls are made as the tenant admin, on a world of real objects (a running pod, a volume
with files, its snapshot, a template, an image rule); calls that would remove or stop them
name objects that do not exist instead (answered 404 by the API, worded as such).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
import requests
import tapipy
import yaml

from tests.e2e.harness import Stack, eventually

pytestmark = [pytest.mark.docker, pytest.mark.stack]

SPEC_PATH = Path(tapipy.__file__).parent / "resources" / "openapi_v3-pods.yml"
SPEC: dict[str, Any] = yaml.safe_load(SPEC_PATH.read_text())
HTTP_METHODS = ("get", "post", "put", "delete")

# Tapis-internal calls answered with a documented refusal (MiscService: HTTP 501 saying
# "not part of this service"); see the README's compatibility section.
REFUSED = {"traefik_config", "error_handler", "ensure_jupyter_pod", "upload_to_jupyter"}
# Calls that would stop or remove the world's objects: they name objects that do not exist.
ON_MISSING_OBJECTS = {"stop_pod", "start_pod", "restart_pod"}
# Reads of the world's objects: these must succeed (so their shapes are checked).
MUST_SUCCEED = {
    "healthcheck",
    "list_pods",
    "get_pod",
    "get_pod_logs",
    "get_pod_permissions",
    "exec_pod_commands",
    "upload_to_pod",
    "list_templates",
    "get_template",
    "get_template_permissions",
    "list_templates_and_tags",
    "list_template_tags",
    "get_template_tag",
    "get_images",
    "get_image",
    "list_volumes",
    "get_volume",
    "list_volume_files",
    "get_volume_contents",
    "upload_to_volume",
    "get_volume_permissions",
    "list_snapshots",
    "get_snapshot",
    "list_snapshot_files",
    "get_snapshot_contents",
    "get_snapshot_permissions",
}


@dataclass(frozen=True)
class Operation:
    op_id: str
    method: str
    path: str
    spec: dict[str, Any]

    def __str__(self) -> str:
        return self.op_id


def operations() -> list[Operation]:
    return [
        Operation(str(desc["operationId"]), method.upper(), path, desc)
        for path, methods in SPEC["paths"].items()
        for method, desc in methods.items()
        if method in HTTP_METHODS
    ]


@dataclass
class World:
    """Real objects the calls act on, and the tenant admin's token."""

    stack: Stack
    token: str
    pod_id: str
    volume_id: str
    snapshot_id: str
    template_id: str
    image: str
    missing: str  # an id nothing has

    def call(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        headers = {"X-Tapis-Token": self.token, **kwargs.pop("headers", {})}
        verify: Any = str(self.stack.ca) if self.stack.url.startswith("https") else True
        return requests.request(
            method, self.stack.url + path, headers=headers, timeout=60, verify=verify, **kwargs
        )


def _ok(response: requests.Response, what: str) -> dict[str, Any]:
    assert response.status_code == 200, (what, response.status_code, response.text[:300])
    body: dict[str, Any] = response.json()
    return body


@pytest.fixture(scope="module")
def world(stack: Stack) -> Iterator[World]:
    suffix = uuid.uuid4().hex[:6]
    owner = World(
        stack, stack.token(), f"cpod{suffix}", f"cvol{suffix}", f"csnap{suffix}", "", "", ""
    )
    _ok(
        owner.call("POST", "/v3/pods", json={"pod_id": owner.pod_id, "image": "pods-http:latest"}),
        "pod",
    )
    _ok(owner.call("POST", "/v3/pods/volumes", json={"volume_id": owner.volume_id}), "volume")
    for name in ("f.txt", "d/g.txt"):
        upload = owner.call(
            "POST",
            f"/v3/pods/volumes/{owner.volume_id}/upload/{name}",
            data=b"contract",
            headers={"Content-Type": "application/octet-stream"},
        )
        _ok(upload, name)
    snapshot = {"snapshot_id": owner.snapshot_id, "source_volume_id": owner.volume_id}
    _ok(owner.call("POST", "/v3/pods/snapshots", json=snapshot), "snapshot")
    admin = World(**{**owner.__dict__, "token": stack.token("adminuser", "adminpass")})
    # A template of the world's own, with a `latest` tag, so the tag calls have one to read.
    admin.template_id = f"ctpl{suffix}"
    template = {"template_id": admin.template_id, "image": "pods-http:latest"}
    _ok(admin.call("POST", "/v3/pods/templates", json=template), "template")
    tag = {
        "tag": "latest",
        "commit_message": "contract",
        "pod_definition": {"image": "pods-http:latest"},
    }
    _ok(admin.call("POST", f"/v3/pods/templates/{admin.template_id}/tags", json=tag), "tag")
    admin.image = f"contract{suffix}/*"
    _ok(admin.call("POST", "/v3/pods/images", json={"image": admin.image}), "image rule")
    admin.missing = f"nosuch{suffix}"
    eventually(
        lambda: (
            admin.call("GET", f"/v3/pods/{admin.pod_id}").json()["result"]["status"] == "AVAILABLE"
        ),
        what="the contract pod AVAILABLE",
    )
    try:
        yield admin
    finally:
        admin.call("DELETE", f"/v3/pods/{admin.pod_id}")
        admin.call("DELETE", f"/v3/pods/templates/{admin.template_id}")
        admin.call("DELETE", f"/v3/pods/images/{quote(admin.image, safe='')}")
        admin.call("DELETE", f"/v3/pods/snapshots/{admin.snapshot_id}")
        eventually(
            lambda: (
                admin.call("DELETE", f"/v3/pods/volumes/{admin.volume_id}").status_code
                in (200, 404)
            ),
            timeout=60,
            what="the contract volume deleted",
        )


def _path_values(world: World, operation: Operation) -> dict[str, str]:
    missing = operation.method == "DELETE" or operation.op_id in ON_MISSING_OBJECTS
    pod = world.missing if missing else world.pod_id
    return {
        "pod_id": pod,
        "pod_id_net": pod,
        "volume_id": world.missing if missing else world.volume_id,
        "snapshot_id": world.missing if missing else world.snapshot_id,
        "template_id": world.missing if missing else world.template_id,
        "tag_id": "latest",
        "image_id": quote(world.missing if missing else world.image, safe=""),
        "path": "f.txt",
        "user": "nosuchuser",
        "status": "404",
    }


SPECIAL_BODIES: dict[str, Any] = {
    "exec_pod_commands": {"commands": ["true"]},
    "set_pod_permission": {"user": "nosuchuser", "level": "READ"},
    "set_template_permission": {"user": "nosuchuser", "level": "READ"},
    "set_volume_permission": {"user": "nosuchuser", "level": "READ"},
    "set_snapshot_permission": {"user": "nosuchuser", "level": "READ"},
    "add_images": [{"image": "Not A Valid Image!"}],
}
MULTIPART_VALUES = {"dest_path": "/tmp/contract.txt", "path": "/tmp/contract.txt"}


def _request_kwargs(operation: Operation) -> dict[str, Any]:
    """A body for the operation: known-good where the call must succeed, else the spec's
    required fields with values no validation accepts (so nothing is created)."""
    content = (operation.spec.get("requestBody") or {}).get("content") or {}
    if operation.op_id in SPECIAL_BODIES:
        return {"json": SPECIAL_BODIES[operation.op_id]}
    if "multipart/form-data" in content:
        schema = _resolve(content["multipart/form-data"]["schema"])
        files = {
            name: ("contract.txt", b"contract")
            if prop.get("format") == "binary"
            else (None, MULTIPART_VALUES.get(name, "contract"))
            for name, prop in schema.get("properties", {}).items()
        }
        return {"files": files}
    if "application/json" in content:
        schema = _resolve(content["application/json"]["schema"])
        required = schema.get("required", [])
        return {"json": {name: "Not A Valid Id!" for name in required}}
    return {}


def _resolve(schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        schema = SPEC["components"]["schemas"][name]
    if "anyOf" in schema:
        return _resolve(schema["anyOf"][0])
    return schema


def _result_schema(operation: Operation) -> dict[str, Any] | None:
    """The schema of `result` in the operation's 200 answer, when the spec gives one."""
    answer = operation.spec.get("responses", {}).get("200", {})
    schema = ((answer.get("content") or {}).get("application/json") or {}).get("schema")
    if not schema:
        return None
    envelope = _resolve(schema)
    result = envelope.get("properties", {}).get("result")
    return _resolve(result) if result else None


def _assert_shape(value: Any, schema: dict[str, Any], where: str) -> None:
    kind = schema.get("type")
    if kind == "array":
        assert isinstance(value, list), (where, value)
        for item in value[:3]:
            _assert_shape(item, _resolve(schema.get("items", {})), where + "[]")
    elif kind == "object" or "properties" in schema:
        assert isinstance(value, dict), (where, value)
        missing = [name for name in schema.get("required", []) if name not in value]
        assert not missing, f"{where}: required fields missing: {missing}"
    elif kind == "string":
        assert isinstance(value, str), (where, value)


def _not_routed(response: requests.Response, on_real_objects: bool) -> str:
    """Why the answer is not one of this service's handlers for the call ("" when it is).
    A 404 to a call naming only real objects means another call answered it (say
    `GET templates/tags` taken for the template "tags")."""
    text = response.text
    if response.status_code == 404 and on_real_objects:
        return "a 404 though every object it names exists: another call answered it"
    if response.status_code == 404 and ("Could not resolve" in text or "No such service" in text):
        return "the gateway has no binding for it"
    if response.status_code == 501 and "not part of this service" not in text:
        return "no handler implements it"
    if response.status_code in (404, 405) and "application/json" not in response.headers.get(
        "content-type", ""
    ):
        return "not answered by the API"
    return ""


@pytest.mark.parametrize("operation", operations(), ids=str)
def test_every_tapipy_operation_is_answered(world: World, operation: Operation) -> None:
    path = "/v3" + operation.path.format(**_path_values(world, operation))
    response = world.call(operation.method, path, **_request_kwargs(operation))

    on_real_objects = not (operation.method == "DELETE" or operation.op_id in ON_MISSING_OBJECTS)
    why = _not_routed(response, on_real_objects)
    assert not why, (
        f"{operation.method} {path}: {why} ({response.status_code} {response.text[:200]})"
    )
    if operation.op_id in REFUSED:
        assert response.status_code == 501, response.text[:200]
        assert "not part of this service" in response.json()["message"]
        return
    if operation.op_id in MUST_SUCCEED:
        assert response.status_code == 200, (response.status_code, response.text[:300])
    if response.status_code != 200 or response.headers["content-type"] != "application/json":
        return
    body = response.json()
    assert {"result", "status", "message", "version", "metadata"} <= set(body), body
    schema = _result_schema(operation)
    if schema is not None:
        _assert_shape(body["result"], schema, f"{operation.op_id}.result")


def test_the_spec_is_tapipys_own_and_complete() -> None:
    """The operations this test walks are the 62 of tapipy 25.4.0's pods spec (v1.9.0)."""
    assert SPEC["info"]["version"] == "1.9.0", SPEC["info"]
    ops = operations()
    assert len(ops) == 62
    assert {o.op_id for o in ops} >= REFUSED | MUST_SUCCEED
