"""The interceptors every gRPC server of ours runs (services/common/grpc_server.py `new_server`):
`ObservingInterceptor` (a grpc-interceptor `AsyncServerInterceptor`) counts and times each
call in the `grpc_server_*` metrics (services/common/metrics.py) and sets the log context
(services/common/log_setup.py) for it: the request id (the `x-request-id` metadata Envoy sends,
or a new one), the pod (a request's `pod_id`) and the trace id; and, when tracing is on,
OpenTelemetry's own server interceptor (services/common/tracing.py) ahead of it, which continues
a `traceparent` from the metadata.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import grpc
from grpc_interceptor.server import AsyncServerInterceptor

from services.common import metrics, tracing
from services.common.log_setup import log_context

REQUEST_ID_METADATA = "x-request-id"


def split_method(method_name: str) -> tuple[str, str]:
    """`/pods.v1.PodsService/CreatePod` → (`pods.v1.PodsService`, `CreatePod`)."""
    service, _, method = method_name.lstrip("/").rpartition("/")
    return service or "unknown", method


def request_id_of(context: Any) -> str:
    """The caller's request id (Envoy's `x-request-id`), or a new one."""
    for key, value in context.invocation_metadata() or ():
        if key == REQUEST_ID_METADATA and value:
            return str(value)
    return uuid.uuid4().hex


def _code_name(context: Any, default: grpc.StatusCode) -> str:
    code = context.code()
    if isinstance(code, grpc.StatusCode):
        return str(code.name)
    return default.name


class ObservingInterceptor(AsyncServerInterceptor):
    """Metrics and log context for every call, unary or streaming."""

    async def intercept(
        self,
        method: Callable[[Any, Any], Any],
        request_or_iterator: Any,
        context: grpc.aio.ServicerContext[Any, Any],
        method_name: str,
    ) -> Any:
        service, name = split_method(method_name)
        metrics.GRPC_STARTED.labels(grpc_service=service, grpc_method=name).inc()
        scope = {
            "request_id": request_id_of(context),
            "pod": str(getattr(request_or_iterator, "pod_id", "") or ""),
            "trace_id": tracing.current_trace_id(),
        }
        start = time.perf_counter()
        with log_context(**scope):
            response = method(request_or_iterator, context)
            if hasattr(response, "__aiter__"):
                return self._streamed(response, context, scope, (service, name, start))
            try:
                result = await response
            except BaseException:
                self._done(context, (service, name, start), grpc.StatusCode.UNKNOWN)
                raise
            self._done(context, (service, name, start), grpc.StatusCode.OK)
            return result

    async def _streamed(
        self,
        responses: AsyncIterator[Any],
        context: Any,
        scope: dict[str, str],
        call: tuple[str, str, float],
    ) -> AsyncIterator[Any]:
        with log_context(**scope):
            try:
                async for response in responses:
                    yield response
            except BaseException:
                self._done(context, call, grpc.StatusCode.UNKNOWN)
                raise
            self._done(context, call, grpc.StatusCode.OK)

    @staticmethod
    def _done(context: Any, call: tuple[str, str, float], default: grpc.StatusCode) -> None:
        service, name, start = call
        code = _code_name(context, default)
        metrics.GRPC_HANDLED.labels(grpc_service=service, grpc_method=name, grpc_code=code).inc()
        metrics.GRPC_HANDLING.labels(grpc_service=service, grpc_method=name).observe(
            time.perf_counter() - start
        )


def server_interceptors() -> list[Any]:
    """The interceptors of a server: tracing (when on) first, so the context is set for ours."""
    return [*tracing.server_interceptors(), ObservingInterceptor()]
