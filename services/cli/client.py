"""The REST client of the `pods` command: one class, one call per API operation it uses, the
Tapis envelope unwrapped and error answers turned into ApiError once, here. It speaks only the
public REST paths (the ones tapipy uses, plus the streaming paths of the watch contract), so it
works against this service and a real Tapis deployment. Built by services/cli/context.py; the
watch code (services/cli/watch.py) uses its streams."""

from __future__ import annotations

import codecs
from collections.abc import Callable, Iterator, Mapping
from typing import IO, Any
from urllib.parse import quote

import requests

from services.cli.errors import ApiError
from services.cli.sse import Event, parse

Progress = Callable[[int], None]
"""Told the number of bytes moved since it was last called."""

CHUNK = 256 * 1024
# Answers meaning "this server does not serve the stream": a Tapis deployment, or one before
# the watch paths. The caller falls back to polling.
_NOT_STREAMED = (400, 404, 405, 501)


class PodsClient:
    """Calls the Pods REST API at `url` with `token` (sent as X-Tapis-Token); `ca` is a CA file
    that verifies an https gateway (empty: the system's trust store)."""

    def __init__(
        self,
        url: str,
        token: str = "",
        ca: str = "",
        session: requests.Session | None = None,
        timeout: float = 60,
    ) -> None:
        self.url = url.rstrip("/")
        self._session = session or requests.Session()
        self._session.headers["User-Agent"] = "pods-cli"
        if token:
            self._session.headers["X-Tapis-Token"] = token
        if ca:
            self._session.verify = ca
        self._timeout = timeout

    # -- identity

    def password_token(self, username: str, password: str) -> str:
        """An access token for a user of the identity service (the password grant)."""
        body = {"username": username, "password": password, "grant_type": "password"}
        result = self._call("POST", "/v3/oauth2/tokens", json=body)
        return str(result["access_token"]["access_token"])

    # -- pods

    def list_pods(self) -> list[dict[str, Any]]:
        return list(self._call("GET", "/v3/pods"))

    def get_pod(self, pod_id: str) -> dict[str, Any]:
        return dict(self._call("GET", f"/v3/pods/{_seg(pod_id)}"))

    def create_pod(self, spec: Mapping[str, Any]) -> dict[str, Any]:
        return dict(self._call("POST", "/v3/pods", json=dict(spec)))

    def delete_pod(self, pod_id: str) -> Any:
        return self._call("DELETE", f"/v3/pods/{_seg(pod_id)}")

    def act(self, pod_id: str, action: str) -> dict[str, Any]:
        """start, stop or restart (Tapis's GET /v3/pods/{pod_id}/{action})."""
        if action not in ("start", "stop", "restart"):
            raise ValueError(action)
        return dict(self._call("GET", f"/v3/pods/{_seg(pod_id)}/{action}"))

    def pod_logs(self, pod_id: str, previous: int = 0) -> dict[str, Any]:
        params = {"previous": previous} if previous else None
        return dict(self._call("GET", f"/v3/pods/{_seg(pod_id)}/logs", params=params))

    def pod_credentials(self, pod_id: str) -> dict[str, Any]:
        return dict(self._call("GET", f"/v3/pods/{_seg(pod_id)}/credentials"))

    def exec(self, pod_id: str, commands: list[list[str]], timeout: int) -> list[dict[str, Any]]:
        """Runs each command (an argv; a list of them is several, as Tapis reads it) in the
        pod; the results of those that ran (Tapis's `execution_results`)."""
        body = {"commands": commands, "command_timeout": timeout}
        result = dict(self._call("POST", f"/v3/pods/{_seg(pod_id)}/exec", json=body))
        return list(result.get("execution_results") or [])

    def set_pod_permission(self, pod_id: str, user: str, level: str) -> dict[str, Any]:
        body = {"user": user, "level": level}
        return dict(self._call("POST", f"/v3/pods/{_seg(pod_id)}/permissions", json=body))

    # -- volumes

    def list_volumes(self) -> list[dict[str, Any]]:
        return list(self._call("GET", "/v3/pods/volumes"))

    def create_volume(self, volume_id: str, description: str = "") -> dict[str, Any]:
        body = {"volume_id": volume_id, "description": description}
        return dict(self._call("POST", "/v3/pods/volumes", json=body))

    def list_files(self, volume_id: str, path: str = "") -> list[dict[str, Any]]:
        params = {"path": path, "recursive": "true"} if path else {"recursive": "true"}
        return list(self._call("GET", f"/v3/pods/volumes/{_seg(volume_id)}/list", params=params))

    def upload(
        self, volume_id: str, path: str, source: IO[bytes], size: int, progress: Progress
    ) -> Any:
        """Sends `size` bytes of `source` as the file `path` of the volume."""
        body = _CountingReader(source, size, progress)
        headers = {"Content-Type": "application/octet-stream"}
        url = f"/v3/pods/volumes/{_seg(volume_id)}/upload/{quote(path.lstrip('/'))}"
        return self._call("POST", url, data=body, headers=headers)

    def download(self, volume_id: str, path: str, sink: IO[bytes], progress: Progress) -> int:
        """Writes the file `path` of the volume into `sink`; the number of bytes."""
        url = f"/v3/pods/volumes/{_seg(volume_id)}/contents/{quote(path.lstrip('/'))}"
        written = 0
        with self._send("GET", url, stream=True) as response:
            try:
                for chunk in response.iter_content(CHUNK):
                    sink.write(chunk)
                    written += len(chunk)
                    progress(len(chunk))
            except requests.RequestException as exc:
                raise ApiError(f"the download was cut short after {written} bytes") from exc
        return written

    # -- streams (the watch contract)

    def stream(
        self, path: str, params: Mapping[str, str] | None = None, last_event_id: str = ""
    ) -> Iterator[Event] | None:
        """The events of a text/event-stream path, or None when the server does not stream it
        (so the caller polls instead). Ends when the server closes the stream."""
        headers = {"Accept": "text/event-stream"}
        if last_event_id:
            headers["Last-Event-ID"] = last_event_id
        try:
            response = self._session.get(
                self.url + path,
                params=params,
                headers=headers,
                stream=True,
                timeout=(self._timeout, 60),  # keep-alive comes every 15 s
            )
        except requests.RequestException as exc:
            raise ApiError(f"cannot reach {self.url}: {exc}") from exc
        content_type = response.headers.get("content-type", "")
        if response.status_code in _NOT_STREAMED or (
            response.ok and not content_type.startswith("text/event-stream")
        ):
            response.close()
            return None
        if not response.ok:
            with response:
                raise _error(response)
        return _events(response)

    # -- plumbing

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        """The `result` of a call's Tapis envelope."""
        with self._send(method, path, **kwargs) as response:
            try:
                envelope = response.json()
            except ValueError as exc:
                raise ApiError(f"{method} {path}: the answer is not JSON") from exc
        return envelope.get("result") if isinstance(envelope, dict) else envelope

    def _send(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        try:
            response = self._session.request(
                method, self.url + path, timeout=self._timeout, **kwargs
            )
        except requests.RequestException as exc:
            raise ApiError(f"cannot reach {self.url}: {exc}") from exc
        if not response.ok:
            with response:
                raise _error(response)
        return response


def _seg(value: str) -> str:
    """One path segment, quoted."""
    return quote(value, safe="")


def _error(response: requests.Response) -> ApiError:
    """The API's message for an error answer (the Tapis envelope's, or the body's text)."""
    message = ""
    try:
        body = response.json()
        if isinstance(body, dict):
            message = str(body.get("message") or "")
    except ValueError:
        message = response.text.strip()[:500]
    status = response.status_code
    return ApiError(message or f"HTTP {status} {response.reason}", status)


def _events(response: requests.Response) -> Iterator[Event]:
    with response:
        try:
            yield from parse(_lines(response.iter_content(chunk_size=None)))
        except requests.RequestException:
            return  # the stream broke: the caller resumes from the last event id


def _lines(chunks: Iterator[bytes]) -> Iterator[str]:
    """Lines (without their ends: \\n, \\r\\n) of a UTF-8 byte stream, as soon as they are whole."""
    decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
    pending = ""
    for chunk in chunks:
        pending += decoder.decode(chunk)
        *whole, pending = pending.split("\n")
        for line in whole:
            yield line.removesuffix("\r")


class _CountingReader:
    """A file-like body that reports the bytes requests reads from it (for a progress bar); its
    length gives the request a Content-Length."""

    def __init__(self, source: IO[bytes], size: int, progress: Progress) -> None:
        self._source = source
        self._size = size
        self._progress = progress

    def __len__(self) -> int:
        return self._size

    def read(self, amount: int = -1) -> bytes:
        data = self._source.read(-1 if amount is None else amount)
        self._progress(len(data))
        return data

    def __iter__(self) -> Iterator[bytes]:
        while data := self.read(CHUNK):
            yield data
