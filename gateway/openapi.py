"""Generates the API's OpenAPI 3.1 description from the protos: the REST paths the gateway's
transcoder serves (the `google.api.http` bindings of the public services,
gateway/public_api.py), their path and query parameters, request bodies and responses.

Called by scripts/gen_protos.py, which writes the result to protos/openapi/pods-v1.json (and
`--check` fails when that file is stale); the gateway serves that file at
/v3/pods/openapi.json (gateway/api_docs.py). No maintained generator emits OpenAPI 3.1 from
protos with the transcoder's JSON conventions, so this one is ours: the schemas are in
gateway/openapi_schemas.py. Responses are the response messages, which carry the Tapis envelope
(`result`, `status`, `message`, `version`, `metadata`); errors are the transcoder's
`{code, message, details}`.
"""

from __future__ import annotations

import json
import re
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from google.api import annotations_pb2, http_pb2
from google.protobuf import descriptor_pb2

from gateway.descriptor import build_descriptor_set
from gateway.openapi_schemas import (
    HTTP_BODY,
    WELL_KNOWN,
    DescriptorIndex,
    FieldProto,
    JsonSchema,
    SchemaBuilder,
    behaviours,
    ref,
)
from gateway.public_api import PUBLIC_SERVICES, STREAMS_SERVICE

TITLE = "Pods service API"
API_VERSION = "v1"
TOKEN_HEADER = "X-Tapis-Token"  # noqa: S105 - a header name, not a secret
# Services whose calls need no token: the development identity lists sites and tenants and
# issues tokens (services/api/transport/identity_servicer.py).
NO_TOKEN_SERVICES = frozenset({"pods.v1.IdentityService"})
ERROR_SCHEMA = "Error"
_OBJECTS = ("Struct", "Value", "ListValue", "Empty", "Any")
# Well-known messages whose JSON form is a string or number, and so a query parameter.
QUERY_WELL_KNOWN = frozenset(name for name in WELL_KNOWN if name.rpartition(".")[2] not in _OBJECTS)
_VERBS = ("get", "put", "post", "delete", "patch")
_VARIABLE = re.compile(r"\{([^}=]+)(=[^}]*)?\}")
_FIRST_SENTENCE = re.compile(r"^(.+?\.)(\s|$)", re.DOTALL)
EVENT_STREAM = "text/event-stream"
# PodStreamsService's Server-Sent Events: its bindings that share a path and verb with a
# PodsService call (`GET /v3/pods?watch=true`, `GET /v3/pods/{pod_id}/logs?follow=true`) are
# described on that call (its switch parameter, and a second response content type).
DESCRIBED_SERVICES = (*PUBLIC_SERVICES, STREAMS_SERVICE)
LAST_EVENT_ID = {
    "name": "Last-Event-ID",
    "in": "header",
    "required": False,
    "description": "The id of the last event received: the stream resumes after it.",
    "schema": {"type": "string"},
}


def _binding(rule: http_pb2.HttpRule) -> tuple[str, str] | None:
    for verb in _VERBS:
        template = getattr(rule, verb)
        if template:
            return verb, template
    if rule.HasField("custom"):
        return rule.custom.kind.lower(), rule.custom.path
    return None


def _summary(comment: str, fallback: str) -> str:
    text = " ".join(comment.split())
    match = _FIRST_SENTENCE.match(text)
    summary = match.group(1) if match else text
    return summary[:-1] if summary.endswith(".") else summary or fallback


