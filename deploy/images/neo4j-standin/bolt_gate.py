"""Bolt login gate of the pods-neo4j-standin image (a stand-in for Neo4j, not Neo4j).

FalkorDB's Bolt port accepts one fixed user name ("falkordb") with the Redis password. This
gate listens where Neo4j would (7687), checks each LOGON against the users the official neo4j
image's variables declare, and passes a good one on to FalkorDB as FalkorDB's own login (a
random password made at start, known only to this process). Any other LOGON is passed on with
a password that fails, and FalkorDB's refusal is reworded as Neo4j's, which drivers raise as
an authentication error. A GOODBYE closes the connection instead of reaching FalkorDB (after
one, FalkorDB 4.16's Bolt port stops answering new connections). Everything else is copied
through unchanged, message by message.
Stdlib only; run by pods-neo4j-standin (the image's entrypoint) and tested on its own.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging
from collections.abc import Mapping

log = logging.getLogger("bolt-gate")

MAGIC = bytes.fromhex("6060b017")
LOGON = b"\xb1\x6a"
GOODBYE = b"\xb0\x02"
FAILURE = b"\xb1\x7f"
UPSTREAM_USER = "falkordb"
FALKOR_REFUSAL = b"FalkorDB.ClientError.Security.Unauthorized"
# Bolt 5.7 and later name the code `neo4j_code` beside a GQL status; older ones `code`.
NEO4J_REFUSAL = {
    "code": "Neo.ClientError.Security.Unauthorized",
    "neo4j_code": "Neo.ClientError.Security.Unauthorized",
    "gql_status": "42NFF",
    "description": "error: syntax error or access rule violation - permission/access denied",
    "message": "The client is unauthorized due to authentication failure.",
}


def pack_string(text: str) -> bytes:
    data = text.encode()
    size = len(data)
    if size < 16:
        return bytes([0x80 | size]) + data
    if size < 256:
        return b"\xd0" + bytes([size]) + data
    if size < 65536:
        return b"\xd1" + size.to_bytes(2, "big") + data
    return b"\xd2" + size.to_bytes(4, "big") + data


def pack_map(entries: Mapping[str, str]) -> bytes:
    if len(entries) > 15:
        raise ValueError("map too large")
    body = b"".join(pack_string(k) + pack_string(v) for k, v in entries.items())
    return bytes([0xA0 | len(entries)]) + body


def _unpack_string(data: bytes, at: int) -> tuple[str, int]:
    marker = data[at]
    if 0x80 <= marker <= 0x8F:
        size, at = marker & 0x0F, at + 1
    elif marker == 0xD0:
        size, at = data[at + 1], at + 2
    elif marker == 0xD1:
        size, at = int.from_bytes(data[at + 1 : at + 3], "big"), at + 3
    elif marker == 0xD2:
        size, at = int.from_bytes(data[at + 1 : at + 5], "big"), at + 5
    else:
        raise ValueError("not a string")
    if at + size > len(data):
        raise ValueError("truncated string")
    return data[at : at + size].decode(), at + size


def unpack_string_map(data: bytes, at: int = 0) -> dict[str, str]:
    """A PackStream map whose keys and values are all strings (ValueError otherwise)."""
    marker = data[at]
    if 0xA0 <= marker <= 0xAF:
        size, at = marker & 0x0F, at + 1
    elif marker == 0xD8:
        size, at = data[at + 1], at + 2
    else:
        raise ValueError("not a small map")
    entries = {}
    for _ in range(size):
        key, at = _unpack_string(data, at)
        value, at = _unpack_string(data, at)
        entries[key] = value
    return entries


def frame(message: bytes) -> bytes:
    """A message as Bolt chunks, ended by the empty chunk."""
    chunks = [message[i : i + 65535] for i in range(0, len(message), 65535)]
    return b"".join(len(c).to_bytes(2, "big") + c for c in chunks) + b"\x00\x00"


def gate_logon(message: bytes, users: Mapping[str, str] | None, upstream_password: str) -> bytes:
    """The LOGON to send on: FalkorDB's own login when the user and password are known (or
    `users` is None: no login required), else one FalkorDB refuses."""
    try:
        auth = unpack_string_map(message, len(LOGON))
    except (ValueError, IndexError, UnicodeDecodeError):
        auth = {}
    if users is None:
        good = True
    else:
        expected = users.get(auth.get("principal", ""))
        given = auth.get("credentials", "")
        good = (
            auth.get("scheme") == "basic"
            and expected is not None
            and hmac.compare_digest(expected.encode(), given.encode())
        )
    log.info("login %s for user %r", "accepted" if good else "refused", auth.get("principal"))
    password = upstream_password if good else ""
    creds = {"scheme": "basic", "principal": UPSTREAM_USER, "credentials": password or "-"}
    return LOGON + pack_map(creds)


def reword_refusal(message: bytes) -> bytes:
    """FalkorDB's login refusal as Neo4j words it; other messages unchanged."""
    if message.startswith(FAILURE) and FALKOR_REFUSAL in message:
        return FAILURE + pack_map(NEO4J_REFUSAL)
    return message


async def read_message(reader: asyncio.StreamReader) -> bytes:
    """One message (its chunks joined); b"" for a NOOP (a lone empty chunk)."""
    parts = []
    while True:
        size = int.from_bytes(await reader.readexactly(2), "big")
        if size == 0:
            return b"".join(parts)
        parts.append(await reader.readexactly(size))


class BoltGate:
    """Serves the gate in front of FalkorDB's Bolt port on `upstream`."""

    def __init__(
        self, users: Mapping[str, str] | None, upstream_password: str, upstream: int
    ) -> None:
        self._users = None if users is None else dict(users)
        self._password = upstream_password
        self._upstream = upstream

    async def serve(self, client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        try:
            hello = await client_r.readexactly(20)
            if not hello.startswith(MAGIC):
                return
            up_r, up_w = await asyncio.open_connection("127.0.0.1", self._upstream)
        except (OSError, asyncio.IncompleteReadError):
            await _close(client_w)
            return
        try:
            up_w.write(hello)
            client_w.write(await up_r.readexactly(4))
            await asyncio.gather(
                self._to_upstream(client_r, up_w),
                _to_client(up_r, client_w),
                return_exceptions=True,
            )
        except (OSError, asyncio.IncompleteReadError):
            pass
        finally:
            await _close(up_w)
            await _close(client_w)

    async def _to_upstream(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        try:
            while True:
                message = await read_message(reader)
                if message == GOODBYE:
                    # FalkorDB stops answering new connections after a GOODBYE; closing the
                    # connection instead ends the session the same way.
                    return
                if message.startswith(LOGON):
                    message = gate_logon(message, self._users, self._password)
                writer.write(frame(message) if message else b"\x00\x00")
                await writer.drain()
        finally:
            await _close(writer)


async def _to_client(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while True:
            message = await read_message(reader)
            writer.write(frame(reword_refusal(message)) if message else b"\x00\x00")
            await writer.drain()
    finally:
        await _close(writer)


async def _close(writer: asyncio.StreamWriter) -> None:
    writer.close()
    with contextlib.suppress(OSError):
        await writer.wait_closed()
