"""Refuses REST bodies whose networking stanzas name a field that does not exist.

Envoy's gRPC-JSON transcoder drops JSON fields the request message does not define, with no
option to refuse them (envoyproxy/envoy#46623), so `{"networking": {"web": {"tapis_auht":
true}}}` would create a pod open to everyone. The gateway therefore sends the raw bodies of
the calls that carry networking stanzas (create and update of pods and templates,
gateway/body_checks.py) to this check first, through Envoy's external processing filter
(`envoy.service.ext_proc.v3.ExternalProcessor`, served by the api next to its own services,
not routed to the public). A body with an unknown field inside a stanza is answered 400,
`networking.<stanza>.<field>: unknown field; ...`, which the gateway wraps in the usual JSON
error; any other body goes on to the transcoder unchanged. Fields unknown at the top level
stay ignored, as they always were (Tapis clients send fields of newer Tapis versions).

Registered by services/api/server.py. `unknown_stanza_field` is the pure rule.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

from envoy.service.ext_proc.v3 import external_processor_pb2 as ext_proc

from services.common.generated.pods.v1 import pod_pb2

# A stanza's fields as the transcoder accepts them: proto names and their lowerCamelCase.
_FIELDS = pod_pb2.Networking.DESCRIPTOR.fields
STANZA_FIELDS = frozenset({f.name for f in _FIELDS} | {f.json_name for f in _FIELDS})
BAD_REQUEST = 400


def unknown_stanza_field(body: bytes) -> str | None:
    """The error message for the first unknown field inside a networking stanza of `body`
    (a JSON object), or None. Bodies that are not JSON objects, or whose `networking` is
    not an object of objects, pass: the transcoder refuses what it cannot parse."""
    try:
        document = json.loads(body or b"null")
    except ValueError:
        return None
    networking = document.get("networking") if isinstance(document, dict) else None
    if not isinstance(networking, dict):
        return None
    for name, stanza in networking.items():
        if not isinstance(stanza, dict):
            continue
        for field in stanza:
            if field not in STANZA_FIELDS:
                known = ", ".join(f.name for f in _FIELDS)
                return (
                    f"networking.{str(name)[:64]}.{str(field)[:64]}: unknown field; "
                    f"a networking stanza has: {known}"
                )
    return None


class NetworkingBodyCheck:
    """The ExternalProcessor service: Envoy sends each checked request's whole body (its
    headers are skipped) and gets either "go on" or an immediate 400."""

    async def Process(self, requests: AsyncIterator[Any], _context: object) -> AsyncIterator[Any]:
        async for request in requests:
            if request.HasField("request_body"):
                yield reply_for(request.request_body.body)


def reply_for(body: bytes) -> Any:
    """The ProcessingResponse for a request body."""
    problem = unknown_stanza_field(body)
    if problem is None:
        return ext_proc.ProcessingResponse(request_body=ext_proc.BodyResponse())
    return ext_proc.ProcessingResponse(
        immediate_response=ext_proc.ImmediateResponse(
            status={"code": BAD_REQUEST}, body=problem.encode(), details="unknown_field"
        )
    )
