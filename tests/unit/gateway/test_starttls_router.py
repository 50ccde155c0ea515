"""Unit tests of the STARTTLS router's pure parts (gateway/postgres_wire.py,
gateway/sni_gate.py): request classification, the ErrorResponse it writes, SNI decisions
against literal route tables, the TLS context deciding real handshakes run entirely in memory
(ssl.MemoryBIO, no sockets), and the cancel-key watcher."""

from __future__ import annotations

import ssl
import struct
from pathlib import Path
from typing import Any

import pytest

from gateway.certs import TlsFiles, ensure_dev_certificates
from gateway.postgres_wire import (
    CANCEL_REQUEST_CODE,
    GSSENC_REQUEST_CODE,
    MAX_KEY_WATCH,
    SSL_REQUEST_CODE,
    BackendKeyWatcher,
    RequestKind,
    cancel_key,
    classify_request,
    error_response,
    packet_length,
)
from gateway.routes import PodRoute, RouteTable
from gateway.sni_gate import Refusal, SniDecision, SniGate, decide
from gateway.starttls_router import StartTlsRouter

DOMAIN = "pods.test"


def route(
    host: str, protocol: str = "postgres", status: str = "AVAILABLE", port: int = 15432
) -> PodRoute:
    pod_id = host.split(".")[0]
    return PodRoute(
        host=host,
        protocol=protocol,
        tenant_id="dev",
        pod_id=pod_id,
        stanza="default",
        status=status,
        upstream_host="127.0.0.1",
        upstream_port=port,
    )


TABLE = RouteTable.build(
    [
        route("pg.pods.test"),
        route("web.pods.test", protocol="http"),
        route("bolt.pods.test", protocol="tcp"),
        route("stopped.pods.test", status="STOPPED"),
        route("starting.pods.test", status="AVAILABLE", port=0),
        route("creating.pods.test", status="CREATING"),
    ]
)


# --- request classification --------------------------------------------------------------------


def head(length: int, code: int) -> bytes:
    return struct.pack("!II", length, code)


def test_ssl_request() -> None:
    assert classify_request(head(8, SSL_REQUEST_CODE)) is RequestKind.SSL
    assert (
        classify_request(bytes.fromhex("0000000804d2162f")) is RequestKind.SSL
    )  # as libpq sends it


def test_gssenc_request() -> None:
    assert classify_request(head(8, GSSENC_REQUEST_CODE)) is RequestKind.GSSENC
    assert classify_request(bytes.fromhex("0000000804d21630")) is RequestKind.GSSENC


def test_cancel_request_classic_and_long_keys() -> None:
    assert classify_request(head(16, CANCEL_REQUEST_CODE)) is RequestKind.CANCEL
    assert (
        classify_request(head(12 + 256, CANCEL_REQUEST_CODE)) is RequestKind.CANCEL
    )  # protocol 3.2


@pytest.mark.parametrize("minor", [0, 2])
def test_plaintext_startup_message(minor: int) -> None:
    assert classify_request(head(84, (3 << 16) | minor)) is RequestKind.STARTUP


@pytest.mark.parametrize(
    "data",
    [
        head(9, SSL_REQUEST_CODE),  # right code, wrong length
        head(16, SSL_REQUEST_CODE),
        head(8, CANCEL_REQUEST_CODE),  # a cancel too short for its keys
        head(12 + 257, CANCEL_REQUEST_CODE),
        head(10_001, 3 << 16),  # a startup packet longer than PostgreSQL accepts
        head(8, 3 << 16),  # a startup packet without even its terminator
        head(84, 2 << 16),  # protocol 2.0, gone since PostgreSQL 14
        bytes.fromhex("160301020001 0001".replace(" ", "")),  # a TLS ClientHello (direct TLS)
        b"GET / HT",
        b"\0" * 8,
        b"\xff" * 8,
    ],
)
def test_everything_else_is_other(data: bytes) -> None:
    assert classify_request(data) is RequestKind.OTHER


