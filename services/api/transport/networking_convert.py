"""Converts between the `Networking` message (of pods and templates) and NetworkStanza, its
login settings and access options included. Pure functions, called by pods_convert.py and
templates_convert.py.
"""

from __future__ import annotations

from collections.abc import Mapping

from services.common.generated.pods.v1 import pod_pb2
from services.common.pod_auth_model import TapisAuth
from services.common.pods_model import NetworkStanza
from services.common.stanza_options import DEFAULT_CORS_MAX_AGE, StanzaOptions


def stanza_input(message: pod_pb2.Networking) -> NetworkStanza:
    """A stanza as the client gave it (protocol "" and port 0 mean "not given"; an empty
    allowed-users list or return path means Tapis's default, and so does an absent
    cors_max_age); the domain validates it."""
    return NetworkStanza(
        protocol=message.protocol,
        port=message.port,
        auth=TapisAuth(
            enabled=message.tapis_auth,
            response_headers=dict(message.tapis_auth_response_headers),
            allowed_users=tuple(message.tapis_auth_allowed_users),
            return_path=message.tapis_auth_return_path,
        ),
        options=StanzaOptions(
            ip_allow_list=tuple(message.ip_allow_list),
            cors_allow_origins=tuple(message.cors_allow_origins),
            cors_allow_methods=tuple(message.cors_allow_methods),
            cors_allow_headers=tuple(message.cors_allow_headers),
            cors_allow_credentials=message.cors_allow_credentials,
            cors_max_age=message.cors_max_age
            if message.HasField("cors_max_age")
            else DEFAULT_CORS_MAX_AGE,
            tapis_ui_uri=message.tapis_ui_uri,
            tapis_ui_uri_redirect=message.tapis_ui_uri_redirect,
            tapis_ui_uri_description=message.tapis_ui_uri_description,
        ),
    )


def stanza_inputs(messages: Mapping[str, pod_pb2.Networking]) -> dict[str, NetworkStanza]:
    """Every stanza of a request, by name."""
    return {name: stanza_input(message) for name, message in messages.items()}


def stanza_message(stanza: NetworkStanza, url: str = "") -> pod_pb2.Networking:
    """A stored stanza as the API prints it (every login field and option, defaults
    included), with its public `url` when it has one."""
    auth, options = stanza.auth, stanza.options
    return pod_pb2.Networking(
        protocol=stanza.protocol,
        port=stanza.port,
        url=url,
        tapis_auth=auth.enabled,
        tapis_auth_response_headers=dict(auth.response_headers),
        tapis_auth_allowed_users=list(auth.allowed_users),
        tapis_auth_return_path=auth.return_path,
        ip_allow_list=options.ip_allow_list,
        cors_allow_origins=options.cors_allow_origins,
        cors_allow_methods=options.cors_allow_methods,
        cors_allow_headers=options.cors_allow_headers,
        cors_allow_credentials=options.cors_allow_credentials,
        cors_max_age=options.cors_max_age,
        tapis_ui_uri=options.tapis_ui_uri,
        tapis_ui_uri_redirect=options.tapis_ui_uri_redirect,
        tapis_ui_uri_description=options.tapis_ui_uri_description,
    )
