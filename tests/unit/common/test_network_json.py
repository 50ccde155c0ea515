"""Networking stanzas as JSON (services/common/network_json.py): the database's form and the
API's flat form both round-trip a stanza with a login and options, and the flat form is what
the `Networking` message parses (a template tag's pod definition is printed through it)."""

from __future__ import annotations

from google.protobuf import json_format

from services.common.generated.pods.v1 import pod_pb2
from services.common.network_json import (
    stanza_from_json,
    stanza_from_wire_json,
    stanza_to_json,
    stanza_to_wire_json,
)
from services.common.pod_auth_model import TapisAuth
from services.common.pods_model import NetworkStanza
from services.common.stanza_options import StanzaOptions

STANZA = NetworkStanza(
    "http",
    8000,
    auth=TapisAuth(
        enabled=True,
        response_headers={"X-User": "<<tapisusername>>"},
        allowed_users=("alice",),
        return_path="/lab",
    ),
    options=StanzaOptions(ip_allow_list=("10.0.0.0/8",), cors_allow_origins=("*",)),
)


def test_the_database_form_round_trips() -> None:
    assert stanza_from_json(stanza_to_json(STANZA)) == STANZA


def test_the_api_form_round_trips_and_is_the_networking_message() -> None:
    wire = stanza_to_wire_json(STANZA)
    assert stanza_from_wire_json(wire) == STANZA
    message = json_format.ParseDict(wire, pod_pb2.Networking())
    assert message.tapis_auth and list(message.tapis_auth_allowed_users) == ["alice"]
    assert json_format.MessageToDict(message, preserving_proto_field_name=True)["port"] == 8000


def test_a_login_given_as_tapis_sends_it_is_read_not_refused() -> None:
    given = {"tapis_auth": True}  # what a client sends in a tag's pod_definition
    stanza = stanza_from_wire_json(given)
    assert stanza.auth.enabled and (stanza.protocol, stanza.port) == ("", 0)  # left unset
