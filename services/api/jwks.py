"""An external issuer's verification keys from its JWKS URL (PODS_JWT_JWKS_URL), kept in
memory and refreshed in the background, so verifying a token never waits on the network.

services/api/server.py fetches the keys once at start-up and runs `keep_fresh`; tokens.py's
TokenVerifier asks `key_for(kid)`. A token whose `kid` is not (yet) known is refused and
wakes the refresher (at most once per MIN_REFRESH_INTERVAL), so a rotated key is picked up
within seconds.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
import urllib.request
from collections.abc import Callable
from typing import Any

import jwt

from services.api.tokens import TokenError

log = logging.getLogger(__name__)

MAX_JWKS_BYTES = 1024 * 1024
FETCH_TIMEOUT = 10.0
REFRESH_INTERVAL = 300.0
MIN_REFRESH_INTERVAL = 10.0


def http_get(url: str) -> bytes:
    """The body of a GET (at most MAX_JWKS_BYTES); the URL is the operator's setting."""
    request = urllib.request.Request(url, headers={"Accept": "application/json"})  # noqa: S310
    with urllib.request.urlopen(request, timeout=FETCH_TIMEOUT) as response:  # noqa: S310
        body: bytes = response.read(MAX_JWKS_BYTES + 1)
    if len(body) > MAX_JWKS_BYTES:
        raise ValueError(f"JWKS at {url} is larger than {MAX_JWKS_BYTES} bytes")
    return body


def parse_jwks(body: bytes) -> dict[str, Any]:
    """Signing keys by `kid` (a key without one is filed under ""); ValueError if none."""
    keys: dict[str, Any] = {}
    try:
        published = jwt.PyJWKSet.from_dict(json.loads(body)).keys
    except jwt.PyJWTError as exc:
        raise ValueError(f"not a usable JWKS: {exc}") from None
    for jwk in published:
        if jwk.public_key_use in (None, "sig"):
            keys[jwk.key_id or ""] = jwk.key
    if not keys:
        raise ValueError("the JWKS has no signing keys")
    return keys


class JwksKeys:
    """The keys published at one JWKS URL (a KeySource for tokens.TrustedIssuer)."""

    def __init__(
        self,
        url: str,
        fetch: Callable[[str], bytes] = http_get,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.url = url
        self._fetch = fetch
        self._clock = clock
        self._keys: dict[str, Any] = {}
        self._wake = asyncio.Event()
        self._last_refresh = float("-inf")

    def key_for(self, kid: str | None) -> Any:
        if kid is not None and kid in self._keys:
            return self._keys[kid]
        if kid is None and len(self._keys) == 1:
            return next(iter(self._keys.values()))
        self._wake.set()
        if not self._keys:
            raise TokenError("the issuer's keys could not be fetched yet; try again shortly")
        raise TokenError(f"token signing key {str(kid)[:64]!r} is not one the issuer publishes")

    def refresh(self) -> None:
        """Fetches and replaces the keys (blocking; run it in a thread). Raises on failure,
        keeping the previous keys."""
        self._last_refresh = self._clock()
        self._keys = parse_jwks(self._fetch(self.url))

    async def refresh_logged(self) -> bool:
        """`refresh` in a thread; a failure is logged, not raised."""
        before = set(self._keys)
        try:
            await asyncio.to_thread(self.refresh)
        except Exception as exc:
            log.warning("could not fetch the JWKS at %s: %s", self.url, exc)
            return False
        if set(self._keys) != before:  # logged when the keys change, not at every refresh
            log.info("fetched %d key(s) from the JWKS at %s", len(self._keys), self.url)
        return True

    async def keep_fresh(self, interval: float = REFRESH_INTERVAL) -> None:
        """Refreshes every `interval` seconds, and soon after an unknown `kid` was seen."""
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), interval)
            self._wake.clear()
            wait = self._last_refresh + MIN_REFRESH_INTERVAL - self._clock()
            if wait > 0:
                await asyncio.sleep(wait)
            await self.refresh_logged()
