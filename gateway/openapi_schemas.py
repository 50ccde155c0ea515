"""JSON Schemas (OpenAPI 3.1) of protobuf messages as the gateway's transcoder prints them: a
FileDescriptorSet (with source info) indexed by full name, and the schema of each message, enum
and field.

Called by gateway/openapi.py, which builds the API description from them. The JSON is the
proto3 JSON mapping with the transcoder's print options (gateway/rest_listener.py): proto field
names (snake_case), enums as their names, 64-bit integers as strings, zero values printed.
Descriptions are the proto comments; `google.api.field_behavior` REQUIRED makes a field
required and OUTPUT_ONLY makes it read-only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from google.api import field_behavior_pb2
from google.protobuf import descriptor_pb2

JsonSchema = dict[str, Any]
FieldProto = descriptor_pb2.FieldDescriptorProto

# SourceCodeInfo paths: the field numbers of FileDescriptorProto and DescriptorProto.
_FILE_MESSAGES, _FILE_ENUMS, _FILE_SERVICES = 4, 5, 6
_MESSAGE_FIELDS, _MESSAGE_NESTED, _MESSAGE_ENUMS = 2, 3, 4
_ENUM_VALUES, _SERVICE_METHODS = 2, 2

_INT64 = {"type": "string", "format": "int64", "pattern": "^-?[0-9]+$"}
_UINT64 = {"type": "string", "format": "uint64", "pattern": "^[0-9]+$"}
SCALARS: dict[int, JsonSchema] = {
    FieldProto.TYPE_DOUBLE: {"type": "number", "format": "double"},
    FieldProto.TYPE_FLOAT: {"type": "number", "format": "float"},
    FieldProto.TYPE_INT64: _INT64,
    FieldProto.TYPE_SINT64: _INT64,
    FieldProto.TYPE_SFIXED64: _INT64,
    FieldProto.TYPE_UINT64: _UINT64,
    FieldProto.TYPE_FIXED64: _UINT64,
    FieldProto.TYPE_INT32: {"type": "integer", "format": "int32"},
    FieldProto.TYPE_SINT32: {"type": "integer", "format": "int32"},
    FieldProto.TYPE_SFIXED32: {"type": "integer", "format": "int32"},
    FieldProto.TYPE_UINT32: {"type": "integer", "format": "int64", "minimum": 0},
    FieldProto.TYPE_FIXED32: {"type": "integer", "format": "int64", "minimum": 0},
    FieldProto.TYPE_BOOL: {"type": "boolean"},
    FieldProto.TYPE_STRING: {"type": "string"},
    FieldProto.TYPE_BYTES: {"type": "string", "contentEncoding": "base64"},
}
_WRAPPERS = {
    "DoubleValue": FieldProto.TYPE_DOUBLE,
    "FloatValue": FieldProto.TYPE_FLOAT,
    "Int64Value": FieldProto.TYPE_INT64,
    "UInt64Value": FieldProto.TYPE_UINT64,
    "Int32Value": FieldProto.TYPE_INT32,
    "UInt32Value": FieldProto.TYPE_UINT32,
    "BoolValue": FieldProto.TYPE_BOOL,
    "StringValue": FieldProto.TYPE_STRING,
    "BytesValue": FieldProto.TYPE_BYTES,
}
# Well-known types with a JSON form of their own (the proto3 JSON mapping).
WELL_KNOWN: dict[str, JsonSchema] = {
    "google.protobuf.Struct": {"type": "object", "additionalProperties": True},
    "google.protobuf.Value": {},
    "google.protobuf.ListValue": {"type": "array", "items": {}},
    "google.protobuf.Timestamp": {"type": "string", "format": "date-time"},
    "google.protobuf.Duration": {"type": "string", "pattern": "^-?[0-9]+(\\.[0-9]+)?s$"},
    "google.protobuf.FieldMask": {"type": "string"},
    "google.protobuf.Empty": {"type": "object"},
    "google.protobuf.Any": {
        "type": "object",
        "properties": {"@type": {"type": "string"}},
        "additionalProperties": True,
    },
    **{
        f"google.protobuf.{name}": {"anyOf": [SCALARS[kind], {"type": "null"}]}
        for name, kind in _WRAPPERS.items()
    },
}
# Messages whose REST bodies are refused with an unknown field (the others' are dropped by
# the transcoder): services/api/transport/body_check.py.
CLOSED_MESSAGES = frozenset({"pods.v1.Networking"})
# Raw bodies: HttpBody is the request or response body itself, not JSON.
HTTP_BODY = "google.api.HttpBody"


@dataclass(frozen=True)
class Declared:
    """A message, enum or service of the descriptor set, and its comment."""

    full_name: str
    proto: Any  # DescriptorProto, EnumDescriptorProto or ServiceDescriptorProto
    comment: str
    children: dict[str, str] = field(default_factory=dict)  # field/value/method -> comment


def _comment(locations: dict[tuple[int, ...], str], path: tuple[int, ...]) -> str:
    return locations.get(path, "")


def _clean(text: str) -> str:
    """A comment as prose: one leading space per line and buf's lint directives removed."""
    lines = [line[1:] if line.startswith(" ") else line for line in text.strip("\n").split("\n")]
    return "\n".join(line for line in lines if not line.startswith("buf:lint:")).strip()


