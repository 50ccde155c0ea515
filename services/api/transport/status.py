"""Maps our errors to gRPC status codes, in one place. Envoy maps those to HTTP statuses
(INVALID_ARGUMENT 400, UNAUTHENTICATED 401, PERMISSION_DENIED 403, NOT_FOUND 404,
ALREADY_EXISTS 409, RESOURCE_EXHAUSTED 429, UNAVAILABLE 503). A TooManyAttemptsError also
sends `retry-after` metadata, which the transcoder passes on as the Retry-After header."""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, NoReturn, TypeVar

import grpc

from services.api.errors import (
    AlreadyExistsError,
    ApiError,
    FailedPreconditionError,
    InvalidArgumentError,
    NotFoundError,
    PermissionDeniedError,
    ResourceExhaustedError,
    TooManyAttemptsError,
    UnauthenticatedError,
    UnavailableError,
)
from services.common.outcomes import DatabaseUnavailableError, PermanentError, TemporaryError

log = logging.getLogger(__name__)

CODES: dict[type[ApiError], grpc.StatusCode] = {
    InvalidArgumentError: grpc.StatusCode.INVALID_ARGUMENT,
    UnauthenticatedError: grpc.StatusCode.UNAUTHENTICATED,
    PermissionDeniedError: grpc.StatusCode.PERMISSION_DENIED,
    NotFoundError: grpc.StatusCode.NOT_FOUND,
    AlreadyExistsError: grpc.StatusCode.ALREADY_EXISTS,
    FailedPreconditionError: grpc.StatusCode.FAILED_PRECONDITION,
    ResourceExhaustedError: grpc.StatusCode.RESOURCE_EXHAUSTED,
    UnavailableError: grpc.StatusCode.UNAVAILABLE,
}

Req = TypeVar("Req")
Resp = TypeVar("Resp")
Self = TypeVar("Self")


def code_for(error: ApiError) -> grpc.StatusCode:
    for kind, code in CODES.items():
        if isinstance(error, kind):
            return code
    return grpc.StatusCode.INTERNAL


async def abort(context: grpc.aio.ServicerContext[Any, Any], error: Exception) -> NoReturn:
    """Ends the call with the status for `error`; unexpected errors are logged, and the caller
    sees only a generic message."""
    if isinstance(error, TooManyAttemptsError):
        context.set_trailing_metadata((("retry-after", str(error.retry_after)),))
    if isinstance(error, ApiError):
        await context.abort(code_for(error), str(error))
    if isinstance(error, DatabaseUnavailableError):  # already says what and what to do
        await context.abort(grpc.StatusCode.UNAVAILABLE, str(error))
    if isinstance(error, TemporaryError):
        await context.abort(grpc.StatusCode.UNAVAILABLE, f"temporarily unavailable: {error}")
    if isinstance(error, PermanentError):
        await context.abort(grpc.StatusCode.FAILED_PRECONDITION, str(error))
    log.exception("unexpected error", exc_info=error)
    await context.abort(grpc.StatusCode.INTERNAL, "internal error; the operators have the details")


def rpc(
    method: Callable[[Self, Req, grpc.aio.ServicerContext[Any, Any]], Awaitable[Resp]],
) -> Callable[[Self, Req, grpc.aio.ServicerContext[Any, Any]], Awaitable[Resp]]:
    """Wraps a servicer method so every error leaves as the right status code."""

    @functools.wraps(method)
    async def wrapper(
        self: Self, request: Req, context: grpc.aio.ServicerContext[Any, Any]
    ) -> Resp:
        try:
            return await method(self, request, context)
        except grpc.aio.AbortError:
            raise
        except Exception as error:
            await abort(context, error)

    return wrapper


def streamed_rpc(
    method: Callable[[Self, Req, grpc.aio.ServicerContext[Any, Any]], AsyncIterator[Resp]],
) -> Callable[[Self, Req, grpc.aio.ServicerContext[Any, Any]], AsyncIterator[Resp]]:
    """`rpc` for server-streaming methods: an error before the first message leaves as the
    right status code (the gateway turns it into an HTTP status and a JSON error).

    An error after it resets the stream instead (gRPC clients see CANCELLED, REST clients a
    body that stops without its last chunk): once a transcoded body has begun, Envoy drops
    the trailers with the error status and ends the HTTP/1.1 body cleanly, so a cut-short
    download would look whole. grpc.aio has no call to reset a stream; a handler ending in
    CancelledError makes it cancel the call (RST_STREAM), which Envoy passes on."""

    @functools.wraps(method)
    async def wrapper(
        self: Self, request: Req, context: grpc.aio.ServicerContext[Any, Any]
    ) -> AsyncIterator[Resp]:
        sent = False
        try:
            async for message in method(self, request, context):
                yield message
                sent = True
        except grpc.aio.AbortError:
            raise
        except Exception as error:
            if sent:
                log.warning("stream reset after it began: %s", error)
                raise asyncio.CancelledError from error
            await abort(context, error)

    return wrapper
