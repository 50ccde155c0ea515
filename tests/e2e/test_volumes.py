"""Volumes and snapshots end to end on real Docker, through the real tapipy client (it can
make every call, uploads included) and raw REST or native gRPC where a test needs the bytes
on the wire: files in and out, pods mounting volumes and snapshots, data surviving a
restart, snapshots as copies, confinement of paths, and a permissions matrix."""

from __future__ import annotations

import base64
import functools
import io
import json
import urllib.error
import urllib.request
import zipfile
from collections.abc import Callable
from typing import Any

import pytest
from tapipy.errors import BaseTapyException
from tapipy.tapis import Tapis

from tests.e2e.conftest import Cleanup, Unique
from tests.e2e.harness import Stack, eventually
from tests.e2e.refusals import refusal

pytestmark = [pytest.mark.docker, pytest.mark.stack]

MIB = 1024 * 1024


def client(stack: Stack, user: str = "testuser", password: str = "testpass") -> Tapis:
    t = Tapis(base_url=stack.url, username=user, password=password)
    t.get_tokens()
    return t


def http(
    stack: Stack,
    method: str,
    path: str,
    body: bytes | None = None,
    token: str | None = None,
    content_type: str = "application/json",
) -> tuple[int, str, bytes]:
    """(status, content type, raw body) of a REST call to the gateway."""
    headers = {"Content-Type": content_type, "X-Tapis-Token": token or stack.token()}
    request = urllib.request.Request(stack.url + path, data=body, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, response.headers.get("content-type", ""), response.read()
    except urllib.error.HTTPError as error:
        with error:
            return error.code, error.headers.get("content-type", ""), error.read()


def status_of(call: Callable[[], Any]) -> int:
    """200, or the HTTP status tapipy raised for."""
    try:
        call()
    except BaseTapyException as error:
        assert error.response is not None, error
        return int(error.response.status_code)
    return 200


def available(t: Tapis, pod_id: str) -> bool:
    return bool(t.pods.get_pod(pod_id=pod_id).status == "AVAILABLE")


def run(t: Tapis, pod_id: str, *commands: str | list[str]) -> list[Any]:
    """Runs each command ("cat /data/y", split on spaces, or an argv) in the pod; their
    results."""
    argvs = [command.split() if isinstance(command, str) else command for command in commands]
    ran = t.pods.exec_pod_commands(pod_id=pod_id, commands=argvs, fail_on_non_success=False)
    return list(ran.execution_results)


def delete_pod_and_wait(t: Tapis, stack: Stack, pod_id: str) -> None:
    t.pods.delete_pod(pod_id=pod_id)
    eventually(lambda: not stack.containers(pod_id), 60, f"{pod_id}'s container gone")
    eventually(lambda: status_of(lambda: t.pods.get_pod(pod_id=pod_id)) == 404, 60, "pod gone")


# -- files in and out ----------------------------------------------------------------------


def test_files_go_in_and_out_through_tapipy_and_rest(
    stack: Stack, unique: Unique, cleanup: Cleanup
) -> None:
    files1 = cleanup.volume(unique("files1"))

    t = client(stack)
    created = t.pods.create_volume(volume_id=files1, description="e2e files", size_limit=1)
    assert (created.volume_id, created.size_limit, created.status) == (files1, 1, "AVAILABLE")

    # tapipy's upload_to_volume sends multipart/form-data: the gateway passes it through raw.
    assert t.pods.upload_to_volume(volume_id=files1, path="dir/hello.txt", file=b"hi\0\r\n") == (
        "dir/hello.txt"
    )
    binary = bytes(range(256))
    status, _, _ = http(
        stack,
        "POST",
        f"/v3/pods/volumes/{files1}/upload/raw.bin",
        binary,
        None,
        "application/octet-stream",
    )
    assert status == 200
    encoded = json.dumps({"content": base64.b64encode(b"from json").decode()}).encode()
    assert http(stack, "POST", f"/v3/pods/volumes/{files1}/upload/b64.txt", encoded)[0] == 200

    listed = t.pods.list_volume_files(volume_id=files1)
    assert [(f.path, f.type) for f in listed] == [
        ("b64.txt", "file"),
        ("dir", "dir"),
        ("raw.bin", "file"),
    ]
    everything = t.pods.list_volume_files(
        volume_id=files1, _tapis_query_parameters={"recursive": "true"}
    )
    hello = next(f for f in everything if f.path == "dir/hello.txt")
    assert (hello.name, int(hello.size)) == ("hello.txt", 5)
    assert hello.lastModified.endswith("Z")

    # Downloads are raw bytes (application/octet-stream); tapipy returns them as they are.
    assert t.pods.get_volume_contents(volume_id=files1, path="dir/hello.txt") == b"hi\0\r\n"
    status, content_type, body = http(stack, "GET", f"/v3/pods/volumes/{files1}/contents/raw.bin")
    assert (status, content_type, body) == (200, "application/octet-stream", binary)
    assert t.pods.get_volume_contents(volume_id=files1, path="b64.txt") == b"from json"

    volume = t.pods.get_volume(volume_id=files1)
    assert (volume.size, volume.size_limit, volume.description) == (1, 1, "e2e files")
    assert files1 in [v.volume_id for v in t.pods.list_volumes()]

    # Failures say what is wrong, with the status tapipy maps to its errors.
    too_big = b"x" * (MIB + 1)
    status, _, body = http(
        stack, "POST", f"/v3/pods/volumes/{files1}/upload/big.bin", too_big, None, "text/plain"
    )
    assert status == 400 and b"size limit" in body
    assert status_of(lambda: t.pods.get_volume_contents(volume_id=files1, path="nope")) == 404
    refusal(lambda: t.pods.get_volume_contents(volume_id=files1, path="dir"), 400, "is a directory")
    zipped = t.pods.get_volume_contents(volume_id=files1, path="dir", zip=True)
    with zipfile.ZipFile(io.BytesIO(zipped)) as archive:  # tests/e2e/test_tapis_files.py: more
        assert archive.read("dir/hello.txt") == b"hi\0\r\n"
    refusal(
        lambda: t.pods.update_volume(volume_id=files1, size_limit=2),
        400,
        "size_limit",
        "cannot be changed",
    )
    t.pods.update_volume(volume_id=files1, description="renamed")
    assert t.pods.get_volume(volume_id=files1).description == "renamed"
    refusal(
        lambda: t.pods.create_volume(volume_id=files1),
        409,
        f"volume_id '{files1}' already exists",
    )

    t.pods.delete_volume(volume_id=files1)
    assert status_of(lambda: t.pods.get_volume(volume_id=files1)) == 404
    assert files1 not in [v.volume_id for v in t.pods.list_volumes()]


# -- pods mounting volumes and snapshots -----------------------------------------------------


def test_a_pod_sees_its_volume_and_what_it_writes_survives_a_restart(
    stack: Stack, unique: Unique, cleanup: Cleanup
) -> None:
    podvol = cleanup.volume(unique("podvol"))
    podsnap = cleanup.snapshot(unique("podsnap"))
    volpod = cleanup.pod(unique("volpod"))

    t = client(stack)
    t.pods.create_volume(volume_id=podvol)
    t.pods.upload_to_volume(volume_id=podvol, path="x", file=b"from the api\n")
    t.pods.create_snapshot(snapshot_id=podsnap, source_volume_id=podvol, source_volume_path="/")
    t.pods.create_pod(
        pod_id=volpod,
        image="pods-http:latest",
        volume_mounts={
            podvol: {"type": "tapisvolume", "mount_path": "/data"},
            podsnap: {"type": "tapissnapshot", "mount_path": "/snap"},
        },
    )
    eventually(lambda: available(t, volpod), 60, f"{volpod} AVAILABLE")
    pod = t.pods.get_pod(pod_id=volpod)
    assert getattr(pod.volume_mounts, podsnap).read_only is True
    cat, snap, touch, write = run(
        t,
        volpod,
        "cat /data/x",
        "cat /snap/x",
        "touch /snap/y",
        ["sh", "-c", "echo written by the pod > /data/y"],
    )
    assert (cat.exit_code, cat.stdout) == (0, "from the api\n")
    assert snap.stdout == "from the api\n"
    assert touch.exit_code != 0 and "Read-only" in touch.stderr
    assert write.exit_code == 0

    first = stack.containers(volpod)[0].id
    t.pods.restart_pod(pod_id=volpod)
    eventually(
        lambda: [c.id for c in stack.containers(volpod)] not in ([], [first]), 60, "a new one"
    )
    eventually(lambda: available(t, volpod), 60, f"{volpod} AVAILABLE again")
    (again,) = run(t, volpod, "cat /data/y")
    assert again.stdout == "written by the pod\n"
    assert t.pods.get_volume_contents(volume_id=podvol, path="y") == b"written by the pod\n"

    # Deleting what a pod mounts is refused (400, not 409) and names the pod.
    refusal(lambda: t.pods.delete_volume(volume_id=podvol), 400, f"mounted by pod '{volpod}'")
    refusal(lambda: t.pods.delete_snapshot(snapshot_id=podsnap), 400, f"mounted by pod '{volpod}'")
    delete_pod_and_wait(t, stack, volpod)
    t.pods.delete_volume(volume_id=podvol)
    t.pods.delete_snapshot(snapshot_id=podsnap)


def test_a_snapshot_holds_the_source_as_it_was_when_taken(
    stack: Stack, unique: Unique, cleanup: Cleanup
) -> None:
    snapsrc = cleanup.volume(unique("snapsrc"))
    snapall = cleanup.snapshot(unique("snapall"))
    snapdir = cleanup.snapshot(unique("snapdir"))

    t = client(stack)
    t.pods.create_volume(volume_id=snapsrc)
    t.pods.upload_to_volume(volume_id=snapsrc, path="a.txt", file=b"v1")
    t.pods.upload_to_volume(volume_id=snapsrc, path="dir/b.txt", file=b"b")
    whole = t.pods.create_snapshot(
        snapshot_id=snapall, source_volume_id=snapsrc, source_volume_path="/", description="v1"
    )
    assert (whole.source_volume_id, whole.source_volume_path, whole.status) == (
        snapsrc,
        "",
        "AVAILABLE",
    )
    t.pods.create_snapshot(snapshot_id=snapdir, source_volume_id=snapsrc, source_volume_path="/dir")
    t.pods.upload_to_volume(volume_id=snapsrc, path="a.txt", file=b"v2")
    t.pods.upload_to_volume(volume_id=snapsrc, path="c.txt", file=b"later")

    assert t.pods.get_snapshot_contents(snapshot_id=snapall, path="a.txt") == b"v1"
    assert t.pods.get_volume_contents(volume_id=snapsrc, path="a.txt") == b"v2"
    assert [f.path for f in t.pods.list_snapshot_files(snapshot_id=snapall)] == ["a.txt", "dir"]
    assert [f.path for f in t.pods.list_snapshot_files(snapshot_id=snapdir)] == ["b.txt"]
    assert status_of(lambda: t.pods.get_snapshot_contents(snapshot_id=snapall, path="c.txt")) == (
        404
    )
    t.pods.update_snapshot(snapshot_id=snapall, description="kept")
    assert t.pods.get_snapshot(snapshot_id=snapall).description == "kept"
    assert {snapall, snapdir} <= {s.snapshot_id for s in t.pods.list_snapshots()}

    t.pods.delete_volume(volume_id=snapsrc)  # snapshots are copies: they stay
    assert t.pods.get_snapshot_contents(snapshot_id=snapdir, path="b.txt") == b"b"
    for snapshot_id in (snapall, snapdir):
        t.pods.delete_snapshot(snapshot_id=snapshot_id)
    assert not {snapall, snapdir} & {s.snapshot_id for s in t.pods.list_snapshots()}


# -- confinement -------------------------------------------------------------------------------


def test_path_traversal_is_refused(stack: Stack, unique: Unique, cleanup: Cleanup) -> None:
    travvol = cleanup.volume(unique("travvol"))
    travpod = cleanup.pod(unique("travpod"))
    travpod2 = cleanup.pod(unique("travpod2"))
    travsnap = cleanup.snapshot(unique("travsnap"))

    t = client(stack)
    t.pods.create_volume(volume_id=travvol)
    t.pods.upload_to_volume(volume_id=travvol, path="inside.txt", file=b"inside")
    t.pods.create_pod(
        pod_id=travpod,
        image="pods-http:latest",
        volume_mounts={travvol: {"type": "tapisvolume", "mount_path": "/data"}},
    )
    eventually(lambda: available(t, travpod), 60, f"{travpod} AVAILABLE")
    links = run(t, travpod, "ln -s /etc/passwd /data/passwd", "ln -s / /data/root")
    assert [o.exit_code for o in links] == [0, 0]

    # Links a pod plants never lead the API out of the volume.
    for path in ("passwd", "root/etc/passwd"):
        refusal(
            functools.partial(t.pods.get_volume_contents, volume_id=travvol, path=path),
            400,
            "outside the volume",
        )
    assert (
        status_of(
            lambda: t.pods.upload_to_volume(volume_id=travvol, path="root/tmp/evil", file=b"x")
        )
        == 400
    )
    # '..' in a path is refused outright (400); in a URL the gateway resolves it first, so
    # such a request never reaches a volume (404: no such method).
    for query in ("?path=..", "?path=../..", "?path=/etc", "?path=a/../../b"):
        status, _, body = http(stack, "GET", f"/v3/pods/volumes/{travvol}/list{query}")
        assert status == 400, (query, body)
    for path in ("/contents/../../etc/passwd", "/contents/%2e%2e/%2e%2e/etc/passwd"):
        status, _, body = http(stack, "GET", f"/v3/pods/volumes/{travvol}{path}")
        assert status in (400, 404) and b"root:" not in body, (path, body)
    assert (
        status_of(
            lambda: t.pods.create_snapshot(
                snapshot_id=travsnap, source_volume_id=travvol, source_volume_path="../.."
            )
        )
        == 400
    )
    for mount in (
        {"type": "tapisvolume", "mount_path": "/etc"},
        {"type": "tapisvolume", "mount_path": "/data/../proc/1"},
        {"type": "tapisvolume", "mount_path": "relative"},
        {"type": "tapisvolume", "mount_path": "/data", "sub_path": "../../"},
    ):
        assert (
            status_of(
                functools.partial(
                    t.pods.create_pod,
                    pod_id=travpod2,
                    image="pods-http:latest",
                    volume_mounts={travvol: mount},
                )
            )
            == 400
        ), mount
    (seen,) = run(t, travpod, "cat /data/inside.txt")
    assert seen.stdout == "inside"
    delete_pod_and_wait(t, stack, travpod)
    t.pods.delete_volume(volume_id=travvol)


# -- sharing ---------------------------------------------------------------------------------

Calls = dict[str, Callable[[Tapis], Any]]


def volume_calls(shared: str, pod: str, copy: str) -> Calls:
    """Every volume call on the volume `shared`; "mount" creates `pod`, "snapshot" takes
    `copy` + the caller's name."""
    return {
        "get": lambda t: t.pods.get_volume(volume_id=shared),
        "list_files": lambda t: t.pods.list_volume_files(volume_id=shared),
        "contents": lambda t: t.pods.get_volume_contents(volume_id=shared, path="secret.txt"),
        "permissions": lambda t: t.pods.get_volume_permissions(volume_id=shared),
        "snapshot": lambda t: t.pods.create_snapshot(
            snapshot_id=f"{copy}{t.username}", source_volume_id=shared, source_volume_path="/"
        ),
        "upload": lambda t: t.pods.upload_to_volume(volume_id=shared, path="new.txt", file=b"n"),
        "mount": lambda t: t.pods.create_pod(
            pod_id=pod,
            image="pods-http:latest",
            volume_mounts={shared: {"type": "tapisvolume", "mount_path": "/data"}},
        ),
        "update": lambda t: t.pods.update_volume(volume_id=shared, description="top secret"),
        "grant": lambda t: t.pods.set_volume_permission(
            volume_id=shared, user="thirduser", level="READ"
        ),
        "revoke": lambda t: t.pods.delete_volume_permission(volume_id=shared, user="thirduser"),
        "delete": lambda t: t.pods.delete_volume(volume_id=shared),
    }


def snapshot_calls(sharedsnap: str) -> Calls:
    """Every snapshot call on the snapshot `sharedsnap`."""
    return {
        "get": lambda t: t.pods.get_snapshot(snapshot_id=sharedsnap),
        "list_files": lambda t: t.pods.list_snapshot_files(snapshot_id=sharedsnap),
        "contents": lambda t: t.pods.get_snapshot_contents(
            snapshot_id=sharedsnap, path="secret.txt"
        ),
        "permissions": lambda t: t.pods.get_snapshot_permissions(snapshot_id=sharedsnap),
        "update": lambda t: t.pods.update_snapshot(
            snapshot_id=sharedsnap, description="top secret"
        ),
        "grant": lambda t: t.pods.set_snapshot_permission(
            snapshot_id=sharedsnap, user="thirduser", level="READ"
        ),
        "revoke": lambda t: t.pods.delete_snapshot_permission(
            snapshot_id=sharedsnap, user="thirduser"
        ),
        "delete": lambda t: t.pods.delete_snapshot(snapshot_id=sharedsnap),
    }


# Expected HTTP status per role: no grant, READ, USER. Tenant admins may do everything; the
# owner's calls are exercised by the other tests. "mount" for USER creates a pod (200).
VOLUME_MATRIX = {  # Tapis's levels (README, "Permission levels, call by call")
    "get": (404, 200, 200),
    "list_files": (404, 200, 200),
    "contents": (404, 403, 200),
    "permissions": (404, 403, 200),
    "snapshot": (404, 200, 200),
    "upload": (404, 403, 200),
    "mount": (404, 403, 200),
    "update": (404, 403, 200),
    "grant": (404, 403, 403),
    "revoke": (404, 403, 403),
    "delete": (404, 403, 403),
}
SNAPSHOT_MATRIX = {
    "get": (404, 200, 200),
    "list_files": (404, 200, 200),
    "contents": (404, 403, 200),
    "permissions": (404, 403, 200),
    "update": (404, 403, 200),
    "grant": (404, 403, 403),
    "revoke": (404, 403, 403),
    "delete": (404, 403, 403),
}
SECRET = b"the owner's secret"


def test_permissions_matrix_over_every_volume_and_snapshot_call(
    stack: Stack, unique: Unique, cleanup: Cleanup
) -> None:
    shared = cleanup.volume(unique("shared"))
    sharedsnap = cleanup.snapshot(unique("sharedsnap"))
    copy = unique("copy")
    cleanup.snapshot(f"{copy}otheruser")
    matrixpod = cleanup.pod(unique("matrixpod"))
    volume_calls_ = volume_calls(shared, matrixpod, copy)
    snapshot_calls_ = snapshot_calls(sharedsnap)

    owner, other = client(stack), client(stack, "otheruser", "otherpass")
    admin = client(stack, "adminuser", "adminpass")
    owner.pods.create_volume(volume_id=shared, description="owner's description")
    owner.pods.upload_to_volume(volume_id=shared, path="secret.txt", file=SECRET)
    owner.pods.create_snapshot(
        snapshot_id=sharedsnap, source_volume_id=shared, source_volume_path="/"
    )

    for role, level in enumerate((None, "READ", "USER")):
        if level is not None:
            owner.pods.set_volume_permission(volume_id=shared, user="otheruser", level=level)
            owner.pods.set_snapshot_permission(
                snapshot_id=sharedsnap, user="otheruser", level=level
            )
        for calls, matrix in (
            (volume_calls_, VOLUME_MATRIX),
            (snapshot_calls_, SNAPSHOT_MATRIX),
        ):
            seen = {name: _status_without_leaks(call, other) for name, call in calls.items()}
            assert seen == {name: statuses[role] for name, statuses in matrix.items()}, level
        if level is not None:  # the snapshot the call took is otheruser's own
            other.pods.delete_snapshot(snapshot_id=f"{copy}otheruser")
        listed_volumes = [v.volume_id for v in other.pods.list_volumes()]
        listed_snapshots = [s.snapshot_id for s in other.pods.list_snapshots()]
        if level is None:
            assert shared not in listed_volumes and sharedsnap not in listed_snapshots
        else:
            assert shared in listed_volumes and sharedsnap in listed_snapshots

    # The USER role created a pod mounting the volume.
    delete_pod_and_wait(other, stack, matrixpod)
    # Tenant admins may do everything, and see everything.
    for name, call in volume_calls_.items():
        if name not in ("mount", "delete", "snapshot"):
            assert status_of(functools.partial(call, admin)) == 200, name
    for name, call in snapshot_calls_.items():
        assert status_of(functools.partial(call, admin)) == 200, name
    assert shared in [v.volume_id for v in admin.pods.list_volumes()]
    assert status_of(lambda: volume_calls_["delete"](admin)) == 200
    assert shared not in [v.volume_id for v in owner.pods.list_volumes()]
    assert sharedsnap not in [s.snapshot_id for s in owner.pods.list_snapshots()]


def _status_without_leaks(call: Callable[[Tapis], Any], t: Tapis) -> int:
    """The call's status; a refused call's message never carries the owner's data."""
    try:
        call(t)
    except BaseTapyException as error:
        assert error.response is not None, error
        body = error.response.content
        assert SECRET not in body and b"owner's description" not in body, body
        return int(error.response.status_code)
    return 200