class OpenApiBuilder:
    """Collects operations of the public services into one OpenAPI 3.1 document."""

    def __init__(self, index: DescriptorIndex) -> None:
        self.index = index
        self.schemas = SchemaBuilder(index)
        self.paths: dict[str, dict[str, Any]] = {}
        self.tags: list[dict[str, str]] = []

    def add_service(self, full_name: str) -> None:
        declared = self.index.services[full_name]
        short = full_name.rpartition(".")[2]
        self.tags.append({"name": short, "description": declared.comment})
        for method in declared.proto.method:
            rule = method.options.Extensions[annotations_pb2.http]
            rules = [rule, *rule.additional_bindings]
            for number, each in enumerate(rules):
                found = _binding(each)
                if found is None:
                    continue
                verb, template = found
                suffix = "" if number == 0 else f"_{number + 1}"
                operation = self._operation(
                    full_name, method, declared.children.get(method.name, ""), each, template
                )
                operation["operationId"] = f"{short}_{method.name}{suffix}"
                operation["tags"] = [short]
                path = _VARIABLE.sub(lambda m: "{" + m.group(1) + "}", template)
                shared = self.paths.get(path, {}).get(verb)
                if method.server_streaming and shared is not None:
                    _add_stream_variant(shared, operation)
                else:
                    self.paths.setdefault(path, {})[verb] = operation

    def _operation(
        self,
        service: str,
        method: descriptor_pb2.MethodDescriptorProto,
        comment: str,
        rule: http_pb2.HttpRule,
        template: str,
    ) -> dict[str, Any]:
        request = self.index.message(method.input_type)
        fields = {f.name: f for f in request.proto.field}
        path_names = [m.group(1) for m in _VARIABLE.finditer(template)]
        parameters: list[dict[str, Any]] = []
        for name in path_names:
            top = fields[name.split(".")[0]]
            parameters.append(self._parameter(name, "path", top, request.children.get(top.name)))
        used = {name.split(".")[0] for name in path_names}
        operation: dict[str, Any] = {"summary": _summary(comment, method.name)}
        if comment:
            operation["description"] = comment
        if rule.body == "*":
            body = self.schemas.object_schema(request, frozenset(used))
            operation["requestBody"] = self._json_body(body, required="required" in body)
            used |= set(fields)
        elif rule.body:
            body_field = fields[rule.body]
            operation["requestBody"] = self._field_body(body_field)
            used.add(rule.body)
        for proto_field in request.proto.field:
            if proto_field.name not in used:
                parameters.extend(self._query(proto_field, request.children))
        if parameters:
            operation["parameters"] = parameters
        operation["responses"] = self._responses(service, method, rule)
        if service == STREAMS_SERVICE:
            operation.setdefault("parameters", []).append(LAST_EVENT_ID)
        if service in NO_TOKEN_SERVICES:
            operation["security"] = []
        return operation

    def _parameter(
        self, name: str, where: str, proto_field: FieldProto, description: str | None
    ) -> dict[str, Any]:
        schema = self.schemas.field_schema(proto_field)
        schema.pop("readOnly", None)
        parameter: dict[str, Any] = {"name": name, "in": where}
        if description:
            parameter["description"] = description
        if where == "path" or "REQUIRED" in behaviours(proto_field):
            parameter["required"] = True
        parameter["schema"] = schema
        return parameter

    def _query(
        self, proto_field: FieldProto, comments: dict[str, str], prefix: str = "", depth: int = 0
    ) -> list[dict[str, Any]]:
        """Query parameters for a field: scalars, enums and repeated scalars as themselves,
        message fields as their own fields with dotted names (a few levels deep)."""
        name = prefix + proto_field.name
        if "OUTPUT_ONLY" in behaviours(proto_field):
            return []
        type_name = proto_field.type_name.lstrip(".")
        if proto_field.type != FieldProto.TYPE_MESSAGE or type_name in QUERY_WELL_KNOWN:
            return [self._parameter(name, "query", proto_field, comments.get(proto_field.name))]
        nested = self.index.messages.get(proto_field.type_name.lstrip("."))
        if nested is None or depth >= 2 or proto_field.label == FieldProto.LABEL_REPEATED:
            return []
        found: list[dict[str, Any]] = []
        for child in nested.proto.field:
            found.extend(self._query(child, nested.children, f"{name}.", depth + 1))
        return found

    def _json_body(self, schema: JsonSchema, *, required: bool) -> dict[str, Any]:
        return {"required": required, "content": {"application/json": {"schema": schema}}}

    def _field_body(self, proto_field: FieldProto) -> dict[str, Any]:
        if proto_field.type_name.lstrip(".") == HTTP_BODY:
            binary = {"type": "string", "contentMediaType": "application/octet-stream"}
            return {"required": True, "content": {"*/*": {"schema": binary}}}
        schema = self.schemas.field_schema(proto_field)
        return self._json_body(schema, required="REQUIRED" in behaviours(proto_field))

    def _responses(
        self, service: str, method: descriptor_pb2.MethodDescriptorProto, rule: http_pb2.HttpRule
    ) -> dict[str, Any]:
        output = method.output_type.lstrip(".")
        ok: dict[str, Any]
        if output == HTTP_BODY and service == STREAMS_SERVICE:
            ok = {"description": "Server-Sent Events.", "content": {EVENT_STREAM: _SSE_BODY}}
        elif output == HTTP_BODY:
            binary = {"type": "string", "contentMediaType": "application/octet-stream"}
            ok = {"description": "The content, as it is.", "content": {"*/*": {"schema": binary}}}
        else:
            schema = self.schemas.message_ref(output)
            if rule.response_body:
                response = self.index.message(output)
                body = next(f for f in response.proto.field if f.name == rule.response_body)
                schema = self.schemas.field_schema(body)
            if method.server_streaming:
                schema = {"type": "array", "items": schema}
            ok = {
                "description": "Success, in the Tapis envelope.",
                "content": {"application/json": {"schema": schema}},
            }
        error = {"$ref": f"#/components/responses/{ERROR_SCHEMA}"}
        return {"200": ok, "4XX": error, "default": error}

    def document(self) -> dict[str, Any]:
        """The OpenAPI document of the services added so far."""
        components = dict(sorted(self.schemas.components.items()))
        components[ERROR_SCHEMA] = {
            "type": "object",
            "description": "An error reply: the transcoded gRPC status, or the gateway's own.",
            "properties": {
                "code": {"type": "integer", "description": "The gRPC status code."},
                "message": {"type": "string", "description": "What went wrong."},
                "details": {"type": "array", "items": {}},
            },
        }
        return {
            "openapi": "3.1.0",
            "info": {
                "title": TITLE,
                "version": API_VERSION,
                "description": (
                    "The Pods service's REST API, transcoded from its gRPC services by the "
                    "gateway; generated from protos/ by scripts/gen_protos.py. JSON uses the "
                    "proto field names; every response is the Tapis envelope `{result, status, "
                    "message, version, metadata}`."
                ),
                "license": {"name": "BSD-3-Clause", "identifier": "BSD-3-Clause"},
            },
            "servers": [{"url": "/", "description": "The gateway serving this document."}],
            "security": [{"TapisToken": []}],
            "tags": self.tags,
            "paths": self.paths,
            "components": {
                "schemas": components,
                "responses": {
                    ERROR_SCHEMA: {
                        "description": "An error: the gRPC status code and message (a 4xx for "
                        "the caller's mistakes, 5xx for the service's).",
                        "content": {"application/json": {"schema": ref(ERROR_SCHEMA)}},
                    }
                },
                "securitySchemes": {
                    "TapisToken": {
                        "type": "apiKey",
                        "in": "header",
                        "name": TOKEN_HEADER,
                        "description": "A Tapis access token (a JWT).",
                    }
                },
            },
        }


