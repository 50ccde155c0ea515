"""Hypothesis strategies for REST requests, derived from the protos' descriptors: for each
`google.api.http` binding of the public services, a path with its variables filled, a query
string from the fields that are neither in the path nor in the body, and a JSON body shaped
like the request message — mostly well typed, sometimes with wrong types, unknown fields or
bytes that are not JSON at all. Used by test_fuzz_rest.py."""

from __future__ import annotations

import base64
import json
import re
import urllib.parse
from dataclasses import dataclass
from typing import Any

from google.api import annotations_pb2
from google.protobuf.descriptor import Descriptor, FieldDescriptor, ServiceDescriptor
from hypothesis import strategies as st

from gateway.public_api import PUBLIC_SERVICES
from services.common.generated.pods.v1 import (
    identity_service_pb2,
    misc_service_pb2,
    pod_auth_service_pb2,
    pod_files_service_pb2,
    pods_service_pb2,
    snapshots_service_pb2,
    template_tags_service_pb2,
    templates_service_pb2,
    volumes_service_pb2,
)

VARIABLE_RE = re.compile(r"\{([a-z_]+)(=\*\*)?\}")
_DECLARED: dict[str, ServiceDescriptor] = {
    service.full_name: service
    for module in (
        pods_service_pb2,
        templates_service_pb2,
        template_tags_service_pb2,
        volumes_service_pb2,
        snapshots_service_pb2,
        identity_service_pb2,
        pod_files_service_pb2,
        misc_service_pb2,
        pod_auth_service_pb2,
    )
    for service in module.DESCRIPTOR.services_by_name.values()
}
# The services the gateway serves (a KeyError here: a public service whose module is missing).
SERVICES: list[ServiceDescriptor] = [_DECLARED[name] for name in PUBLIC_SERVICES]


@dataclass(frozen=True)
class Binding:
    """One REST binding of an RPC."""

    rpc: str
    method: str
    template: str  # e.g. /v3/pods/{pod_id}
    body: str  # "", "*" or a field name
    request: Descriptor

    @property
    def path_fields(self) -> list[str]:
        return [m.group(1) for m in VARIABLE_RE.finditer(self.template)]

    def __str__(self) -> str:
        return f"{self.rpc} {self.method} {self.template}"


@dataclass(frozen=True)
class Request:
    """A concrete request to send."""

    binding: Binding
    method: str
    path: str
    body: bytes | None
    content_type: str


def bindings() -> list[Binding]:
    """Every REST binding of the public services."""
    found: list[Binding] = []
    for service in SERVICES:
        for method in service.methods:
            rule = method.GetOptions().Extensions[annotations_pb2.http]
            for each in [rule, *rule.additional_bindings]:
                verb = each.WhichOneof("pattern")
                if verb and verb != "custom":
                    template = getattr(each, verb)
                    found.append(
                        Binding(method.name, verb.upper(), template, each.body, method.input_type)
                    )
    return found


# -- values ---------------------------------------------------------------------------------

# Strings that a careless implementation mishandles, mixed with plausible identifiers.
NASTY = [
    "",
    " ",
    "..",
    "../../etc/passwd",
    "/etc/shadow",
    "%2e%2e%2f",
    "a" * 300,
    "x" * 5000,
    "\x00",
    "é",
    "😀",
    "'; DROP TABLE pods; --",
    "${jndi:ldap://x}",
    "$(reboot)",
    "`id`",
    "*",
    "ubuntu.evil.com/x:1",
    "-1",
    "null",
    "READ",
    "ADMIN",
    "ON",
    "OFF",
    "template/neo4j",
    "postgres",
    "pods-http:latest",
]
identifiers = st.from_regex(r"[a-z][a-z0-9]{2,20}", fullmatch=True)
any_text = st.text(min_size=0, max_size=80)
strings = st.one_of(st.sampled_from(NASTY), identifiers, any_text)
int32s = st.one_of(
    st.sampled_from([0, -1, 1, 5, 300, 43200, 2**31 - 1, -(2**31)]),
    st.integers(-(2**31), 2**31 - 1),
)
json_scalars = st.one_of(st.none(), st.booleans(), int32s, strings, st.floats(allow_nan=False))
wrong_types = st.one_of(
    json_scalars,
    st.lists(json_scalars, max_size=3),
    st.dictionaries(strings, json_scalars, max_size=3),
    st.integers(min_value=2**40, max_value=2**70),
)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _scalar(field: FieldDescriptor) -> st.SearchStrategy[Any]:
    kind = field.type
    if kind == FieldDescriptor.TYPE_BOOL:
        return st.booleans()
    if kind in (FieldDescriptor.TYPE_INT32, FieldDescriptor.TYPE_SINT32):
        return int32s
    if kind in (FieldDescriptor.TYPE_INT64, FieldDescriptor.TYPE_UINT64):
        return st.one_of(int32s, int32s.map(str))
    if kind == FieldDescriptor.TYPE_BYTES:
        return st.binary(max_size=64).map(_b64)
    if kind == FieldDescriptor.TYPE_ENUM:
        assert field.enum_type is not None
        return st.sampled_from([v.name for v in field.enum_type.values])
    if kind in (FieldDescriptor.TYPE_DOUBLE, FieldDescriptor.TYPE_FLOAT):
        return st.floats(allow_nan=False, allow_infinity=False)
    return strings


