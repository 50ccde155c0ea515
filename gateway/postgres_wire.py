"""PostgreSQL's startup-phase bytes, parsed and written without I/O.

What the first 8 bytes of a connection ask for (SSLRequest, GSSENCRequest, CancelRequest, a
plaintext StartupMessage), the cancel key a CancelRequest carries, the BackendKeyData a pod
sends (BackendKeyWatcher), and the FATAL ErrorResponse sent before closing. Called by the
STARTTLS router (gateway/starttls_router.py) and its tests.
"""

from __future__ import annotations

import enum
import struct

SSL_REQUEST_CODE = 80877103  # (1234 << 16) | 5679
GSSENC_REQUEST_CODE = 80877104  # (1234 << 16) | 5680
CANCEL_REQUEST_CODE = 80877102  # (1234 << 16) | 5678
MAX_STARTUP_PACKET = 10_000  # PostgreSQL's MAX_STARTUP_PACKET_LENGTH
MAX_CANCEL_KEY = 256  # protocol 3.2 allows cancel keys up to 256 bytes
MAX_KEY_WATCH = 64 * 1024  # BackendKeyData comes within the pod's first few hundred bytes
ALPN_POSTGRESQL = "postgresql"

SQLSTATE_TLS_REQUIRED = "28000"  # invalid_authorization_specification, as PostgreSQL's hba
SQLSTATE_CONNECTION_FAILURE = "08006"


class RequestKind(enum.Enum):
    """What the first 8 bytes of a PostgreSQL connection ask for."""

    SSL = "ssl"
    GSSENC = "gssenc"
    CANCEL = "cancel"
    STARTUP = "startup"  # a plaintext StartupMessage (protocol 3.x): the client skipped TLS
    OTHER = "other"


def classify_request(head: bytes) -> RequestKind:
    """Classifies the first 8 bytes a client sends: Int32 length (itself included), Int32
    request code or protocol version."""
    if len(head) != 8:
        raise ValueError(f"need exactly 8 bytes, got {len(head)}")
    length, code = struct.unpack("!II", head)
    if length == 8 and code == SSL_REQUEST_CODE:
        return RequestKind.SSL
    if length == 8 and code == GSSENC_REQUEST_CODE:
        return RequestKind.GSSENC
    if code == CANCEL_REQUEST_CODE and 16 <= length <= 12 + MAX_CANCEL_KEY:
        return RequestKind.CANCEL
    if code >> 16 == 3 and 8 < length <= MAX_STARTUP_PACKET:
        return RequestKind.STARTUP
    return RequestKind.OTHER


def packet_length(head: bytes) -> int:
    """The length field of a startup-phase packet (the first 4 bytes)."""
    (length,) = struct.unpack("!I", head[:4])
    return int(length)


def cancel_key(packet: bytes) -> bytes:
    """The (pid, secret key) part of a complete CancelRequest packet."""
    return packet[8 : packet_length(packet)]


class BackendKeyWatcher:
    """Finds BackendKeyData ('K': pid, secret key) in the pod's first messages, as a
    connection's startup goes by. Fed the server's bytes in order; stops looking (`done`)
    at ReadyForQuery, an ErrorResponse, anything it cannot parse, or after MAX_KEY_WATCH
    bytes. It only reads: the bytes are forwarded unchanged whatever it concludes."""

    def __init__(self) -> None:
        self.key: bytes | None = None
        self.done = False
        self._buffer = b""
        self._seen = 0

    def feed(self, data: bytes) -> None:
        if self.done:
            return
        self._seen += len(data)
        self._buffer += data
        while len(self._buffer) >= 5 and not self.done:
            kind = self._buffer[:1]
            length = packet_length(self._buffer[1:5])
            if length < 4:
                self.done = True
            elif len(self._buffer) < 1 + length:
                break
            else:
                body = self._buffer[5 : 1 + length]
                self._buffer = self._buffer[1 + length :]
                if kind == b"K" and 8 <= len(body) <= 4 + MAX_CANCEL_KEY:
                    self.key = body
                elif kind in (b"Z", b"E"):
                    self.done = True
        if self._seen >= MAX_KEY_WATCH:
            self.done = True
        if self.done:
            self._buffer = b""


def error_response(sqlstate: str, message: str) -> bytes:
    """A FATAL ErrorResponse ('E') message, as the server sends before closing."""
    if len(sqlstate) != 5 or not sqlstate.isascii():
        raise ValueError(f"bad SQLSTATE {sqlstate!r}")
    fields = b"".join(
        code + value.encode("utf-8").replace(b"\0", b" ") + b"\0"
        for code, value in ((b"S", "FATAL"), (b"V", "FATAL"), (b"C", sqlstate), (b"M", message))
    )
    body = fields + b"\0"
    return b"E" + struct.pack("!I", len(body) + 4) + body
