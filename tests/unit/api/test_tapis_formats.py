"""Formats Tapis users parse: timestamps (UTC, ISO 8601 without an offset), action log lines
(`yy/mm/dd HH:MM: text`), exec results in Tapis's shape, and `status_requested` as create and
update accept it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from services.api.domain.execution import CommandOutput, ExecReport
from services.api.domain.requested_status import requested_on_create, requested_on_update
from services.api.errors import InvalidArgumentError
from services.api.transport.convert import timestamp
from services.api.transport.pods_convert import execution_results
from services.common.db.pod_rows import action_line
from services.common.pods_model import RequestedStatus
from services.common.runtime.types import ExecResult

WHEN = datetime(2024, 3, 18, 11, 36, 5, 123456, tzinfo=UTC)


def test_timestamps_print_as_tapis_naive_utc_isoformat() -> None:
    assert timestamp(WHEN) == "2024-03-18T11:36:05.123456"
    assert timestamp(WHEN.astimezone(timezone(timedelta(hours=-5)))) == "2024-03-18T11:36:05.123456"
    assert timestamp(WHEN.replace(microsecond=0)) == "2024-03-18T11:36:05"
    assert timestamp(None) == ""
    assert datetime.fromisoformat(timestamp(WHEN)) == WHEN.replace(tzinfo=None)


def test_action_log_lines_start_with_the_utc_minute() -> None:
    assert action_line(WHEN, "status AVAILABLE") == "24/03/18 11:36: status AVAILABLE"
    local = WHEN.astimezone(timezone(timedelta(hours=2)))
    assert action_line(local, "x") == "24/03/18 11:36: x"


def test_exec_results_have_tapis_fields_and_totals() -> None:
    report = ExecReport(
        outputs=(
            CommandOutput(("echo", "a"), ExecResult(0, "a\n", ""), 0.012, WHEN),
            CommandOutput(("sleep", "9"), ExecResult(None, "", "", timed_out=True), 1.0, WHEN),
        ),
        message="stopped",
        total_commands=3,
    )
    message = execution_results(report)
    assert (message.total_commands, message.successful_commands) == (3, 1)
    first, second = message.execution_results
    assert (list(first.command), first.stdout, first.success) == (["echo", "a"], "a\n", True)
    assert (first.duration_sec, first.timestamp) == (0.012, "2024-03-18T11:36:05.123456")
    assert (second.success, second.timed_out, second.exit_code) == (False, True, -1)


@pytest.mark.parametrize(
    ("given", "expected"),
    [("", RequestedStatus.ON), ("ON", RequestedStatus.ON), ("OFF", RequestedStatus.OFF)],
)
def test_a_pod_is_created_on_or_off(given: str, expected: RequestedStatus) -> None:
    assert requested_on_create(given) is expected


@pytest.mark.parametrize("given", ["RESTART", "PAUSED"])
def test_other_statuses_on_create_are_refused_naming_the_field(given: str) -> None:
    with pytest.raises(InvalidArgumentError) as info:
        requested_on_create(given)
    assert info.value.field == "status_requested"


def test_an_update_may_ask_for_any_requested_status_or_none() -> None:
    assert requested_on_update(None) is None
    assert requested_on_update("") is None
    assert requested_on_update("RESTART") is RequestedStatus.RESTART
    with pytest.raises(InvalidArgumentError, match="ON, OFF or RESTART"):
        requested_on_update("STOPPED")
