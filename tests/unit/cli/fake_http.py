"""Canned HTTP answers for the `pods` command's REST client: a requests transport adapter that
answers from a table of routes and records the requests it got (the client's one seam, as
httpx's MockTransport is for httpx)."""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import requests
from requests.adapters import BaseAdapter
from requests.structures import CaseInsensitiveDict

from services.cli.client import PodsClient

URL = "http://pods.test"


@dataclass
class Answer:
    status: int = 200
    body: bytes = b""
    content_type: str = "application/json"


def ok(result: Any, message: str = "ok") -> Answer:
    envelope = {"status": "success", "message": message, "result": result, "version": "dev"}
    return Answer(200, json.dumps(envelope).encode())


def error(status: int, message: str) -> Answer:
    envelope = {"status": "error", "message": message, "result": None, "version": "dev"}
    return Answer(status, json.dumps(envelope).encode())


def sse(text: str) -> Answer:
    return Answer(200, text.encode(), "text/event-stream")


Route = Answer | list[Answer] | Callable[[requests.PreparedRequest], Answer]


@dataclass
class FakeApi(BaseAdapter):
    """Answers `METHOD /path` (query string left off) from `routes`: an Answer, a list of
    Answers given one per call (the last one repeats), or a function of the request. Anything
    else is a 404 without a body, as Envoy answers an unknown path."""

    routes: dict[str, Route] = field(default_factory=dict)
    seen: list[requests.PreparedRequest] = field(default_factory=list)
    bodies: list[bytes] = field(default_factory=list)

    def __post_init__(self) -> None:
        super().__init__()

    def send(  # type: ignore[override]  # the keyword arguments requests passes are not used
        self, request: requests.PreparedRequest, **kwargs: Any
    ) -> requests.Response:
        self.seen.append(request)
        self.bodies.append(_body(request.body))
        path = (request.path_url or "").split("?")[0]
        answer = self._answer(f"{request.method} {path}", request)
        response = requests.Response()
        response.status_code = answer.status
        response.reason = "canned"
        response.headers = CaseInsensitiveDict({"content-type": answer.content_type})
        response.raw = io.BytesIO(answer.body)
        response.url = request.url or ""
        response.request = request
        return response

    def _answer(self, key: str, request: requests.PreparedRequest) -> Answer:
        route = self.routes.get(key)
        if route is None:
            return Answer(404, b"", "text/plain")
        if isinstance(route, Answer):
            return route
        if isinstance(route, list):
            return route.pop(0) if len(route) > 1 else route[0]
        return route(request)

    def close(self) -> None:
        pass

    def headers_of(self, key: str) -> Mapping[str, str]:
        for request in self.seen:
            if f"{request.method} {(request.path_url or '').split('?')[0]}" == key:
                return request.headers
        raise KeyError(key)


def _body(body: object) -> bytes:
    """A request's body as bytes (a file-like body is read, as the real transport would)."""
    reader = getattr(body, "read", None)
    if reader is not None:
        return b"".join(iter(lambda: bytes(reader(7)), b""))
    return body if isinstance(body, bytes) else str(body or "").encode()


def client_for(api: FakeApi, token: str = "tok") -> PodsClient:
    session = requests.Session()
    session.mount("http://", api)
    return PodsClient(URL, token, session=session)
