"""The plumbing the four authenticated servicers (pods, templates, volumes, snapshots) share,
so that each RPC method says only what it does: `enveloped` authenticates the call, runs the
method and wraps its Reply in the Tapis envelope (errors leave as status codes, status.rpc);
`streamed` does the same for downloads; GrantCalls are the three permission calls of any kind
of object; `files_page` and `downloaded` serve a volume's or a snapshot's files."""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

import grpc
from google.api import httpbody_pb2

from services.api.domain.paging import Page
from services.api.domain.principal import Principal
from services.api.domain.zipped import Lister, Opener, zip_stream
from services.api.transport.auth import Authenticator
from services.api.transport.convert import envelope, grant_strings
from services.api.transport.status import rpc, streamed_rpc
from services.api.transport.storage_convert import file_bodies, file_message
from services.common.pods_model import Level

Context = grpc.aio.ServicerContext[Any, Any]
ZIP_CONTENT_TYPE = "application/zip"
Grants = Sequence[tuple[str, Level]]


@dataclass(frozen=True)
class Reply:
    """A successful call: its typed `result`, the envelope's `message`, and the fields its
    response has next to the envelope's (`next_page_token`)."""

    result: object
    message: str
    extra: Mapping[str, object] = field(default_factory=dict)


class Authenticated:
    """A servicer whose every call needs a token."""

    def __init__(self, auth: Authenticator) -> None:
        self.auth = auth


S = TypeVar("S", bound=Authenticated)
Req = TypeVar("Req")
Resp = TypeVar("Resp")
Method = Callable[[S, Req, Principal], Awaitable[Reply]]
Handler = Callable[[S, Req, Context], Awaitable[Resp]]


def enveloped(response: Callable[..., Resp]) -> Callable[[Method[S, Req]], Handler[S, Req, Resp]]:
    """Makes `method(self, request, who) -> Reply` the gRPC handler answering `response`."""

    def decorate(method: Method[S, Req]) -> Handler[S, Req, Resp]:
        @functools.wraps(method)
        async def handler(self: S, request: Req, context: Context) -> Resp:
            reply = await method(self, request, self.auth.principal(context))
            # `extra` may replace an envelope field (metadata) or add its own.
            return response(result=reply.result, **{**envelope(reply.message), **reply.extra})

        return rpc(handler)

    return decorate


def streamed(
    method: Callable[[S, Req, Principal], AsyncIterator[Resp]],
) -> Callable[[S, Req, Context], AsyncIterator[Resp]]:
    """`enveloped` for server-streaming methods (status.streamed_rpc says how errors leave)."""

    @functools.wraps(method)
    async def handler(self: S, request: Req, context: Context) -> AsyncIterator[Resp]:
        async for message in method(self, request, self.auth.principal(context)):
            yield message

    return streamed_rpc(handler)


@dataclass(frozen=True)
class GrantCalls:
    """The permission calls of one kind of object: list, grant and revoke, as Replies whose
    result is `message` (PodPermissions or StoragePermissions) of the grants after the call."""

    kind: str  # "pod", "template", "volume", "snapshot": how the replies name the object
    read: Callable[[Principal, str], Awaitable[Grants]]
    grant: Callable[[Principal, str, str, str], Awaitable[Grants]]
    revoke: Callable[[Principal, str, str], Awaitable[Grants]]
    message: Callable[..., object]

    async def listed(self, who: Principal, object_id: str) -> Reply:
        grants = await self.read(who, object_id)
        return self._reply(grants, f"Permissions of {self.kind} '{object_id}'.")

    async def granted(self, who: Principal, object_id: str, user: str, level: str) -> Reply:
        grants = await self.grant(who, object_id, user, level)
        return self._reply(grants, f"{user} now has {level} on {self.kind} '{object_id}'.")

    async def revoked(self, who: Principal, object_id: str, user: str) -> Reply:
        grants = await self.revoke(who, object_id, user)
        return self._reply(grants, f"{user} no longer has access to {self.kind} '{object_id}'.")

    def _reply(self, grants: Grants, text: str) -> Reply:
        return Reply(self.message(permissions=grant_strings(grants)), text)


def files_page(page: Page, where: str) -> Reply:
    """One page of a file listing; `where` names the volume or snapshot listed."""
    return Reply(
        [file_message(e) for e in page.entries],
        f"{len(page.entries)} entries in {where}.",
        {"next_page_token": page.next_token},
    )


async def downloaded(
    zip_requested: bool, path: str, listed: Lister, opened: Opener
) -> AsyncIterator[httpbody_pb2.HttpBody]:
    """The file at `path` as raw REST body messages, once `opened` found it; with
    `zip_requested`, the directory (or file) at `path` as a ZIP archive (domain/zipped.py,
    content type application/zip) of what `listed` finds below it."""
    if not zip_requested:
        async for body in file_bodies(await opened(path)):
            yield body
        return
    content_type = ZIP_CONTENT_TYPE
    async for piece in zip_stream(path, listed, opened):
        if piece or content_type:
            yield httpbody_pb2.HttpBody(content_type=content_type, data=piece)
            content_type = ""