class DescriptorIndex:
    """Messages, enums and services of a FileDescriptorSet by full name (without the leading
    dot), with their proto comments."""

    def __init__(self, descriptor_set: descriptor_pb2.FileDescriptorSet) -> None:
        self.messages: dict[str, Declared] = {}
        self.enums: dict[str, Declared] = {}
        self.services: dict[str, Declared] = {}
        for file in descriptor_set.file:
            locations = {
                tuple(loc.path): _clean(loc.leading_comments)
                for loc in file.source_code_info.location
                if loc.leading_comments
            }
            prefix = f"{file.package}." if file.package else ""
            for i, message in enumerate(file.message_type):
                self._add_message(message, prefix, (_FILE_MESSAGES, i), locations)
            for i, enum in enumerate(file.enum_type):
                self._add_enum(enum, prefix, (_FILE_ENUMS, i), locations)
            for i, service in enumerate(file.service):
                path = (_FILE_SERVICES, i)
                self.services[prefix + service.name] = Declared(
                    prefix + service.name,
                    service,
                    _comment(locations, path),
                    {
                        m.name: _comment(locations, (*path, _SERVICE_METHODS, j))
                        for j, m in enumerate(service.method)
                    },
                )

    def _add_message(
        self,
        message: descriptor_pb2.DescriptorProto,
        prefix: str,
        path: tuple[int, ...],
        locations: dict[tuple[int, ...], str],
    ) -> None:
        name = prefix + message.name
        self.messages[name] = Declared(
            name,
            message,
            _comment(locations, path),
            {
                f.name: _comment(locations, (*path, _MESSAGE_FIELDS, j))
                for j, f in enumerate(message.field)
            },
        )
        for i, nested in enumerate(message.nested_type):
            self._add_message(nested, f"{name}.", (*path, _MESSAGE_NESTED, i), locations)
        for i, enum in enumerate(message.enum_type):
            self._add_enum(enum, f"{name}.", (*path, _MESSAGE_ENUMS, i), locations)

    def _add_enum(
        self,
        enum: descriptor_pb2.EnumDescriptorProto,
        prefix: str,
        path: tuple[int, ...],
        locations: dict[tuple[int, ...], str],
    ) -> None:
        name = prefix + enum.name
        self.enums[name] = Declared(
            name,
            enum,
            _comment(locations, path),
            {
                v.name: _comment(locations, (*path, _ENUM_VALUES, j))
                for j, v in enumerate(enum.value)
            },
        )

    def message(self, type_name: str) -> Declared:
        """The message named `type_name` (a descriptor's `.pkg.Name` or `pkg.Name`)."""
        return self.messages[type_name.lstrip(".")]


def behaviours(proto_field: FieldProto) -> set[str]:
    """The field's google.api.field_behavior values by name (REQUIRED, OUTPUT_ONLY, ...)."""
    values = proto_field.options.Extensions[field_behavior_pb2.field_behavior]
    return {field_behavior_pb2.FieldBehavior.Name(v) for v in values}


