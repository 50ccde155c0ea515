"""Converts between the `Networking` message (of pods and templates) and NetworkStanza,
login settings included. Pure functions, called by pods_convert.py and templates_convert.py.
"""

from __future__ import annotations

from collections.abc import Mapping

from services.common.generated.pods.v1 import pod_pb2
from services.common.pod_auth_model import TapisAuth
from services.common.pods_model import NetworkStanza


def stanza_input(message: pod_pb2.Networking) -> NetworkStanza:
    """A stanza as the client gave it (protocol "" and port 0 mean "not given"; an empty
    allowed-users list or return path means Tapis's default); the domain validates it."""
    return NetworkStanza(
        protocol=message.protocol,
        port=message.port,
        auth=TapisAuth(
            enabled=message.tapis_auth,
            response_headers=dict(message.tapis_auth_response_headers),
            allowed_users=tuple(message.tapis_auth_allowed_users),
            return_path=message.tapis_auth_return_path,
        ),
    )


def stanza_inputs(messages: Mapping[str, pod_pb2.Networking]) -> dict[str, NetworkStanza]:
    """Every stanza of a request, by name."""
    return {name: stanza_input(message) for name, message in messages.items()}


def stanza_message(stanza: NetworkStanza, url: str = "") -> pod_pb2.Networking:
    """A stored stanza as the API prints it (every login field, defaults included)."""
    auth = stanza.auth
    return pod_pb2.Networking(
        protocol=stanza.protocol,
        port=stanza.port,
        url=url,
        tapis_auth=auth.enabled,
        tapis_auth_response_headers=dict(auth.response_headers),
        tapis_auth_allowed_users=list(auth.allowed_users),
        tapis_auth_return_path=auth.return_path,
    )
