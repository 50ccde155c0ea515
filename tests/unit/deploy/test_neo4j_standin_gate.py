"""The neo4j stand-in's Bolt login gate (deploy/images/neo4j-standin/bolt_gate.py): a LOGON
with a declared user and password becomes FalkorDB's own login; any other LOGON becomes one
FalkorDB refuses, and that refusal is reworded as Neo4j's."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

GATE_PATH = Path(__file__).parents[3] / "deploy/images/neo4j-standin/bolt_gate.py"
USERS = {"docpod": "pw-123", "neo4j": "admin-pw"}


@pytest.fixture(scope="module")
def gate() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bolt_gate", GATE_PATH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["bolt_gate"] = module
    spec.loader.exec_module(module)
    return module


def logon(gate: ModuleType, **auth: str) -> bytes:
    return bytes(gate.LOGON + gate.pack_map(auth))


def forwarded(gate: ModuleType, message: bytes, users: dict[str, str] | None) -> dict[str, str]:
    out = gate.gate_logon(message, users, "internal")
    assert out.startswith(gate.LOGON)
    return dict(gate.unpack_string_map(out, 2))


def test_a_declared_user_logs_in_as_falkordb(gate: ModuleType) -> None:
    message = logon(gate, scheme="basic", principal="docpod", credentials="pw-123")
    assert forwarded(gate, message, USERS) == {
        "scheme": "basic",
        "principal": "falkordb",
        "credentials": "internal",
    }


@pytest.mark.parametrize(
    "auth",
    [
        {"scheme": "basic", "principal": "docpod", "credentials": "wrong"},
        {"scheme": "basic", "principal": "falkordb", "credentials": "internal"},
        {"scheme": "none"},
        {"scheme": "bearer", "credentials": "pw-123"},
    ],
)
def test_anything_else_is_passed_on_with_a_password_that_fails(
    gate: ModuleType, auth: dict[str, str]
) -> None:
    assert forwarded(gate, logon(gate, **auth), USERS)["credentials"] != "internal"


def test_a_malformed_logon_is_refused(gate: ModuleType) -> None:
    assert forwarded(gate, bytes(gate.LOGON) + b"\xff", USERS)["credentials"] != "internal"


def test_neo4j_auth_none_lets_anyone_in(gate: ModuleType) -> None:
    assert forwarded(gate, logon(gate, scheme="none"), None)["credentials"] == "internal"


def test_falkordbs_refusal_is_reworded_as_neo4js(gate: ModuleType) -> None:
    refusal = bytes(gate.FAILURE + gate.pack_map({"code": gate.FALKOR_REFUSAL.decode()}))
    reworded = dict(gate.unpack_string_map(gate.reword_refusal(refusal), 2))
    assert reworded["neo4j_code"] == "Neo.ClientError.Security.Unauthorized"
    other = bytes(gate.FAILURE + gate.pack_map({"code": "Neo.ClientError.Statement.SyntaxError"}))
    assert gate.reword_refusal(other) == other


def test_messages_are_framed_in_chunks_ending_with_an_empty_one(gate: ModuleType) -> None:
    big = b"x" * 70000
    framed = gate.frame(big)
    assert framed[:2] == (65535).to_bytes(2, "big")
    assert framed.endswith(b"\x00\x00") and len(framed) == 70000 + 2 + 2 + 2
