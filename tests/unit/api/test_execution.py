"""Exec: Tapis's command shapes (a list of strings is one command, a list of lists several) and
the deprecated ExecPod's, per-command and total timeouts, stopping on failure, and what each
result says (success, duration, when it ended, totals)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import pytest

from services.api.domain.execution import (
    ExecRequest,
    check_timeouts,
    command_argvs,
    parse_commands,
    parse_item_commands,
    run_commands,
)
from services.api.errors import InvalidArgumentError
from services.common.runtime.types import ExecResult, PodKey

KEY = PodKey("dev", "web1")


class ScriptedRunner:
    """Exit code = number in argv[1] if any; 'slow' times out; records timeouts given."""

    def __init__(self) -> None:
        self.timeouts: list[float] = []
        self.users: list[str] = []

    async def run(
        self, key: PodKey, user: str, argv: Sequence[str], timeout: float, limit_bytes: int
    ) -> ExecResult:
        self.timeouts.append(timeout)
        self.users.append(user)
        if argv[0] == "slow":
            return ExecResult(exit_code=None, stdout="", stderr="", timed_out=True)
        code = int(argv[1]) if len(argv) > 1 and argv[1].isdigit() else 0
        return ExecResult(exit_code=code, stdout=" ".join(argv), stderr="")


def test_a_list_of_strings_is_one_command_as_in_tapis() -> None:
    assert parse_commands(["sleep", "5"]) == [("sleep", "5")]
    assert parse_commands(["ls -l"]) == [("ls -l",)]  # an argv, never split


def test_a_list_of_lists_is_several_commands() -> None:
    assert parse_commands([["sleep", "5"], ["echo", "$HOME; rm -rf /"]]) == [
        ("sleep", "5"),
        ("echo", "$HOME; rm -rf /"),
    ]


def test_the_deprecated_shape_splits_strings_and_takes_lists_as_argv() -> None:
    assert parse_item_commands(["ls -l '/a b'", ["echo", "$HOME; rm -rf /"]]) == [
        ("ls", "-l", "/a b"),
        ("echo", "$HOME; rm -rf /"),
    ]
    deprecated = ExecRequest(commands=["ls -l", "pwd"], each_item_is_a_command=True)
    assert command_argvs(deprecated) == [("ls", "-l"), ("pwd",)]
    assert command_argvs(ExecRequest(commands=["ls -l", "pwd"])) == [("ls -l", "pwd")]


@pytest.mark.parametrize(
    ("commands", "field"),
    [
        ([], "commands"),
        (["ls", ["pwd"]], "commands"),  # a mix of the two shapes
        ([5], "commands"),
        ([""], "commands"),
        ([["ok"], []], "commands[1]"),
        ([["ok"], ["a", 5]], "commands[1]"),
        ([["ok"]] * 21, "commands"),
    ],
)
def test_bad_commands_name_the_entry(commands: list[object], field: str) -> None:
    with pytest.raises(InvalidArgumentError) as info:
        parse_commands(commands)
    assert info.value.field == field


@pytest.mark.parametrize(
    ("commands", "field"),
    [
        ([], "commands"),
        (["ok", ""], "commands[1]"),
        ([5], "commands[0]"),
        (["'open"], "commands[0]"),
    ],
)
def test_bad_commands_of_the_deprecated_shape_name_the_entry(
    commands: list[object], field: str
) -> None:
    with pytest.raises(InvalidArgumentError) as info:
        parse_item_commands(commands)
    assert info.value.field == field


async def test_each_result_says_success_duration_and_when_it_ended() -> None:
    ticks = iter([0.0, 1.25, 1.5])
    ended = datetime(2026, 12, 7, 10, 30, tzinfo=UTC)
    report = await run_commands(
        ScriptedRunner(),
        KEY,
        "alice",
        ExecRequest(commands=[["a", "0"], ["b", "3"]], fail_on_non_success=False),
        clock=lambda: next(ticks),
        wall_clock=lambda: ended,
    )
    assert [(o.success, o.duration_sec, o.finished) for o in report.outputs] == [
        (True, 1.25, ended),
        (False, 0.25, ended),
    ]
    assert (report.total_commands, report.successful_commands) == (2, 1)


async def test_the_total_counts_commands_that_did_not_run() -> None:
    report = await run_commands(
        ScriptedRunner(), KEY, "alice", ExecRequest(commands=[["a", "3"], ["b"], ["c"]])
    )
    assert (len(report.outputs), report.total_commands, report.successful_commands) == (1, 3, 0)


async def test_commands_stop_at_the_first_failure_unless_told_otherwise() -> None:
    runner = ScriptedRunner()
    report = await run_commands(
        runner, KEY, "alice", ExecRequest(commands=[["a", "0"], ["b", "3"], ["c", "0"]])
    )
    assert [o.argv[0] for o in report.outputs] == ["a", "b"]
    assert "exited with code 3" in report.message
    report = await run_commands(
        runner,
        KEY,
        "alice",
        ExecRequest(commands=[["a", "0"], ["b", "3"], ["c", "0"]], fail_on_non_success=False),
    )
    assert [o.argv[0] for o in report.outputs] == ["a", "b", "c"]
    assert set(runner.users) == {"alice"}


async def test_a_timed_out_command_ends_the_run() -> None:
    report = await run_commands(
        ScriptedRunner(), KEY, "alice", ExecRequest(commands=[["slow"], ["never"]])
    )
    assert len(report.outputs) == 1 and "timed out" in report.message


async def test_each_command_gets_at_most_what_is_left_of_the_total() -> None:
    now = [0.0]
    runner = ScriptedRunner()

    def clock() -> float:
        now[0] += 50  # every look at the clock, 50 s have passed
        return now[0]

    request = ExecRequest(commands=[["a"], ["b"], ["c"]], total_timeout=100, command_timeout=60)
    report = await run_commands(runner, KEY, "alice", request, clock=clock)
    assert runner.timeouts == [60.0, 50.0]
    assert "total_timeout (100s) was reached" in report.message


def test_timeouts_are_validated() -> None:
    with pytest.raises(InvalidArgumentError, match="command_timeout"):
        check_timeouts(ExecRequest(commands=["a"], total_timeout=10, command_timeout=20))