_SSE_BODY = {
    "schema": {
        "type": "string",
        "description": "`event:`, `id:` and `data:` lines (data is one JSON object), an empty "
        "line after each event, and a `: keep-alive` comment after 15 s of silence.",
    }
}


def _add_stream_variant(shared: dict[str, Any], stream: dict[str, Any]) -> None:
    """Describes a Server-Sent Events binding on the call whose path and verb it shares: its
    switch (a boolean query parameter that is not a path parameter), Last-Event-ID, and the
    event stream as a second content type of the 200 response."""
    parameters = shared.setdefault("parameters", [])
    known = {p["name"] for p in parameters}
    for parameter in stream.get("parameters", []):
        if parameter["in"] == "query" and parameter["name"] not in known:
            parameters.append(
                {
                    "name": parameter["name"],
                    "in": "query",
                    "required": False,
                    "description": f"true: a stream of Server-Sent Events ({EVENT_STREAM}) "
                    f"instead of one answer. {stream['summary']}",
                    "schema": {"type": "boolean"},
                }
            )
    if LAST_EVENT_ID not in parameters:
        parameters.append(LAST_EVENT_ID)
    shared["description"] = (
        f"{shared.get('description', '')}\n\nWith `{_switch(stream)}=true`: {stream['description']}"
    ).strip()
    shared["responses"]["200"]["content"][EVENT_STREAM] = _SSE_BODY


def _switch(stream: dict[str, Any]) -> str:
    return str(next(p["name"] for p in stream["parameters"] if p["in"] == "query"))


def openapi_document(
    descriptor_set: descriptor_pb2.FileDescriptorSet, services: Sequence[str] = DESCRIBED_SERVICES
) -> dict[str, Any]:
    """The OpenAPI 3.1 document of `services` in `descriptor_set` (needs source info)."""
    builder = OpenApiBuilder(DescriptorIndex(descriptor_set))
    for service in services:
        builder.add_service(service)
    return builder.document()


def render(document: dict[str, Any]) -> str:
    """The document as committed: indented JSON, a newline at the end."""
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def generate_openapi(target: Path) -> Path:
    """Compiles protos/ and writes the OpenAPI document of the public services to `target`."""
    with tempfile.TemporaryDirectory() as tmp:
        descriptor_path = build_descriptor_set(Path(tmp) / "pods.pb")
        descriptor_set = descriptor_pb2.FileDescriptorSet.FromString(descriptor_path.read_bytes())
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(render(openapi_document(descriptor_set)))
    return target
