"""The authenticator binds admin status to the issuer that vouched, and the client address
is the gateway's (last) X-Forwarded-For entry, else the gRPC peer."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from services.api.errors import UnauthenticatedError
from services.api.tokens import (
    StaticKey,
    TokenIssuer,
    TokenVerifier,
    TrustedIssuer,
    load_or_create_private_key,
    public_key_pem,
)
from services.api.transport.auth import Authenticator, client_address, peer_host

BUILT_IN, EXTERNAL = "http://localhost:8080/v3/tokens", "https://idp.example.org"


class Context:
    """The two things the transport reads from a grpc.aio context."""

    def __init__(self, metadata: list[tuple[str, str]], peer: str = "ipv4:127.0.0.1:5555"):
        self._metadata = metadata
        self._peer = peer

    def invocation_metadata(self) -> list[tuple[str, str]]:
        return self._metadata

    def peer(self) -> str:
        return self._peer


def test_admin_status_comes_from_the_issuer_that_vouched(tmp_path: Path) -> None:
    built_in = load_or_create_private_key(tmp_path / "a.pem")
    external = load_or_create_private_key(tmp_path / "b.pem")
    verifier = TokenVerifier(
        [
            TrustedIssuer(BUILT_IN, StaticKey(public_key_pem(built_in))),
            TrustedIssuer(EXTERNAL, StaticKey(public_key_pem(external))),
        ]
    )
    auth = Authenticator(verifier, ["dev"], {BUILT_IN: {"root"}, EXTERNAL: {"boss"}})

    def is_admin(key: bytes, issuer: str, user: str) -> bool:
        token = TokenIssuer(key, issuer, 60).issue("dev", user, datetime.now(UTC)).token
        context: Any = Context([("x-tapis-token", token)])
        return auth.principal(context).is_admin

    assert is_admin(built_in, BUILT_IN, "root")
    assert not is_admin(external, EXTERNAL, "root")
    assert is_admin(external, EXTERNAL, "boss")
    assert not is_admin(built_in, BUILT_IN, "boss")


def test_tokens_of_unserved_tenants_are_refused(tmp_path: Path) -> None:
    key = load_or_create_private_key(tmp_path / "a.pem")
    auth = Authenticator(
        TokenVerifier([TrustedIssuer(BUILT_IN, StaticKey(public_key_pem(key)))]), ["dev"], {}
    )
    token = TokenIssuer(key, BUILT_IN, 60).issue("other", "u", datetime.now(UTC)).token
    context: Any = Context([("x-tapis-token", token)])
    with pytest.raises(UnauthenticatedError, match="tenant 'other'"):
        auth.principal(context)


@pytest.mark.parametrize(
    ("metadata", "peer", "address"),
    [
        ([("x-forwarded-for", "203.0.113.9")], "ipv4:127.0.0.1:1", "203.0.113.9"),
        ([("x-forwarded-for", "1.1.1.1, 203.0.113.9")], "ipv4:127.0.0.1:1", "203.0.113.9"),
        ([], "ipv4:198.51.100.2:4242", "198.51.100.2"),
        ([], "ipv6:[2001:db8::1]:4242", "2001:db8::1"),
        ([("x-forwarded-for", "")], "ipv4:10.1.1.1:1", "10.1.1.1"),
    ],
)
def test_the_client_address(metadata: list[tuple[str, str]], peer: str, address: str) -> None:
    context: Any = Context(metadata, peer)
    assert client_address(context) == address


def test_an_unusual_peer_is_kept_as_it_is() -> None:
    assert peer_host("unix:/run/api.sock") == "unix:/run/api.sock"
