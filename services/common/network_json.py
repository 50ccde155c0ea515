"""Networking stanzas as JSON (Tapis's field names; the options flat, the login nested): how
the database stores a pod's and a template's networking (services/common/db/codec.py) and how
a template tag's pod definition keeps it (services/api/domain/pod_definitions.py). Pure data,
no database."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from services.common.pod_auth_model import auth_from_json, auth_to_json
from services.common.pods_model import NetworkStanza
from services.common.stanza_options import StanzaOptions


def stanza_to_json(stanza: NetworkStanza) -> dict[str, Any]:
    """A networking stanza as JSON; its auth only when not the default."""
    data: dict[str, Any] = {
        "protocol": stanza.protocol,
        "port": stanza.port,
        **stanza.options.to_json(),
    }
    auth = auth_to_json(stanza.auth)
    if auth is not None:
        data["tapis_auth"] = auth
    return data


def stanza_from_json(data: Mapping[str, Any]) -> NetworkStanza:
    """The inverse of stanza_to_json; a field left out is left unset ("" and 0), for the
    validation of a request to fill in or refuse."""
    return NetworkStanza(
        protocol=data.get("protocol", ""),
        port=data.get("port", 0),
        auth=auth_from_json(data.get("tapis_auth")),
        options=StanzaOptions.from_json(dict(data)),
    )
