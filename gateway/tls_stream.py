"""The server side of a TLS session driven over `ssl.MemoryBIO`s and an asyncio stream pair.

Used by the STARTTLS router (gateway/starttls_router.py) instead of `StreamWriter.start_tls`:
with 3.11's `start_tls` a failed handshake force-closes the socket before the alert leaves, so
a refused client would see a reset instead of `unrecognized_name`.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl

CHUNK = 64 * 1024  # largest read per step, either direction


class TlsStream:
    """The server side of a TLS session carried over an asyncio stream pair. `read` and
    `write` may run in two tasks at once: every TLS call is followed by a synchronous flush
    of its output, so records leave in the order they were made."""

    def __init__(
        self,
        session: ssl.SSLObject,
        incoming: ssl.MemoryBIO,
        outgoing: ssl.MemoryBIO,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
    ) -> None:
        self.session = session
        self._incoming = incoming
        self._outgoing = outgoing
        self._reader = reader
        self._writer = writer

    def _flush(self) -> None:
        data = self._outgoing.read()
        if data and not self._writer.is_closing():
            self._writer.write(data)

    async def _receive(self) -> None:
        data = await self._reader.read(CHUNK)
        if data:
            self._incoming.write(data)
        else:
            self._incoming.write_eof()

    async def handshake(self) -> None:
        """Completes the handshake; on failure sends the alert, then raises ssl.SSLError."""
        while True:
            try:
                self.session.do_handshake()
            except ssl.SSLWantReadError:
                self._flush()
                await self._writer.drain()
                await self._receive()
            except ssl.SSLError:
                self._flush()  # the alert
                with contextlib.suppress(ConnectionError):
                    await self._writer.drain()
                raise
            else:
                self._flush()
                await self._writer.drain()
                return

    async def read(self) -> bytes:
        """Up to CHUNK decrypted bytes; b"" at the client's end of stream."""
        while True:
            try:
                data = self.session.read(CHUNK)
            except ssl.SSLWantReadError:
                self._flush()
                await self._receive()
                continue
            except (ssl.SSLZeroReturnError, ssl.SSLEOFError):
                return b""
            self._flush()
            return data

    async def write(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            written = self.session.write(view)
            view = view[written:]
            self._flush()
        await self._writer.drain()

    def shutdown(self) -> None:
        """Queues close_notify (best effort; the socket is closed by the caller)."""
        with contextlib.suppress(ssl.SSLError, ValueError):
            self.session.unwrap()
        self._flush()
