"""A TLS ClientHello read from its first record, without I/O: the server name (SNI) a client
asks for, and the alert record a server sends to refuse it before any handshake.

Called by the STARTTLS router's hand-off (gateway/tls_handoff.py), which reads the SNI itself
and leaves the TLS handshake to Envoy. Only what routing needs is parsed; anything malformed
is `MalformedHello`, and the router closes the connection.
"""

from __future__ import annotations

import struct

RECORD_HEADER = 5
HANDSHAKE = 22  # TLS record content type
CLIENT_HELLO = 1  # handshake message type
ALERT = 21
ALERT_FATAL = 2
MAX_RECORD = 16384 + 256  # a TLSPlaintext fragment is at most 2^14 bytes; some slack
EXT_SERVER_NAME = 0
SNI_HOST_NAME = 0


class MalformedHello(ValueError):
    """The bytes are not a TLS ClientHello in one record (the message says what is wrong)."""


def record_length(header: bytes) -> int:
    """The total length (header included) of the TLS record whose 5-byte header is given;
    MalformedHello unless it is a handshake record of a plausible size."""
    if len(header) != RECORD_HEADER:
        raise ValueError(f"need exactly {RECORD_HEADER} bytes, got {len(header)}")
    kind, major, length = header[0], header[1], struct.unpack("!H", header[3:5])[0]
    if kind != HANDSHAKE or major != 3:
        raise MalformedHello("not a TLS handshake record")
    if not 0 < length <= MAX_RECORD:
        raise MalformedHello(f"record length {length} out of range")
    return RECORD_HEADER + int(length)


def server_name(record: bytes) -> str | None:
    """The host name of the SNI extension of the ClientHello in `record` (a whole handshake
    record), or None when it has none. A ClientHello split over several records is refused
    (MalformedHello): clients send it in one."""
    if len(record) < RECORD_HEADER or record_length(record[:RECORD_HEADER]) != len(record):
        raise MalformedHello("incomplete record")
    reader = _Reader(record[RECORD_HEADER:])
    if reader.u8() != CLIENT_HELLO:
        raise MalformedHello("not a ClientHello")
    body = _Reader(reader.take(reader.u24()))
    body.take(2 + 32)  # legacy_version, random
    body.take(body.u8())  # legacy_session_id
    body.take(body.u16())  # cipher_suites
    body.take(body.u8())  # legacy_compression_methods
    if body.left == 0:
        return None  # no extensions at all
    extensions = _Reader(body.take(body.u16()))
    while extensions.left:
        kind, data = extensions.u16(), extensions.take(extensions.u16())
        if kind == EXT_SERVER_NAME:
            return _host_name(_Reader(data))
    return None


def _host_name(extension: _Reader) -> str | None:
    names = _Reader(extension.take(extension.u16()))
    while names.left:
        kind, name = names.u8(), names.take(names.u16())
        if kind == SNI_HOST_NAME:
            try:
                return name.decode("ascii")
            except UnicodeDecodeError:
                raise MalformedHello("server name is not ASCII") from None
    return None


def alert_record(description: int) -> bytes:
    """A fatal plaintext TLS alert, as a server sends it in place of its ServerHello."""
    return struct.pack("!BHHBB", ALERT, 0x0303, 2, ALERT_FATAL, description)


class _Reader:
    """Reads big-endian fields off a byte string, MalformedHello past its end."""

    def __init__(self, data: bytes) -> None:
        self._data = data
        self._at = 0

    @property
    def left(self) -> int:
        return len(self._data) - self._at

    def take(self, count: int) -> bytes:
        if count > self.left:
            raise MalformedHello("truncated ClientHello")
        chunk = self._data[self._at : self._at + count]
        self._at += count
        return chunk

    def u8(self) -> int:
        return self.take(1)[0]

    def u16(self) -> int:
        return int(struct.unpack("!H", self.take(2))[0])

    def u24(self) -> int:
        return int.from_bytes(self.take(3), "big")