def ref(full_name: str) -> JsonSchema:
    """A reference to the component schema of a message or enum."""
    return {"$ref": f"#/components/schemas/{full_name}"}


class SchemaBuilder:
    """Builds component schemas of messages and enums on demand, following references."""

    def __init__(self, index: DescriptorIndex) -> None:
        self.index = index
        self.components: dict[str, JsonSchema] = {}

    def type_schema(self, proto_field: FieldProto) -> JsonSchema:
        """The schema of one value of the field (an element, for a repeated field)."""
        if proto_field.type == FieldProto.TYPE_ENUM:
            return self._enum_ref(proto_field.type_name.lstrip("."))
        if proto_field.type in (FieldProto.TYPE_MESSAGE, FieldProto.TYPE_GROUP):
            return self.message_ref(proto_field.type_name.lstrip("."))
        return dict(SCALARS[proto_field.type])

    def field_schema(self, proto_field: FieldProto, description: str = "") -> JsonSchema:
        """The field's schema: repeated fields are arrays, maps objects, with its comment."""
        schema: JsonSchema
        entry = self._map_entry(proto_field)
        if entry is not None:
            value = next(f for f in entry.field if f.name == "value")
            schema = {"type": "object", "additionalProperties": self.type_schema(value)}
        elif proto_field.label == FieldProto.LABEL_REPEATED:
            schema = {"type": "array", "items": self.type_schema(proto_field)}
        else:
            schema = self.type_schema(proto_field)
        if "$ref" in schema and (description or "OUTPUT_ONLY" in behaviours(proto_field)):
            schema = {"allOf": [schema]}  # siblings of $ref: keep them next to an allOf
        if description:
            schema["description"] = description
        if "OUTPUT_ONLY" in behaviours(proto_field):
            schema["readOnly"] = True
        return schema

    def _map_entry(self, proto_field: FieldProto) -> descriptor_pb2.DescriptorProto | None:
        if proto_field.type != FieldProto.TYPE_MESSAGE:
            return None
        if proto_field.label != FieldProto.LABEL_REPEATED:
            return None
        declared = self.index.messages.get(proto_field.type_name.lstrip("."))
        if declared is None or not declared.proto.options.map_entry:
            return None
        proto: descriptor_pb2.DescriptorProto = declared.proto
        return proto

    def message_ref(self, full_name: str) -> JsonSchema:
        """A reference to the message's schema (its inline schema, for well-known types)."""
        if full_name in WELL_KNOWN:
            return dict(WELL_KNOWN[full_name])
        if full_name not in self.components:
            self.components[full_name] = {}  # placeholder: recursive messages end here
            self.components[full_name] = self.object_schema(self.index.message(full_name))
        return ref(full_name)

    def object_schema(
        self, declared: Declared, leave_out: frozenset[str] = frozenset()
    ) -> JsonSchema:
        """The object schema of a message, without the fields named in `leave_out`."""
        properties: dict[str, JsonSchema] = {}
        required: list[str] = []
        for proto_field in declared.proto.field:
            if proto_field.name in leave_out:
                continue
            properties[proto_field.name] = self.field_schema(
                proto_field, declared.children.get(proto_field.name, "")
            )
            if "REQUIRED" in behaviours(proto_field):
                required.append(proto_field.name)
        schema: JsonSchema = {"type": "object"}
        if declared.comment:
            schema["description"] = declared.comment
        schema["properties"] = properties
        if declared.full_name in CLOSED_MESSAGES:
            schema["additionalProperties"] = False
        if required:
            schema["required"] = required
        return schema

    def _enum_ref(self, full_name: str) -> JsonSchema:
        if full_name not in self.components:
            declared = self.index.enums[full_name]
            names = [v.name for v in declared.proto.value]
            lines = [f"- `{n}`: {c}" for n, c in declared.children.items() if c]
            description = "\n".join(filter(None, [declared.comment, "\n".join(lines)]))
            schema: JsonSchema = {"type": "string", "enum": names}
            if description:
                schema = {"description": description, **schema}
            self.components[full_name] = schema
        return ref(full_name)
