"""Exec: Tapis's two command shapes, per-command and total timeouts, stopping on failure."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from services.api.domain.execution import (
    ExecRequest,
    check_timeouts,
    parse_commands,
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


def test_strings_are_split_like_a_shell_and_lists_are_taken_as_argv() -> None:
    assert parse_commands(["ls -l '/a b'", ["echo", "$HOME; rm -rf /"]]) == [
        ("ls", "-l", "/a b"),
        ("echo", "$HOME; rm -rf /"),
    ]


@pytest.mark.parametrize(
    ("commands", "field"),
    [
        ([], "commands"),
        (["ok", ""], "commands[1]"),
        ([5], "commands[0]"),
        (["'open"], "commands[0]"),
    ],
)
def test_bad_commands_name_the_entry(commands: list[object], field: str) -> None:
    with pytest.raises(InvalidArgumentError) as info:
        parse_commands(commands)
    assert info.value.field == field


async def test_commands_stop_at_the_first_failure_unless_told_otherwise() -> None:
    runner = ScriptedRunner()
    report = await run_commands(runner, KEY, "alice", ExecRequest(commands=["a 0", "b 3", "c 0"]))
    assert [o.argv[0] for o in report.outputs] == ["a", "b"]
    assert "exited with code 3" in report.message
    report = await run_commands(
        runner,
        KEY,
        "alice",
        ExecRequest(commands=["a 0", "b 3", "c 0"], fail_on_non_success=False),
    )
    assert [o.argv[0] for o in report.outputs] == ["a", "b", "c"]
    assert set(runner.users) == {"alice"}


async def test_a_timed_out_command_ends_the_run() -> None:
    report = await run_commands(
        ScriptedRunner(), KEY, "alice", ExecRequest(commands=["slow", "never"])
    )
    assert len(report.outputs) == 1 and "timed out" in report.message


async def test_each_command_gets_at_most_what_is_left_of_the_total() -> None:
    now = [0.0]
    runner = ScriptedRunner()

    def clock() -> float:
        now[0] += 40  # every look at the clock, 40 s have passed
        return now[0]

    request = ExecRequest(commands=["a", "b", "c"], total_timeout=100, command_timeout=60)
    report = await run_commands(runner, KEY, "alice", request, clock=clock)
    assert runner.timeouts == [60.0, 20.0]
    assert "total_timeout reached" in report.message


def test_timeouts_are_validated() -> None:
    with pytest.raises(InvalidArgumentError, match="command_timeout"):
        check_timeouts(ExecRequest(commands=["a"], total_timeout=10, command_timeout=20))
