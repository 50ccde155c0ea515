"""Unit tests of gRPC server reflection (services/common/reflection.py): a grpc.aio server
answers both grpc.reflection.v1alpha and grpc.reflection.v1 with the services it names, and
describes them from the generated code's descriptors."""

from __future__ import annotations

import grpc
import pytest
from grpc_reflection.v1alpha import reflection_pb2

from services.common import reflection
from services.common.generated.pods.v1 import pods_service_pb2  # noqa: F401 - registers it

PUBLIC = ("pods.v1.PodsService",)


@pytest.mark.parametrize("service", [reflection.V1ALPHA, reflection.V1])
async def test_both_versions_list_and_describe(service: str) -> None:
    server = grpc.aio.server()
    reflection.enable_reflection(server, PUBLIC)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
            info = channel.stream_stream(
                f"/{service}/{reflection.METHOD}",
                request_serializer=reflection_pb2.ServerReflectionRequest.SerializeToString,
                response_deserializer=reflection_pb2.ServerReflectionResponse.FromString,
            )
            requests = [
                reflection_pb2.ServerReflectionRequest(list_services=""),
                reflection_pb2.ServerReflectionRequest(
                    file_containing_symbol="pods.v1.PodsService"
                ),
            ]
            answers = [answer async for answer in info(iter(requests), timeout=10)]
    finally:
        await server.stop(None)
    listed = {s.name for s in answers[0].list_services_response.service}
    assert listed == {*PUBLIC, reflection.V1, reflection.V1ALPHA}
    assert answers[1].file_descriptor_response.file_descriptor_proto