@pytest.mark.parametrize("data", [b"", b"\0" * 7, b"\0" * 9])
def test_classification_needs_exactly_eight_bytes(data: bytes) -> None:
    with pytest.raises(ValueError, match="exactly 8 bytes"):
        classify_request(data)


def test_packet_length() -> None:
    assert packet_length(head(84, 3 << 16)) == 84
    assert packet_length(b"\x00\x00\x27\x10") == 10_000


# --- ErrorResponse -----------------------------------------------------------------------------


def parse_error(message: bytes) -> dict[str, str]:
    assert message[:1] == b"E"
    (length,) = struct.unpack("!I", message[1:5])
    assert length == len(message) - 1
    body = message[5:]
    assert body.endswith(b"\0\0")
    fields = body[:-2].split(b"\0")
    return {f[:1].decode(): f[1:].decode() for f in fields}


def test_error_response_is_a_fatal_error_message() -> None:
    fields = parse_error(error_response("28000", "TLS only, é"))
    assert fields == {"S": "FATAL", "V": "FATAL", "C": "28000", "M": "TLS only, é"}


def test_error_response_cannot_be_cut_short_by_a_nul() -> None:
    fields = parse_error(error_response("08006", "a\0b"))
    assert fields["M"] == "a b"


def test_error_response_needs_a_sqlstate() -> None:
    with pytest.raises(ValueError, match="SQLSTATE"):
        error_response("280", "x")


# --- SNI decisions -----------------------------------------------------------------------------


def test_a_serving_postgres_route_is_chosen() -> None:
    decision = decide(TABLE, "pg.pods.test")
    assert decision == SniDecision("pg.pods.test", route=TABLE.routes["pg.pods.test"])
    assert decision.alert is None


def test_names_match_case_insensitively_and_without_trailing_dot() -> None:
    assert decide(TABLE, "PG.Pods.Test.").route == TABLE.routes["pg.pods.test"]


@pytest.mark.parametrize(
    ("server_name", "refusal"),
    [
        (None, Refusal.NO_SNI),
        ("", Refusal.NO_SNI),
        ("nope.pods.test", Refusal.UNKNOWN_NAME),
        ("pods.test", Refusal.UNKNOWN_NAME),
        ("pg.pods.test.evil.org", Refusal.UNKNOWN_NAME),
        ("web.pods.test", Refusal.NOT_POSTGRES),
        ("bolt.pods.test", Refusal.NOT_POSTGRES),
        ("stopped.pods.test", Refusal.NOT_SERVING),
        ("starting.pods.test", Refusal.NOT_SERVING),
        ("creating.pods.test", Refusal.NOT_SERVING),
    ],
)
def test_refusals_fail_with_unrecognized_name(server_name: str | None, refusal: Refusal) -> None:
    decision = decide(TABLE, server_name)
    assert decision.route is None
    assert decision.refusal is refusal
    assert decision.alert == ssl.ALERT_DESCRIPTION_UNRECOGNIZED_NAME


def test_an_empty_table_refuses_everything() -> None:
    assert decide(RouteTable.build([]), "pg.pods.test").refusal is Refusal.UNKNOWN_NAME


def test_an_unavailable_table_is_an_internal_error() -> None:
    assert SniDecision("x", refusal=Refusal.NO_TABLE).alert == ssl.ALERT_DESCRIPTION_INTERNAL_ERROR


# --- the TLS context, with real handshakes in memory --------------------------------------------


@pytest.fixture(scope="module")
def tls(tmp_path_factory: pytest.TempPathFactory) -> TlsFiles:
    return ensure_dev_certificates(tmp_path_factory.mktemp("certs"), DOMAIN)


def client_context(ca: Path | None, *, check_hostname: bool = True) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=str(ca) if ca else None)
    context.check_hostname = check_hostname
    context.set_alpn_protocols(["postgresql"])
    return context


