"""Unit tests of the OpenAPI generator (gateway/openapi.py, gateway/openapi_schemas.py): every
REST binding of the public services is described, with the transcoder's JSON conventions, and
the committed description (protos/openapi/pods-v1.json) is what the generator makes now."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from google.api import annotations_pb2
from google.protobuf import descriptor_pb2

from gateway import openapi
from gateway.descriptor import build_descriptor_set
from gateway.openapi import DESCRIBED_SERVICES

COMMITTED = Path(__file__).resolve().parents[3] / "protos" / "openapi" / "pods-v1.json"


@pytest.fixture(scope="module")
def descriptor_set(tmp_path_factory: pytest.TempPathFactory) -> descriptor_pb2.FileDescriptorSet:
    path = build_descriptor_set(tmp_path_factory.mktemp("openapi") / "pods.pb")
    return descriptor_pb2.FileDescriptorSet.FromString(path.read_bytes())


@pytest.fixture(scope="module")
def document(descriptor_set: descriptor_pb2.FileDescriptorSet) -> dict[str, Any]:
    result: dict[str, Any] = json.loads(openapi.render(openapi.openapi_document(descriptor_set)))
    return result


def _schema(document: dict[str, Any], name: str) -> dict[str, Any]:
    result: dict[str, Any] = document["components"]["schemas"][name]
    return result


def _bindings(descriptor_set: descriptor_pb2.FileDescriptorSet) -> set[tuple[str, str]]:
    found: set[tuple[str, str]] = set()
    for file in descriptor_set.file:
        for service in file.service:
            if f"{file.package}.{service.name}" not in DESCRIBED_SERVICES:
                continue
            for method in service.method:
                rule = method.options.Extensions[annotations_pb2.http]
                for each in (rule, *rule.additional_bindings):
                    verb = each.WhichOneof("pattern")
                    if verb is not None:
                        path = re.sub(r"\{(\w+)=\*\*\}", r"{\1}", getattr(each, verb))
                        found.add((path, verb))
    return found


def test_committed_description_is_current(document: dict[str, Any]) -> None:
    assert json.loads(COMMITTED.read_text()) == document


def test_every_public_binding_is_an_operation(
    descriptor_set: descriptor_pb2.FileDescriptorSet, document: dict[str, Any]
) -> None:
    described = {(path, verb) for path, item in document["paths"].items() for verb in item}
    bindings = _bindings(descriptor_set)
    assert bindings
    assert described == bindings
    assert ("/v3/pods/{pod_id}", "get") in described
    assert ("/v3/pods/{pod_id}:start", "post") in described
    ids = [op["operationId"] for item in document["paths"].values() for op in item.values()]
    assert len(ids) == len(set(ids))
    assert document["openapi"] == "3.1.0"


def test_parameters_bodies_and_responses(document: dict[str, Any]) -> None:
    get = document["paths"]["/v3/pods/{pod_id}"]["get"]
    (param,) = get["parameters"]
    assert param == {
        "name": "pod_id",
        "in": "path",
        "description": "Required. Id of the pod.",
        "required": True,
        "schema": {"type": "string"},
    }
    assert get["responses"]["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/pods.v1.GetPodResponse"
    }
    error = document["components"]["responses"]["Error"]
    assert error["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Error"}
    for status in ("4XX", "default"):
        assert get["responses"][status] == {"$ref": "#/components/responses/Error"}
    assert get["summary"] == "Gets one pod"
    # body: "pod" is the pod itself; body: "*" the request without its path fields.
    create = document["paths"]["/v3/pods"]["post"]
    assert create["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/pods.v1.Pod"
    }
    assert create["requestBody"]["required"] is True
    exec_body = document["paths"]["/v3/pods/{pod_id}/exec"]["post"]["requestBody"]
    exec_schema = exec_body["content"]["application/json"]["schema"]
    assert "pod_id" not in exec_schema["properties"]
    assert exec_body["required"] is ("required" in exec_schema)
    token_body = document["paths"]["/v3/oauth2/tokens"]["post"]["requestBody"]
    assert token_body["required"] is True
    assert exec_schema["properties"]
    # A raw upload and a download are bodies, not JSON.
    upload = document["paths"]["/v3/pods/volumes/{volume_id}/upload/{path}"]["post"]
    assert "*/*" in upload["requestBody"]["content"]
    download = document["paths"]["/v3/pods/volumes/{volume_id}/contents/{path}"]["get"]
    assert "*/*" in download["responses"]["200"]["content"]


def test_server_sent_events_are_described(document: dict[str, Any]) -> None:
    events = document["paths"]["/v3/pods/{pod_id}/events"]["get"]
    assert list(events["responses"]["200"]["content"]) == ["text/event-stream"]
    assert {"name": "Last-Event-ID", "in": "header"}.items() <= events["parameters"][-1].items()
    # `?watch=true` and `?follow=true` share a path with ListPods and GetPodLogs: the same
    # operation, with the switch and a second content type.
    for path, switch in (("/v3/pods", "watch"), ("/v3/pods/{pod_id}/logs", "follow")):
        shared = document["paths"][path]["get"]
        assert shared["operationId"].startswith("PodsService_")
        (flag,) = [p for p in shared["parameters"] if p["name"] == switch]
        assert flag["schema"] == {"type": "boolean"} and flag["required"] is False
        assert set(shared["responses"]["200"]["content"]) == {
            "application/json",
            "text/event-stream",
        }
        assert f"With `{switch}=true`" in shared["description"]
    assert "buf:lint" not in json.dumps(document)


def test_responses_are_the_tapis_envelope(document: dict[str, Any]) -> None:
    for name, schema in document["components"]["schemas"].items():
        if name.startswith("pods.v1.") and name.endswith("Response"):
            assert {"result", "status", "message", "version", "metadata"} <= set(
                schema["properties"]
            ), name
    metadata = _schema(document, "pods.v1.GetPodResponse")["properties"]["metadata"]
    assert metadata["type"] == "object"


def test_json_conventions(document: dict[str, Any]) -> None:
    pod = _schema(document, "pods.v1.Pod")
    # Proto field names, as the transcoder prints them (preserve_proto_field_names).
    assert "pod_id" in pod["properties"]
    assert "podId" not in pod["properties"]
    assert _schema(document, "pods.v1.VolumeMount")["required"] == ["mount_path"]
    mounts = pod["properties"]["volume_mounts"]
    assert mounts["type"] == "object"
    assert mounts["additionalProperties"] == {"$ref": "#/components/schemas/pods.v1.VolumeMount"}
    read_only = [name for name, prop in pod["properties"].items() if prop.get("readOnly")]
    assert "status" in read_only
    assert pod["properties"]["pod_id"]["description"]


def test_security_is_the_tapis_token(document: dict[str, Any]) -> None:
    scheme = document["components"]["securitySchemes"]["TapisToken"]
    assert scheme == {
        "type": "apiKey",
        "in": "header",
        "name": "X-Tapis-Token",
        "description": "A Tapis access token (a JWT).",
    }
    assert document["security"] == [{"TapisToken": []}]
    assert document["paths"]["/v3/oauth2/tokens"]["post"]["security"] == []
    assert "security" not in document["paths"]["/v3/pods"]["get"]


def test_tags_carry_the_service_comments(document: dict[str, Any]) -> None:
    tags = {tag["name"]: tag["description"] for tag in document["tags"]}
    assert set(tags) == {name.rpartition(".")[2] for name in DESCRIBED_SERVICES}
    assert tags["PodsService"].startswith("PodsService serves pods")


def _synthetic() -> descriptor_pb2.FileDescriptorSet:
    """One service with an enum, an int64 and a query parameter, as a descriptor set."""
    file = descriptor_pb2.FileDescriptorProto(name="t/v1/t.proto", package="t.v1", syntax="proto3")
    color = file.enum_type.add(name="Color")
    color.value.add(name="COLOR_UNSPECIFIED", number=0)
    color.value.add(name="RED", number=1)
    request = file.message_type.add(name="PaintRequest")
    request.field.add(name="thing_id", number=1, type=9, label=1)
    request.field.add(name="color", number=2, type=14, type_name=".t.v1.Color", label=1)
    request.field.add(name="coats", number=3, type=3, label=1)
    file.message_type.add(name="PaintResponse").field.add(
        name="color", number=1, type=14, type_name=".t.v1.Color", label=1
    )
    service = file.service.add(name="Painter")
    method = service.method.add(
        name="Paint", input_type=".t.v1.PaintRequest", output_type=".t.v1.PaintResponse"
    )
    method.options.Extensions[annotations_pb2.http].get = "/v3/things/{thing_id}/paint"
    return descriptor_pb2.FileDescriptorSet(file=[file])


def test_enums_are_strings_and_int64_are_decimal_strings() -> None:
    document = openapi.openapi_document(_synthetic(), ["t.v1.Painter"])
    assert _schema(document, "t.v1.Color") == {
        "type": "string",
        "enum": ["COLOR_UNSPECIFIED", "RED"],
    }
    operation = document["paths"]["/v3/things/{thing_id}/paint"]["get"]
    params = {p["name"]: (p["in"], p["schema"]) for p in operation["parameters"]}
    assert params["thing_id"] == ("path", {"type": "string"})
    assert params["color"] == ("query", {"$ref": "#/components/schemas/t.v1.Color"})
    assert params["coats"][1]["type"] == "string"
    assert params["coats"][1]["format"] == "int64"
    assert operation["operationId"] == "Painter_Paint"


def test_a_networking_stanza_admits_no_other_field(document: dict[str, Any]) -> None:
    """The gateway refuses unknown stanza fields (gateway/body_checks.py), so the description
    says so; other messages stay open (the transcoder drops what they do not define)."""
    assert _schema(document, "pods.v1.Networking")["additionalProperties"] is False
    assert "additionalProperties" not in _schema(document, "pods.v1.Pod")