def _well_known(name: str) -> st.SearchStrategy[Any] | None:
    if name == "google.protobuf.ListValue":
        return st.lists(st.one_of(strings, st.lists(strings, max_size=4)), max_size=4)
    if name == "google.protobuf.Struct":
        return st.dictionaries(strings, json_scalars, max_size=4)
    if name == "google.protobuf.Value":
        return json_scalars
    if name == "google.api.HttpBody":
        return st.fixed_dictionaries({}, optional={"data": st.binary(max_size=64).map(_b64)})
    return None


def _value(field: FieldDescriptor, depth: int) -> st.SearchStrategy[Any]:
    if field.message_type is not None and field.message_type.GetOptions().map_entry:
        key_field = field.message_type.fields_by_name["key"]
        value_field = field.message_type.fields_by_name["value"]
        return st.dictionaries(_single(key_field, depth), _single(value_field, depth), max_size=3)
    single = _single(field, depth)
    if _is_repeated(field):
        return st.lists(single, max_size=4)
    return single


def _is_repeated(field: FieldDescriptor) -> bool:
    return bool(field.is_repeated)


def _single(field: FieldDescriptor, depth: int) -> st.SearchStrategy[Any]:
    if field.message_type is None:
        return _scalar(field)
    known = _well_known(field.message_type.full_name)
    if known is not None:
        return known
    if depth >= 3:
        return st.just({})
    return message(field.message_type, depth + 1)


def message(
    descriptor: Descriptor, depth: int = 0, skip: frozenset[str] = frozenset(), clean: bool = True
) -> st.SearchStrategy[dict[str, Any]]:
    """A JSON object shaped like `descriptor`, each field present or not. A clean one is well
    typed; a dirty one may give any top-level field a wrong type and add an unknown field."""
    optional: dict[str, st.SearchStrategy[Any]] = {
        f.name: _value(f, depth) if clean else st.one_of(_value(f, depth), wrong_types)
        for f in descriptor.fields
        if f.name not in skip
    }
    if not clean:
        optional["unknown_field"] = json_scalars
    return st.fixed_dictionaries({}, optional=optional)


def _path_value(name: str, known: dict[str, list[str]]) -> st.SearchStrategy[str]:
    real = st.sampled_from(known.get(name, ["nosuch"]))
    return st.one_of(real, real, strings)


def _fill_path(template: str, values: dict[str, str]) -> str:
    def fill(match: re.Match[str]) -> str:
        raw = values[match.group(1)]
        safe = "/" if match.group(2) else ""
        return urllib.parse.quote(raw, safe=safe) or "x"

    return VARIABLE_RE.sub(fill, template)


def _query(fields: dict[str, Any]) -> str:
    pairs = []
    for name, value in fields.items():
        items = value if isinstance(value, list) else [value]
        for item in items:
            if isinstance(item, dict):
                item = json.dumps(item)
            if isinstance(item, bool):
                item = str(item).lower()
            pairs.append((name, str(item)))
    return urllib.parse.urlencode(pairs)


@st.composite
def requests(draw: st.DrawFn, binding: Binding, known: dict[str, list[str]]) -> Request:
    """A request for `binding`; `known` offers real ids for path variables (by field name)."""
    values = {name: draw(_path_value(name, known)) for name in binding.path_fields}
    path = _fill_path(binding.template, values)
    in_path = frozenset(binding.path_fields)
    clean = draw(st.integers(0, 9)) < 6
    body: bytes | None = None
    content_type = "application/json"
    if binding.body == "*":
        fields = draw(message(binding.request, skip=in_path, clean=clean))
        body = json.dumps(fields).encode()
    elif binding.body:
        field = binding.request.fields_by_name[binding.body]
        if field.message_type is not None and field.message_type.full_name == "google.api.HttpBody":
            body = draw(st.binary(max_size=256))
            content_type = draw(st.sampled_from(["application/octet-stream", "text/plain"]))
        else:
            value = _value(field, 0) if clean else st.one_of(_value(field, 0), wrong_types)
            body = json.dumps(draw(value)).encode()
        rest = draw(message(binding.request, skip=in_path | {binding.body}, clean=clean))
        if rest:
            path += "?" + _query({k: v for k, v in rest.items() if k != "unknown_field"})
    else:
        rest = draw(message(binding.request, skip=in_path, clean=clean))
        if rest:
            path += "?" + _query(rest)
    if body is not None and not clean and draw(st.integers(0, 4)) == 0:
        body = draw(st.sampled_from([b"{", b"not json", b"[]", b"null", b"\xff\xfe"]))
    return Request(binding, binding.method, path.rstrip("?"), body, content_type)