def handshake(
    gate: SniGate, client: ssl.SSLContext, server_name: str | None
) -> tuple[ssl.SSLObject, ssl.SSLObject, ssl.SSLError | None, ssl.SSLError | None]:
    """Runs a TLS handshake between a client and the gate's context through memory buffers;
    returns (client, server, client error, server error)."""
    session, s_in, s_out = gate.session()
    c_in, c_out = ssl.MemoryBIO(), ssl.MemoryBIO()
    peer = client.wrap_bio(c_in, c_out, server_hostname=server_name)
    errors: dict[str, ssl.SSLError] = {}
    done = {"client": False, "server": False}
    for _ in range(20):
        for side, obj in (("client", peer), ("server", session)):
            if side in errors or done[side]:
                continue
            try:
                obj.do_handshake()
                done[side] = True
            except ssl.SSLWantReadError:
                pass
            except ssl.SSLError as exc:
                errors[side] = exc
        s_in.write(c_out.read())
        c_in.write(s_out.read())
        if all(done.values()) or errors.get("client"):
            break
    return peer, session, errors.get("client"), errors.get("server")


def test_handshake_for_a_routed_name_completes_and_is_remembered(tls: TlsFiles) -> None:
    gate = SniGate(lambda: TABLE, tls)
    client, server, client_error, server_error = handshake(
        gate, client_context(tls.ca), "pg.pods.test"
    )
    assert client_error is None and server_error is None
    assert client.selected_alpn_protocol() == "postgresql"
    assert client.version() in {"TLSv1.2", "TLSv1.3"}
    assert gate.take(server) == SniDecision("pg.pods.test", route=TABLE.routes["pg.pods.test"])
    assert gate.take(server) is None  # taken once


@pytest.mark.parametrize(
    ("server_name", "refusal"),
    [
        ("nope.pods.test", Refusal.UNKNOWN_NAME),
        ("web.pods.test", Refusal.NOT_POSTGRES),
        ("stopped.pods.test", Refusal.NOT_SERVING),
    ],
)
def test_refused_names_get_the_unrecognized_name_alert(
    tls: TlsFiles, server_name: str, refusal: Refusal
) -> None:
    gate = SniGate(lambda: TABLE, tls)
    _, server, client_error, server_error = handshake(gate, client_context(tls.ca), server_name)
    assert client_error is not None and "TLSV1_UNRECOGNIZED_NAME" in str(client_error)
    assert server_error is not None
    decision = gate.take(server)
    assert decision is not None and decision.refusal is refusal


def test_no_sni_is_refused(tls: TlsFiles) -> None:
    gate = SniGate(lambda: TABLE, tls)
    _, server, client_error, _ = handshake(gate, client_context(tls.ca, check_hostname=False), None)
    assert client_error is not None and "TLSV1_UNRECOGNIZED_NAME" in str(client_error)
    assert gate.take(server) == SniDecision(None, refusal=Refusal.NO_SNI)


def test_the_table_is_read_at_every_handshake(tls: TlsFiles) -> None:
    tables = [RouteTable.build([]), TABLE]
    reads: list[int] = []

    def current() -> RouteTable:
        reads.append(1)
        return tables[0]

    gate = SniGate(current, tls)
    _, _, refused, _ = handshake(gate, client_context(tls.ca), "pg.pods.test")
    tables[0] = TABLE
    _, _, accepted, _ = handshake(gate, client_context(tls.ca), "pg.pods.test")
    assert refused is not None and accepted is None
    assert len(reads) == 2


def test_a_failing_table_fails_the_handshake_with_internal_error(
    tls: TlsFiles, caplog: pytest.LogCaptureFixture
) -> None:
    def broken() -> RouteTable:
        raise RuntimeError("database is down")

    gate = SniGate(broken, tls)
    _, server, client_error, _ = handshake(gate, client_context(tls.ca), "pg.pods.test")
    assert client_error is not None and "TLSV1_ALERT_INTERNAL_ERROR" in str(client_error)
    decision = gate.take(server)
    assert decision is not None and decision.refusal is Refusal.NO_TABLE
    assert "route table lookup failed" in caplog.text


