"""ClusterApi, the real KubeApi, against a stub of the client's HTTP layer: the requests it
sends (method, path, query, body, content type), how responses and errors come back, and that
every request is the verb on the resource that API_VERBS (and so the RBAC) says."""

from __future__ import annotations

import json
import threading
import time
import urllib.parse
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import urllib3.exceptions
from kubernetes import client as k8s

from services.common.runtime.types import ExecResult
from services.spawner.platforms.kubernetes.api import (
    API_VERBS,
    AlreadyExists,
    ExecBytes,
    Gone,
    KubeError,
    ObjectList,
    WatchEvent,
)
from services.spawner.platforms.kubernetes.client import ClusterApi, _ExecSession

HOST = "http://k8s.test"


class FakeHttpResponse:
    """What urllib3 hands the client: status, body, and a stream of chunks."""

    def __init__(self, status: int, body: bytes, chunks: list[bytes] | None = None) -> None:
        self.status = status
        self.reason = "OK" if status < 400 else "Error"
        self.data = body
        self.headers: dict[str, str] = {}
        self._chunks = chunks or [body]
        self.closed = False

    def stream(self, amt: Any = None, decode_content: Any = None) -> Iterator[bytes]:
        yield from self._chunks

    def getheaders(self) -> dict[str, str]:
        return self.headers

    def close(self) -> None:
        self.closed = True

    def release_conn(self) -> None:
        pass


