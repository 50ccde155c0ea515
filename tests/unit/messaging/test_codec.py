"""The wire format of PodCommand and PodEvent: exact bytes, round trips and rejections."""

from __future__ import annotations

import json

import pytest

from services.common.messaging import InvalidMessageError, PodCommand, PodEvent
from services.common.outcomes import PermanentError
from services.common.runtime.types import PodKey


class TestPodCommand:
    def test_encodes_to_versioned_compact_json(self) -> None:
        command = PodCommand("dev", "mypod1", "create")
        assert command.encode() == (
            b'{"v":1,"tenant_id":"dev","pod_id":"mypod1","reason":"create"}'
        )

    def test_round_trips(self) -> None:
        command = PodCommand("tenant-a", "pod_9", "resync")
        assert PodCommand.decode(command.encode()) == command

    def test_key_names_the_pod(self) -> None:
        assert PodCommand("dev", "p", "delete").key == PodKey("dev", "p")

    def test_ignores_unknown_fields(self) -> None:
        data = b'{"v":1,"tenant_id":"dev","pod_id":"p","reason":"create","extra":[1]}'
        assert PodCommand.decode(data) == PodCommand("dev", "p", "create")

    @pytest.mark.parametrize(
        "data",
        [
            b"",
            b"not json",
            b"\xff\xfe",
            b"[1, 2]",
            b'"text"',
            b'{"tenant_id":"dev","pod_id":"p","reason":"create"}',  # no version
            b'{"v":2,"tenant_id":"dev","pod_id":"p","reason":"create"}',
            b'{"v":1,"pod_id":"p","reason":"create"}',
            b'{"v":1,"tenant_id":"dev","pod_id":"p"}',
            b'{"v":1,"tenant_id":"dev","pod_id":"p","reason":""}',
            b'{"v":1,"tenant_id":7,"pod_id":"p","reason":"create"}',
            b'{"v":1,"tenant_id":"dev","pod_id":"a.b","reason":"create"}',
            b'{"v":1,"tenant_id":"dev","pod_id":"*","reason":"create"}',
            b'{"v":1,"tenant_id":"dev","pod_id":">","reason":"create"}',
            b'{"v":1,"tenant_id":"de v","pod_id":"p","reason":"create"}',
            b'{"v":1,"tenant_id":"dev","pod_id":"p","reason":"a\\nb"}',
            b"[" * 100_000,
        ],
    )
    def test_rejects_anything_else_with_a_clear_error(self, data: bytes) -> None:
        with pytest.raises(InvalidMessageError):
            PodCommand.decode(data)

    def test_invalid_message_error_is_permanent_and_a_value_error(self) -> None:
        with pytest.raises(InvalidMessageError) as caught:
            PodCommand.decode(b"{}")
        assert isinstance(caught.value, PermanentError)
        assert isinstance(caught.value, ValueError)

    @pytest.mark.parametrize(
        ("tenant", "pod", "reason"),
        [("", "p", "r"), ("t", "", "r"), ("t.x", "p", "r"), ("t", "p", ""), ("t", "p", "x" * 201)],
    )
    def test_constructor_validates(self, tenant: str, pod: str, reason: str) -> None:
        with pytest.raises(InvalidMessageError):
            PodCommand(tenant, pod, reason)

    def test_long_ids_are_bounded(self) -> None:
        PodCommand("t", "p" * 128, "r")
        with pytest.raises(InvalidMessageError):
            PodCommand("t", "p" * 129, "r")


class TestPodEvent:
    def test_encodes_to_versioned_compact_json(self) -> None:
        event = PodEvent("dev", "p1", "AVAILABLE", 3)
        assert json.loads(event.encode()) == {
            "v": 1,
            "tenant_id": "dev",
            "pod_id": "p1",
            "status": "AVAILABLE",
            "generation": 3,
        }

    def test_round_trips(self) -> None:
        event = PodEvent("dev", "p1", "SPAWNER_SETUP", 0)
        assert PodEvent.decode(event.encode()) == event
        assert event.key == PodKey("dev", "p1")

    @pytest.mark.parametrize("generation", [-1, 1.5, "2", True, None])
    def test_rejects_bad_generation(self, generation: object) -> None:
        data = json.dumps(
            {"v": 1, "tenant_id": "d", "pod_id": "p", "status": "ON", "generation": generation}
        ).encode()
        with pytest.raises(InvalidMessageError):
            PodEvent.decode(data)

    def test_rejects_missing_status(self) -> None:
        data = b'{"v":1,"tenant_id":"d","pod_id":"p","generation":1}'
        with pytest.raises(InvalidMessageError):
            PodEvent.decode(data)

    def test_a_command_is_not_an_event(self) -> None:
        with pytest.raises(InvalidMessageError):
            PodEvent.decode(PodCommand("d", "p", "create").encode())