def test_the_server_offers_no_tls_below_1_2(tls: TlsFiles) -> None:
    gate = SniGate(lambda: TABLE, tls)
    old = client_context(tls.ca)
    old.minimum_version = ssl.TLSVersion.TLSv1
    old.maximum_version = ssl.TLSVersion.TLSv1_1
    old.set_ciphers("ALL:@SECLEVEL=0")
    _, _, client_error, _ = handshake(gate, old, "pg.pods.test")
    assert client_error is not None and "PROTOCOL_VERSION" in str(client_error)


# --- construction ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs", [{"handshake_timeout": 0}, {"handshake_timeout": -1}, {"idle_timeout": 0}]
)
def test_timeouts_must_be_positive(tls: TlsFiles, kwargs: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="must be positive"):
        StartTlsRouter(lambda: TABLE, tls, **kwargs)


def test_port_before_start_is_an_error(tls: TlsFiles) -> None:
    with pytest.raises(RuntimeError, match="not started"):
        _ = StartTlsRouter(lambda: TABLE, tls).port


def test_missing_certificate_files_fail_at_construction(tmp_path: Path) -> None:
    missing = TlsFiles(cert=tmp_path / "no.pem", key=tmp_path / "no-key.pem", ca=None)
    with pytest.raises(FileNotFoundError):
        StartTlsRouter(lambda: TABLE, missing)


# --- cancel keys -------------------------------------------------------------------------------


def message(kind: bytes, body: bytes) -> bytes:
    return kind + struct.pack("!I", len(body) + 4) + body


PID_AND_SECRET = struct.pack("!iI", 4242, 0xDEADBEEF)
STARTUP_REPLY = b"".join(
    [
        message(b"R", struct.pack("!i", 10) + b"SCRAM-SHA-256\0\0"),  # AuthenticationSASL
        message(b"R", struct.pack("!i", 12) + b"v=signature"),  # AuthenticationSASLFinal
        message(b"R", struct.pack("!i", 0)),  # AuthenticationOk
        message(b"S", b"server_version\x0015.8\0"),
        message(b"S", b"TimeZone\0UTC\0"),
        message(b"K", PID_AND_SECRET),
        message(b"Z", b"I"),
    ]
)


def test_cancel_key_is_pid_and_secret() -> None:
    packet = struct.pack("!II", 16, CANCEL_REQUEST_CODE) + PID_AND_SECRET
    assert cancel_key(packet) == PID_AND_SECRET


def test_watcher_finds_the_backend_key_in_the_startup_reply() -> None:
    watcher = BackendKeyWatcher()
    watcher.feed(STARTUP_REPLY + message(b"T", b"rows follow"))
    assert watcher.key == PID_AND_SECRET
    assert watcher.done


def test_watcher_copes_with_any_split() -> None:
    watcher = BackendKeyWatcher()
    for i in range(len(STARTUP_REPLY)):
        assert not watcher.done
        watcher.feed(STARTUP_REPLY[i : i + 1])
    assert watcher.key == PID_AND_SECRET and watcher.done


def test_watcher_takes_long_protocol_3_2_keys() -> None:
    body = struct.pack("!i", 7) + bytes(range(32))
    watcher = BackendKeyWatcher()
    watcher.feed(message(b"K", body) + message(b"Z", b"I"))
    assert watcher.key == body


def test_watcher_stops_at_an_error_without_a_key() -> None:
    watcher = BackendKeyWatcher()
    watcher.feed(message(b"E", b"SFATAL\0C28P01\0Mpassword authentication failed\0\0"))
    assert watcher.done and watcher.key is None
    watcher.feed(message(b"K", PID_AND_SECRET))  # ignored once done
    assert watcher.key is None


def test_watcher_gives_up_on_garbage_and_on_long_streams() -> None:
    garbage = BackendKeyWatcher()
    garbage.feed(b"N\0\0\0\0")  # a length below 4 is no message
    assert garbage.done and garbage.key is None

    endless = BackendKeyWatcher()
    for _ in range(MAX_KEY_WATCH // 1000 + 1):
        endless.feed(message(b"N", b"x" * 995))
    assert endless.done and endless.key is None