class Server:
    """Answers the client's requests from a queue and records them."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.answers: list[FakeHttpResponse | Exception] = []

    def answer(
        self, status: int = 200, body: Any = None, chunks: list[bytes] | None = None
    ) -> None:
        data = body if isinstance(body, bytes) else json.dumps(body or {}).encode()
        self.answers.append(FakeHttpResponse(status, data, chunks))

    def request(
        self,
        method: str,
        url: str,
        headers: Any = None,
        body: Any = None,
        post_params: Any = None,
        _request_timeout: Any = None,
        **_: Any,
    ) -> Any:
        parsed = urllib.parse.urlsplit(url)
        self.requests.append(
            {
                "method": method,
                "path": parsed.path,
                "query": dict(urllib.parse.parse_qsl(parsed.query)),
                "content_type": (headers or {}).get("Content-Type"),
                "body": body,
            }
        )
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return k8s.rest.RESTResponse(answer)


@pytest.fixture
def server() -> Server:
    return Server()


@pytest.fixture
def api(server: Server) -> ClusterApi:
    api_client = k8s.ApiClient(k8s.Configuration(host=HOST))
    api_client.rest_client.request = server.request  # type: ignore[method-assign]
    return ClusterApi(k8s.CoreV1Api(api_client), "pods", request_timeout=5)


def status(code: int, reason: str, message: str) -> dict[str, Any]:
    return {
        "kind": "Status",
        "status": "Failure",
        "code": code,
        "reason": reason,
        "message": message,
    }


def test_read_returns_the_object_or_none(api: ClusterApi, server: Server) -> None:
    server.answer(body={"metadata": {"name": "p"}})
    assert api.read("pods", "p") == {"metadata": {"name": "p"}}
    server.answer(404, status(404, "NotFound", 'pods "q" not found'))
    assert api.read("secrets", "q") is None
    assert [(r["method"], r["path"]) for r in server.requests] == [
        ("GET", "/api/v1/namespaces/pods/pods/p"),
        ("GET", "/api/v1/namespaces/pods/secrets/q"),
    ]


def test_create_sends_the_body_and_reports_a_taken_name(api: ClusterApi, server: Server) -> None:
    body = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"}, "data": {"A": "MQ=="}}
    server.answer(201, {**body, "metadata": {"name": "s", "uid": "u1"}})
    assert api.create("secrets", body)["metadata"]["uid"] == "u1"
    assert server.requests[0]["body"] == body
    server.answer(409, status(409, "AlreadyExists", 'secrets "s" already exists'))
    with pytest.raises(AlreadyExists) as raised:
        api.create("secrets", body)
    assert (raised.value.status, raised.value.message) == (409, 'secrets "s" already exists')


def test_an_invalid_body_is_refused_before_sending(api: ClusterApi, server: Server) -> None:
    with pytest.raises(KubeError) as raised:
        api.create("pods", {"metadata": {"name": "p"}, "spec": {"containerz": []}})
    assert raised.value.status == 422 and server.requests == []


def test_patch_is_a_json_merge_patch(api: ClusterApi, server: Server) -> None:
    server.answer(body={"metadata": {"name": "s"}})
    api.patch("secrets", "s", {"data": {"OLD": None, "NEW": "eA=="}})
    request = server.requests[0]
    assert (request["method"], request["path"]) == ("PATCH", "/api/v1/namespaces/pods/secrets/s")
    assert request["content_type"] == "application/merge-patch+json"
    assert request["body"] == {"data": {"OLD": None, "NEW": "eA=="}}


def test_delete_with_a_propagation_policy(api: ClusterApi, server: Server) -> None:
    server.answer(body=status(200, "", ""))
    assert api.delete("pods", "p", propagation="Orphan") is True
    assert server.requests[0]["query"] == {"propagationPolicy": "Orphan"}
    server.answer(404, status(404, "NotFound", "gone"))
    assert api.delete("services", "p") is False


def test_list_pods_by_label(api: ClusterApi, server: Server) -> None:
    server.answer(
        body={"metadata": {"resourceVersion": "42"}, "items": [{"metadata": {"name": "a"}}]}
    )
    assert api.list_pods("a=b") == ObjectList(
        items=[{"metadata": {"name": "a"}}], resource_version="42"
    )
    assert server.requests[0]["query"] == {"labelSelector": "a=b"}


def test_watch_streams_events_and_reports_410_as_gone(api: ClusterApi, server: Server) -> None:
    lines = [
        {"type": "ADDED", "object": {"metadata": {"name": "a", "resourceVersion": "43"}}},
        {"type": "BOOKMARK", "object": {"metadata": {"resourceVersion": "44"}}},
        {"type": "ERROR", "object": status(410, "Expired", "too old resource version: 42 (50)")},
    ]
    text = b"".join(json.dumps(line).encode() + b"\n" for line in lines)
    server.answer(chunks=[text[:30], text[30:]])  # events split across chunks
    stream = api.watch_pods("a=b", "42", 30)
    request = server.requests[0]
    assert request["query"] == {
        "allowWatchBookmarks": "true",
        "labelSelector": "a=b",
        "resourceVersion": "42",
        "timeoutSeconds": "30",
        "watch": "true",
    }
    events: list[WatchEvent] = []
    with pytest.raises(Gone, match="too old resource version"):
        for event in stream:
            events.append(event)
    assert [e.type for e in events] == ["ADDED", "BOOKMARK"]
    stream.close()


def test_watch_errors_other_than_410(api: ClusterApi, server: Server) -> None:
    line = {"type": "ERROR", "object": status(500, "InternalError", "etcd")}
    server.answer(chunks=[json.dumps(line).encode() + b"\n"])
    with pytest.raises(KubeError) as raised:
        list(api.watch_pods("a=b", "1", 30))
    assert not isinstance(raised.value, Gone) and raised.value.status == 500


def test_pod_log_asks_for_timestamps_since_a_time(api: ClusterApi, server: Server) -> None:
    server.answer(body=b"2024-05-01T10:00:00.1Z hello\n")
    assert (
        api.pod_log("p", "main", since_time="2024-05-01T10:00:00Z", limit_bytes=65536)
        == b"2024-05-01T10:00:00.1Z hello\n"
    )
    request = server.requests[0]
    assert (request["method"], request["path"]) == ("GET", "/api/v1/namespaces/pods/pods/p/log")
    assert request["query"] == {
        "container": "main",
        "timestamps": "true",
        "sinceTime": "2024-05-01T10:00:00Z",
        "limitBytes": "65536",
    }
    server.answer(400, status(400, "BadRequest", 'container "main" is waiting to start'))
    with pytest.raises(KubeError) as raised:
        api.pod_log("p", "main", since_time=None, limit_bytes=None)
    assert (raised.value.status, raised.value.reason) == (400, "BadRequest")


def test_forbidden_keeps_the_servers_message(api: ClusterApi, server: Server) -> None:
    message = (
        'pods is forbidden: User "system:serviceaccount:pods-system:pods-health" cannot create'
    )
    server.answer(403, status(403, "Forbidden", message))
    with pytest.raises(KubeError) as raised:
        api.create("pods", {"metadata": {"name": "p"}, "spec": {"containers": []}})
    assert (raised.value.status, raised.value.reason, raised.value.message) == (
        403,
        "Forbidden",
        message,
    )


def test_an_unreachable_server_has_no_status(api: ClusterApi, server: Server) -> None:
    server.answers.append(urllib3.exceptions.MaxRetryError(None, "/", "connection refused"))  # type: ignore[arg-type]
    with pytest.raises(KubeError) as raised:
        api.read("pods", "p")
    assert raised.value.status is None and raised.value.reason == "Unreachable"


def _verb(request: dict[str, Any]) -> tuple[str, str]:
    """The RBAC verb and resource of a request, as the API server derives them."""
    parts = request["path"].split("/")  # /api/v1/namespaces/pods/<resource>[/<name>[/<sub>]]
    resource = parts[5] + (f"/{parts[7]}" if len(parts) > 7 else "")
    if request["method"] == "GET":
        if request["query"].get("watch") == "true":
            return "watch", resource
        return ("get" if len(parts) > 6 else "list"), resource
    return {"POST": "create", "PATCH": "patch", "DELETE": "delete"}[request["method"]], resource


def test_every_call_is_the_verb_api_verbs_declares(api: ClusterApi, server: Server) -> None:
    calls: list[tuple[str, str]] = []
    for kind in ("pods", "services", "secrets", "persistentvolumeclaims"):
        server.answer(body={})
        api.read(kind, "x")
        calls.append(("read", kind))
        server.answer(body={})
        api.delete(kind, "x")
        calls.append(("delete", kind))
    server.answer(body={"metadata": {"name": "x"}})
    api.create("secrets", {"metadata": {"name": "x"}})
    calls.append(("create", "secrets"))
    server.answer(body={"metadata": {"name": "x"}})
    api.create("persistentvolumeclaims", {"metadata": {"name": "x"}})
    calls.append(("create", "persistentvolumeclaims"))
    for kind in ("services", "secrets"):
        server.answer(body={})
        api.patch(kind, "x", {})  # type: ignore[arg-type]
        calls.append(("patch", kind))
    server.answer(body={"items": []})
    api.list_pods("")
    calls.append(("list_pods", "pods"))
    server.answer(body={"items": []})
    api.list_claims("a=b")
    calls.append(("list_claims", "persistentvolumeclaims"))
    server.answer(chunks=[b""])
    list(api.watch_pods("", "1", 5))
    calls.append(("watch_pods", "pods"))
    server.answer(body=b"")
    api.pod_log("x", "main", since_time=None, limit_bytes=None)
    calls.append(("pod_log", "pods/log"))
    for (method, resource), request in zip(calls, server.requests, strict=True):
        verbs, resources = API_VERBS[method]
        verb, requested = _verb(request)
        assert verb in verbs and requested == resource and resource in resources


def test_connect_from_a_kubeconfig_file(tmp_path: Path) -> None:
    config = tmp_path / "kubeconfig"
    config.write_text(
        json.dumps(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "clusters": [{"name": "c", "cluster": {"server": "https://10.0.0.1:6443"}}],
                "users": [{"name": "u", "user": {"token": "t0ken"}}],
                "contexts": [{"name": "x", "context": {"cluster": "c", "user": "u"}}],
                "current-context": "x",
            }
        )
    )
    api = ClusterApi.connect("pods", kubeconfig=str(config))
    try:
        configuration = api._core.api_client.configuration
        assert configuration.host == "https://10.0.0.1:6443"
    finally:
        api.close()
    with pytest.raises(KubeError, match="NoConfiguration"):
        ClusterApi.connect("pods", kubeconfig=str(tmp_path / "missing"))


class FakeSession:
    """The parts of kubernetes.stream's WSClient (binary mode) that an exec uses, fed from a
    script of (stdout, stderr) frames and a final status on the error channel; what is
    written to stdin is kept in `stdin`."""

    def __init__(
        self, frames: list[tuple[str | bytes, str]], status: str | None, ends: bool = True
    ) -> None:
        self.frames = list(frames)
        self.status = status
        self.ends = ends
        self.out, self.err = b"", ""
        self.closed = False
        self.updates: list[float] = []
        self.stdin: list[bytes] = []

    def is_open(self) -> bool:
        return not self.closed and (bool(self.frames) or not self.ends)

    def update(self, timeout: float = 0) -> None:
        self.updates.append(timeout)
        if self.frames:
            out, err = self.frames.pop(0)
            raw = out.encode() if isinstance(out, str) else out
            self.out, self.err = self.out + raw, self.err + err
        elif not self.ends:
            time.sleep(timeout)

    def peek_stdout(self) -> bool:
        return bool(self.out)

    def peek_stderr(self) -> bool:
        return bool(self.err)

    def read_stdout(self) -> bytes:
        out, self.out = self.out, b""
        return out

    def read_stderr(self) -> bytes:
        err, self.err = self.err, ""
        return err.encode()

    def read_channel(self, channel: int) -> bytes:
        assert channel == 3
        return (self.status or "").encode()

    def write_stdin(self, data: bytes) -> None:
        assert isinstance(data, bytes)
        self.stdin.append(data)

    def close(self) -> None:
        self.closed = True


SUCCESS = json.dumps({"metadata": {}, "status": "Success"})


def failure(code: str | None, message: str) -> str:
    causes = [{"reason": "ExitCode", "message": code}] if code else []
    return json.dumps({"status": "Failure", "message": message, "details": {"causes": causes}})


@pytest.mark.parametrize(
    ("status", "exit_code", "stderr"),
    [
        (SUCCESS, 0, "e1\n"),
        (failure("3", "command terminated with non-zero exit code"), 3, "e1\n"),
        (
            failure(None, 'exec: "nope": executable file not found in $PATH'),
            127,
            'e1\nexec: "nope": executable file not found in $PATH\n',
        ),
        (
            failure(None, "OCI runtime exec failed: permission denied"),
            126,
            "e1\nOCI runtime exec failed: permission denied\n",
        ),
    ],
)
def test_exec_collects_output_and_the_exit_status(status: str, exit_code: int, stderr: str) -> None:
    session = FakeSession([("o1\n", ""), ("o2\n", "e1\n")], status)
    assert _ExecSession(session, 1000).run(5) == ExecBytes(exit_code, b"o1\no2\n", stderr.encode())


def test_exec_keeps_the_last_bytes_of_each_stream() -> None:
    session = FakeSession([("a" * 10, "b" * 10), ("ccc", "é")], SUCCESS)
    result = _ExecSession(session, 4).run(5)
    assert (result.stdout, result.stderr) == (b"accc", "bbé".encode())


def test_exec_gives_up_at_the_timeout() -> None:
    session = FakeSession([("started\n", "")], None, ends=False)
    result = _ExecSession(session, 100).run(0.2)
    assert result == ExecBytes(exit_code=None, stdout=b"started\n", stderr=b"")


def test_exec_gives_up_when_told_to_stop() -> None:
    session = FakeSession([("started\n", "")], None, ends=False)
    stop = threading.Event()
    stop.set()
    started = time.monotonic()
    result = _ExecSession(session, 100).run(600, stop)
    assert result.exit_code is None and time.monotonic() - started < 5


def test_exec_reports_a_refused_websocket_with_its_status(
    api: ClusterApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refused(*args: Any, **kwargs: Any) -> Any:
        raise k8s.ApiException(status=0, reason="Handshake status 403 Forbidden -+-+- {...}")

    monkeypatch.setattr("services.spawner.platforms.kubernetes.client._ws_stream", refused)
    with pytest.raises(KubeError) as raised:
        api.exec("p", "main", ["ls"], 5, 100)
    assert raised.value.status == 403

    opened: list[FakeSession] = []

    def opens(method: Any, name: str, namespace: str, **kwargs: Any) -> FakeSession:
        assert (name, namespace, kwargs["command"], kwargs["tty"]) == ("p", "pods", ["ls"], False)
        assert kwargs["binary"] is True
        opened.append(FakeSession([("x\n", "")], SUCCESS))
        return opened[-1]

    monkeypatch.setattr("services.spawner.platforms.kubernetes.client._ws_stream", opens)
    assert api.exec("p", "main", ["ls"], 5, 100) == ExecResult(0, "x\n", "")
    assert opened[0].closed


def test_exec_decodes_text_and_cuts_each_stream_to_its_limit(
    api: ClusterApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    def opens(method: Any, name: str, namespace: str, **kwargs: Any) -> FakeSession:
        assert kwargs["stdin"] is False
        return FakeSession([("x" * 10 + "é", "bad")], failure("2", "non-zero exit"))

    monkeypatch.setattr("services.spawner.platforms.kubernetes.client._ws_stream", opens)
    assert api.exec("p", "main", ["ls"], 5, 3) == ExecResult(2, "xé", "bad")


def test_exec_bytes_writes_stdin_in_chunks_and_returns_raw_output(
    api: ClusterApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("services.spawner.platforms.kubernetes.client.STDIN_CHUNK_BYTES", 4)
    opened: list[FakeSession] = []

    def opens(method: Any, name: str, namespace: str, **kwargs: Any) -> FakeSession:
        assert (kwargs["stdin"], kwargs["binary"]) == (True, True)
        opened.append(FakeSession([("out", "")], SUCCESS))
        return opened[-1]

    monkeypatch.setattr("services.spawner.platforms.kubernetes.client._ws_stream", opens)
    result = api.exec_bytes("p", "helper", ["sh", "-c", "head -c 10"], b"0123456789", 5)
    assert result == ExecBytes(0, b"out", b"")
    assert opened[0].stdin == [b"0123", b"4567", b"89"]
    assert opened[0].closed


def test_exec_bytes_without_stdin_opens_no_stdin_channel(
    api: ClusterApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    def opens(method: Any, name: str, namespace: str, **kwargs: Any) -> FakeSession:
        assert kwargs["stdin"] is False
        return FakeSession([(b"\x00\xff", "")], SUCCESS)

    monkeypatch.setattr("services.spawner.platforms.kubernetes.client._ws_stream", opens)
    assert api.exec_bytes("p", "helper", ["cat", "/v/f"], None, 5).stdout == b"\x00\xff"
