"""An external issuer's keys from a JWKS URL, served by a real local HTTP server: fetched,
used by kid, refreshed when an unknown kid shows up (rotation), and never fetched while a
token is being verified."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from services.api import jwks as jwks_module
from services.api.jwks import JwksKeys
from services.api.tokens import TokenError, TokenVerifier, TrustedIssuer

ISSUER = "https://idp.example.org"


class Server:
    """Serves `self.keys` as a JWKS and counts requests."""

    def __init__(self) -> None:
        self.keys: dict[str, Any] = {}
        self.requests = 0
        self.status = 200
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                server.requests += 1
                body = json.dumps(
                    {
                        "keys": [
                            {
                                **json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(k.public_key())),
                                "kid": kid,
                                "use": "sig",
                            }
                            for kid, k in server.keys.items()
                        ]
                    }
                ).encode()
                self.send_response(server.status)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.http.server_port}/jwks.json"
        threading.Thread(target=self.http.serve_forever, daemon=True).start()


@pytest.fixture
def server() -> Iterator[Server]:
    s = Server()
    try:
        yield s
    finally:
        s.http.shutdown()


def new_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def token(key: rsa.RSAPrivateKey, kid: str | None) -> str:
    claims = {
        "iss": ISSUER,
        "sub": "alice@dev",
        "exp": int(time.time()) + 60,
        "tapis/tenant_id": "dev",
        "tapis/username": "alice",
        "tapis/token_type": "access",
    }
    headers = {"kid": kid} if kid else None
    return jwt.encode(claims, key, algorithm="RS256", headers=headers)


def test_keys_are_fetched_and_chosen_by_kid(server: Server) -> None:
    one, two = new_key(), new_key()
    server.keys = {"one": one, "two": two}
    keys = JwksKeys(server.url)
    keys.refresh()
    verifier = TokenVerifier([TrustedIssuer(ISSUER, keys)])
    assert verifier.verify(token(one, "one")).username == "alice"
    assert verifier.verify(token(two, "two")).issuer == ISSUER
    with pytest.raises(TokenError, match="signature"):
        verifier.verify(token(one, "two"))
    with pytest.raises(TokenError, match="'three' is not one the issuer publishes"):
        verifier.verify(token(one, "three"))
    with pytest.raises(TokenError, match="not one the issuer publishes"):
        verifier.verify(token(one, None))  # no kid among several keys
    assert server.requests == 1  # verifying never fetched


def test_a_single_key_serves_tokens_without_kid(server: Server) -> None:
    one = new_key()
    server.keys = {"one": one}
    keys = JwksKeys(server.url)
    keys.refresh()
    assert TokenVerifier([TrustedIssuer(ISSUER, keys)]).verify(token(one, None)).username


def test_before_the_first_fetch_tokens_are_refused_clearly(server: Server) -> None:
    keys = JwksKeys(server.url)
    with pytest.raises(TokenError, match="could not be fetched yet"):
        TokenVerifier([TrustedIssuer(ISSUER, keys)]).verify(token(new_key(), "one"))


def test_a_failed_fetch_keeps_the_previous_keys(server: Server) -> None:
    one = new_key()
    server.keys = {"one": one}
    keys = JwksKeys(server.url)
    keys.refresh()
    server.status = 500
    assert asyncio.run(keys.refresh_logged()) is False
    assert TokenVerifier([TrustedIssuer(ISSUER, keys)]).verify(token(one, "one")).username


def test_an_unknown_kid_wakes_the_refresher_and_the_rotated_key_is_used(
    server: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(jwks_module, "MIN_REFRESH_INTERVAL", 0.2)
    old, new = new_key(), new_key()
    server.keys = {"old": old}

    async def scenario() -> None:
        keys = JwksKeys(server.url)
        assert await keys.refresh_logged()
        refresher = asyncio.create_task(keys.keep_fresh(interval=3600))
        verifier = TokenVerifier([TrustedIssuer(ISSUER, keys)])
        server.keys = {"old": old, "new": new}
        with pytest.raises(TokenError, match="'new'"):
            verifier.verify(token(new, "new"))
        deadline = time.monotonic() + 10
        while True:
            try:
                assert verifier.verify(token(new, "new")).username == "alice"
                break
            except TokenError:
                assert time.monotonic() < deadline, "the rotated key never arrived"
                await asyncio.sleep(0.05)
        refresher.cancel()

    asyncio.run(scenario())
    assert server.requests == 2


def test_a_jwks_without_signing_keys_is_refused() -> None:
    with pytest.raises(ValueError, match=r"no signing keys|any keys"):
        jwks_module.parse_jwks(json.dumps({"keys": []}).encode())
