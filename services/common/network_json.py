"""Networking stanzas as JSON, in two forms: as the database stores a pod's and a template's
networking (the options flat, the login nested; services/common/db/codec.py), and in the API's
flat `Networking` form, as a template tag's pod definition holds it and prints it
(services/api/domain/pod_definitions.py). Pure data, no database."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from services.common.pod_auth_model import TapisAuth, auth_from_json, auth_to_json
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


def stanza_to_wire_json(stanza: NetworkStanza) -> dict[str, Any]:
    """A stanza in the API's flat `Networking` form (Tapis's field names: `tapis_auth` a
    boolean beside its `tapis_auth_*` fields), as a template tag's pod definition holds it."""
    data = {"protocol": stanza.protocol, "port": stanza.port, **stanza.options.to_json()}
    auth = stanza.auth
    if auth != TapisAuth():
        data.update(
            tapis_auth=auth.enabled,
            tapis_auth_response_headers=dict(auth.response_headers),
            tapis_auth_allowed_users=list(auth.allowed_users),
            tapis_auth_return_path=auth.return_path,
        )
    return data


def stanza_from_wire_json(data: Mapping[str, Any]) -> NetworkStanza:
    """The inverse of stanza_to_wire_json; a field left out is left unset, for the validation
    of a request to fill in (Tapis's defaults) or refuse."""
    return NetworkStanza(
        protocol=data.get("protocol", ""),
        port=data.get("port", 0),
        auth=TapisAuth(
            enabled=bool(data.get("tapis_auth", False)),
            response_headers=dict(data.get("tapis_auth_response_headers", {})),
            allowed_users=tuple(data.get("tapis_auth_allowed_users", ())),
            return_path=str(data.get("tapis_auth_return_path", "")),
        ),
        options=StanzaOptions.from_json(dict(data)),
    )
