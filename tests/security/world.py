"""The objects the permission matrix acts on, made through the real gateway: a pod (its image
does not exist, so no container is needed), a pod with a running container (for exec), a
template, a volume holding a secret file, a snapshot of it, and an image allow-list entry.
Each is shared READ / USER / ADMIN with the matching principals, and each carries a secret
marker (in its description or contents) that no denial may reveal."""

from __future__ import annotations

import itertools
import json
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass, field
from typing import Any

from tests.e2e.harness import Stack, eventually
from tests.security.calls import DUMMY, Kind
from tests.security.principals import GRANTED, Principal, Standing

MARKER = f"secret-{uuid.uuid4().hex}"
IMAGE = "nosuchimage:1"  # pods of the matrix need no container: the suite's stack runs the
# postgres template (which gives pods credentials) with this image
RUNNING_IMAGE = "pods-http:latest"


@dataclass(frozen=True)
class Reply:
    """An HTTP answer of the gateway."""

    status: int
    content_type: str
    body: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def message(self) -> str:
        try:
            return str(self.json.get("message", ""))
        except ValueError:
            return self.body.decode(errors="replace")


def send(
    stack: Stack,
    method: str,
    path: str,
    token: str | None,
    body: bytes | None = None,
    content_type: str = "application/json",
    stream: bool = False,
) -> Reply:
    """The gateway's answer; of a `stream` (Server-Sent Events), only its first event."""
    headers = {"Content-Type": content_type}
    if token is not None:
        headers["X-Tapis-Token"] = token
    request = urllib.request.Request(stack.url + path, data=body, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            kind = response.headers.get("content-type", "")
            if stream and response.status == 200:
                return Reply(response.status, kind, _first_event(response))
            return Reply(response.status, kind, response.read())
    except urllib.error.HTTPError as error:
        with error:
            return Reply(error.code, error.headers.get("content-type", ""), error.read())


def _first_event(response: Any) -> bytes:
    """The lines of a Server-Sent Events body up to its first blank line (or its end)."""
    lines = []
    while (line := response.readline()) not in (b"", b"\n"):
        lines.append(line)
    return b"".join(lines)


@dataclass
class World:
    """The stack, its principals and the shared objects of each kind."""

    stack: Stack
    who: dict[Standing, Principal]
    shared: dict[Kind, str] = field(default_factory=dict)
    _counter: itertools.count[int] = field(default_factory=itertools.count)

    def token(self, standing: Standing) -> str:
        token = self.who[standing].token
        assert token is not None
        return token

    def call(self, standing: Standing, method: str, path: str, body: Any = None) -> Reply:
        """A JSON call that must succeed."""
        raw = None if body is None else json.dumps(body).encode()
        reply = send(self.stack, method, path, self.token(standing), raw)
        assert reply.status == 200, (method, path, reply.status, reply.body[:300])
        return reply

    def fresh_id(self) -> str:
        return f"sec{uuid.uuid4().hex[:6]}{next(self._counter)}"

    # -- making objects -------------------------------------------------------------------

    def make(self, kind: Kind) -> str:
        """A new object of `kind`, shared with the principals; returns its id."""
        object_id = self.fresh_id()
        if kind is Kind.IMAGE_RULE:
            object_id += "*"
            self.call(Standing.TENANT_ADMIN, "POST", "/v3/pods/images", {"image": object_id})
            return object_id
        body: dict[str, object]
        if kind in (Kind.POD, Kind.EXEC_POD):
            source = {"image": RUNNING_IMAGE} if kind is Kind.EXEC_POD else {"template": "postgres"}
            body = {"pod_id": object_id, "description": MARKER, **source}
            self.call(Standing.OWNER, "POST", "/v3/pods", body)
        elif kind is Kind.TEMPLATE:
            body = {"template_id": object_id, "image": RUNNING_IMAGE, "description": MARKER}
            self.call(Standing.TENANT_ADMIN, "POST", "/v3/pods/templates", body)
            self.grant(kind, object_id, self.who[Standing.OWNER].username, "ADMIN")
            tag = {"pod_definition": {"description": MARKER}, "commit_message": "first"}
            self.call(Standing.TENANT_ADMIN, "POST", f"/v3/pods/templates/{object_id}/tags", tag)
        elif kind is Kind.VOLUME:
            body = {"volume_id": object_id, "description": MARKER, "size_limit": 16}
            self.call(Standing.OWNER, "POST", "/v3/pods/volumes", body)
            reply = send(
                self.stack,
                "POST",
                f"/v3/pods/volumes/{object_id}/upload/secret.txt",
                self.token(Standing.OWNER),
                MARKER.encode(),
                "application/octet-stream",
            )
            assert reply.status == 200, reply.body[:300]
        elif kind is Kind.SNAPSHOT:
            body = {
                "snapshot_id": object_id,
                "source_volume_id": self.shared[Kind.VOLUME],
                "source_volume_path": "/",
                "description": MARKER,
            }
            self.call(Standing.OWNER, "POST", "/v3/pods/snapshots", body)
        for standing, level in GRANTED.items():
            self.grant(kind, object_id, self.who[standing].username, level)
        return object_id

    def grant(self, kind: Kind, object_id: str, user: str, level: str) -> None:
        admin = Standing.TENANT_ADMIN if kind is Kind.TEMPLATE else Standing.OWNER
        body = {"user": user, "level": level}
        self.call(admin, "POST", f"{collection(kind)}/{object_id}/permissions", body)

    def grant_dummy(self, kind: Kind, object_id: str) -> None:
        self.grant(kind, object_id, DUMMY, "READ")

    def wait_running(self, pod_id: str) -> None:
        def available() -> bool:
            reply = send(self.stack, "GET", f"/v3/pods/{pod_id}", self.token(Standing.OWNER))
            return bool(reply.status == 200 and reply.json["result"]["status"] == "AVAILABLE")

        eventually(available, timeout=90, what=f"pod {pod_id} AVAILABLE")

    # -- what a denial must leave unchanged -------------------------------------------------

    def fingerprint(self, kind: Kind, object_id: str) -> Any:
        """What the owner sees of the object; a denied call must not change it."""
        if kind is Kind.TENANT:
            return None
        if kind is Kind.IMAGE_RULE:
            rules = self.call(Standing.TENANT_ADMIN, "GET", "/v3/pods/images").json["result"]
            return sorted(r["image"] for r in rules)
        admin = Standing.TENANT_ADMIN
        base = f"{collection(kind)}/{object_id}"
        item = self.call(admin, "GET", base).json["result"]
        kept = {
            k: item.get(k)
            for k in (
                "description",
                "image",
                "status_requested",
                "generation",
                "time_to_stop_default",
                "size_limit",
            )
        }
        permissions = self.call(admin, "GET", f"{base}/permissions").json["result"]
        files = None
        if kind in (Kind.VOLUME, Kind.SNAPSHOT):
            files = self.call(admin, "GET", f"{base}/list").json["result"]
        return kept, permissions, files


def collection(kind: Kind) -> str:
    return {
        Kind.POD: "/v3/pods",
        Kind.EXEC_POD: "/v3/pods",
        Kind.TEMPLATE: "/v3/pods/templates",
        Kind.VOLUME: "/v3/pods/volumes",
        Kind.SNAPSHOT: "/v3/pods/snapshots",
        Kind.IMAGE_RULE: "/v3/pods/images",
    }[kind]
