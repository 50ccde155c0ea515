"""The body check Envoy runs before transcoding (services/api/transport/body_check.py): an
unknown field inside a networking stanza is refused with 400 naming it; everything else goes
on to the transcoder unchanged (unknown top-level fields included, as Tapis clients may send
fields of newer Tapis versions)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

from envoy.service.ext_proc.v3 import external_processor_pb2 as ext_proc

from services.api.transport.body_check import NetworkingBodyCheck, reply_for, unknown_stanza_field


def body(value: object) -> bytes:
    return json.dumps(value).encode()


def test_an_unknown_stanza_field_is_named_with_its_stanza() -> None:
    problem = unknown_stanza_field(
        body({"pod_id": "a", "networking": {"default": {"port": 80}, "web": {"colour": "red"}}})
    )
    assert problem is not None
    assert problem.startswith("networking.web.colour: unknown field")
    assert "ip_allow_list" in problem  # the known fields are listed


def test_known_fields_pass_by_proto_name_and_by_json_name() -> None:
    stanza = {"protocol": "http", "port": 80, "ip_allow_list": [], "corsAllowOrigins": ["*"]}
    assert unknown_stanza_field(body({"networking": {"default": stanza}})) is None


def test_unknown_top_level_fields_and_other_bodies_pass() -> None:
    assert unknown_stanza_field(body({"pod_id": "a", "secret_map": {}})) is None
    assert unknown_stanza_field(b"") is None
    assert unknown_stanza_field(b"not json") is None  # the transcoder refuses it
    assert unknown_stanza_field(body([1, 2])) is None
    assert unknown_stanza_field(body({"networking": "x"})) is None
    assert unknown_stanza_field(body({"networking": {"web": 5}})) is None


def test_the_reply_is_an_immediate_400_or_go_on() -> None:
    refused = reply_for(body({"networking": {"web": {"tapis_auht": True}}}))
    assert refused.HasField("immediate_response")
    assert refused.immediate_response.status.code == 400
    assert b"networking.web.tapis_auht" in refused.immediate_response.body
    assert reply_for(body({"networking": {"web": {"port": 80}}})).HasField("request_body")


async def test_the_service_answers_each_body_it_is_sent() -> None:
    async def requests() -> AsyncIterator[Any]:
        yield ext_proc.ProcessingRequest(
            request_body=ext_proc.HttpBody(body=body({"networking": {"w": {"x": 1}}}))
        )

    replies = [r async for r in NetworkingBodyCheck().Process(requests(), None)]
    assert [r.WhichOneof("response") for r in replies] == ["immediate_response"]
