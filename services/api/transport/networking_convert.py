"""Converts networking stanzas between `pods.v1.Networking` messages and domain records, for
pods (pods_convert.py) and templates (templates_convert.py). Pure functions."""

from __future__ import annotations

from collections.abc import Mapping

from services.api.domain.stanza_options import StanzaRequest
from services.common.generated.pods.v1 import pod_pb2
from services.common.pods_model import NetworkStanza
from services.common.stanza_options import DEFAULT_CORS_MAX_AGE, StanzaOptions


def stanza_requests(networking: Mapping[str, pod_pb2.Networking]) -> dict[str, StanzaRequest]:
    """The stanzas as given (unchecked); an absent cors_max_age is Tapis's default."""
    return {name: stanza_request(n) for name, n in networking.items()}


def stanza_request(n: pod_pb2.Networking) -> StanzaRequest:
    options = StanzaOptions(
        ip_allow_list=tuple(n.ip_allow_list),
        cors_allow_origins=tuple(n.cors_allow_origins),
        cors_allow_methods=tuple(n.cors_allow_methods),
        cors_allow_headers=tuple(n.cors_allow_headers),
        cors_allow_credentials=n.cors_allow_credentials,
        cors_max_age=n.cors_max_age if n.HasField("cors_max_age") else DEFAULT_CORS_MAX_AGE,
        tapis_ui_uri=n.tapis_ui_uri,
        tapis_ui_uri_redirect=n.tapis_ui_uri_redirect,
        tapis_ui_uri_description=n.tapis_ui_uri_description,
    )
    return n.protocol, n.port, options


def networking_message(stanza: NetworkStanza, url: str = "") -> pod_pb2.Networking:
    """The stanza with its options, and its public `url` when it has one."""
    options = stanza.options
    return pod_pb2.Networking(
        protocol=stanza.protocol,
        port=stanza.port,
        url=url,
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
