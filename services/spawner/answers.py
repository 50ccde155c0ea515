"""How the spawner's internal servicers turn a seam's error into a gRPC status: the caller's
adapter (services/api/remote_volumes.py, services/health/remote_runtime.py) maps the code back
to the same error. Used by storage_servicer.py and observe_servicer.py."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, NoReturn, TypeVar

import grpc

log = logging.getLogger(__name__)
Context = grpc.aio.ServicerContext[Any, Any]
T = TypeVar("T")


@dataclass(frozen=True)
class Answers:
    """Aborts with `code_for(error)`; an error with no code is a bug: logged, INTERNAL."""

    code_for: Callable[[Exception], grpc.StatusCode | None]
    failure: str  # what the caller reads for an INTERNAL failure, e.g. "the volume store failed"

    async def abort(self, context: Context, error: Exception) -> NoReturn:
        code = self.code_for(error)
        if code is None:
            log.exception("%s", self.failure, exc_info=error)
            await context.abort(grpc.StatusCode.INTERNAL, self.failure)
        await context.abort(code, str(error))

    async def answer(self, context: Context, call: Awaitable[T]) -> T:
        """The result of `call`, or the call aborted with the code of the seam's error."""
        try:
            return await call
        except Exception as error:
            await self.abort(context, error)
