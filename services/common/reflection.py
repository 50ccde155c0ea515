"""gRPC server reflection (what `grpcurl list` and `describe` ask) for a grpc.aio server, in
both versions clients use: grpc.reflection.v1alpha from grpcio-reflection, and
grpc.reflection.v1, which grpcio-reflection does not ship but whose messages are the same on
the wire (v1 is v1alpha renamed), so the same servicer answers it.

Called by the api's wiring (services/api/server.py) for its public services; the gateway routes
both versions to the api (gateway/api_docs.py).
"""

from __future__ import annotations

from collections.abc import Iterable

import grpc
from grpc_reflection.v1alpha import _async, reflection, reflection_pb2, reflection_pb2_grpc

V1ALPHA = reflection.SERVICE_NAME  # grpc.reflection.v1alpha.ServerReflection
V1 = "grpc.reflection.v1.ServerReflection"
METHOD = "ServerReflectionInfo"


def enable_reflection(server: grpc.aio.Server, service_names: Iterable[str]) -> None:
    """Lets clients list and describe `service_names` (and reflection itself) on `server`."""
    names = (*service_names, V1, V1ALPHA)
    # The asyncio servicer enable_server_reflection would pick (`reflection.aio` is this module,
    # not exported for type checkers).
    servicer = _async.ReflectionServicer(names)
    reflection_pb2_grpc.add_ServerReflectionServicer_to_server(servicer, server)
    handler = grpc.method_handlers_generic_handler(
        V1,
        {
            METHOD: grpc.stream_stream_rpc_method_handler(
                servicer.ServerReflectionInfo,
                request_deserializer=reflection_pb2.ServerReflectionRequest.FromString,
                response_serializer=reflection_pb2.ServerReflectionResponse.SerializeToString,
            )
        },
    )
    server.add_generic_rpc_handlers((handler,))
