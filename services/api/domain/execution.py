"""Running commands in a pod (Tapis "exec"): reading the commands, enforcing the per-command
and total timeouts, stopping at the first failure when asked, and timing each command.
Called by domain/pods.py; the commands themselves run through a CommandRunner (the spawner,
over gRPC).

Tapis's shape (ExecPodCommands, and REST): a list of strings is ONE command, its argv
(`["sleep", "5"]`); a list of lists of strings is several (`[["sleep", "5"], ["ls"]]`). The
deprecated ExecPod keeps its own shape: each item is a command, a string split like a shell
would (but run without one) or a list (argv)."""

from __future__ import annotations

import shlex
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

from services.api.errors import InvalidArgumentError
from services.common.runtime.types import ExecResult, PodKey

MAX_COMMANDS = 20
MAX_TOTAL_TIMEOUT = 3600
OUTPUT_LIMIT = 1024 * 1024

Argv = tuple[str, ...]


class CommandRunner(Protocol):
    """Runs one command in a pod's container."""

    async def run(
        self, key: PodKey, user: str, argv: Sequence[str], timeout: float, limit_bytes: int
    ) -> ExecResult:
        """Runs `argv` for `user` (limits per user); ResourceExhaustedError beyond a limit."""
        ...


@dataclass(frozen=True)
class ExecRequest:
    """What the caller asked for; commands as parsed JSON (see the module docstring)."""

    commands: Sequence[object]
    total_timeout: int = 300
    command_timeout: int = 60
    fail_on_non_success: bool = True
    each_item_is_a_command: bool = False  # the deprecated ExecPod's shape


@dataclass(frozen=True)
class CommandOutput:
    """One command's result: how long it ran and when it ended (UTC)."""

    argv: Argv
    result: ExecResult
    duration_sec: float = 0.0
    finished: datetime | None = None

    @property
    def success(self) -> bool:
        return self.result.exit_code == 0 and not self.result.timed_out


@dataclass(frozen=True)
class ExecReport:
    """Every command that ran, how many were asked for, and a sentence saying how it went."""

    outputs: tuple[CommandOutput, ...]
    message: str
    total_commands: int = 0

    @property
    def successful_commands(self) -> int:
        return sum(1 for output in self.outputs if output.success)


def command_argvs(request: ExecRequest) -> list[Argv]:
    """The argv of each command to run, in order, or InvalidArgumentError naming the entry."""
    if request.each_item_is_a_command:
        return parse_item_commands(request.commands)
    return parse_commands(request.commands)


def parse_commands(commands: Sequence[object]) -> list[Argv]:
    """Tapis's shape: a list of strings is one command; a list of lists of strings, several."""
    if not commands:
        raise InvalidArgumentError("commands", "give at least one command")
    if all(isinstance(part, str) for part in commands):
        return [_checked_argv("commands", commands)]
    if not all(isinstance(command, list) for command in commands):
        raise InvalidArgumentError(
            "commands",
            'must be one command (a list of strings, ["ls", "-l"]) or several '
            '(a list of lists of strings, [["ls"], ["pwd"]])',
        )
    _check_count(commands)
    return [_checked_argv(f"commands[{i}]", command) for i, command in enumerate(commands)]


def parse_item_commands(commands: Sequence[object]) -> list[Argv]:
    """The deprecated ExecPod's shape: each item is a command, "ls -l" (split like a shell,
    run without one) or ["ls", "-l"]."""
    if not commands:
        raise InvalidArgumentError("commands", "give at least one command")
    _check_count(commands)
    parsed: list[Argv] = []
    for index, command in enumerate(commands):
        field = f"commands[{index}]"
        if isinstance(command, str):
            try:
                command = shlex.split(command)
            except ValueError as exc:
                raise InvalidArgumentError(field, f"cannot be split: {exc}") from None
        parsed.append(_checked_argv(field, command))
    return parsed


def _check_count(commands: Sequence[object]) -> None:
    if len(commands) > MAX_COMMANDS:
        raise InvalidArgumentError("commands", f"give at most {MAX_COMMANDS} commands")


def _checked_argv(field: str, command: object) -> Argv:
    if not isinstance(command, list | tuple) or not all(isinstance(p, str) for p in command):
        raise InvalidArgumentError(field, "must be a list of strings (the command's argv)")
    argv = tuple(command)
    if not argv or not argv[0] or any("\x00" in part for part in argv):
        raise InvalidArgumentError(field, "must be a non-empty command")
    return argv


def check_timeouts(request: ExecRequest) -> None:
    if not 1 <= request.total_timeout <= MAX_TOTAL_TIMEOUT:
        raise InvalidArgumentError("total_timeout", f"must be 1 to {MAX_TOTAL_TIMEOUT} seconds")
    if not 1 <= request.command_timeout <= request.total_timeout:
        raise InvalidArgumentError("command_timeout", "must be 1 second to total_timeout")


def _utcnow() -> datetime:
    return datetime.now(UTC)


async def run_commands(
    runner: CommandRunner,
    key: PodKey,
    user: str,
    request: ExecRequest,
    clock: Callable[[], float] = time.monotonic,
    wall_clock: Callable[[], datetime] = _utcnow,
) -> ExecReport:
    """Runs the commands in order within the timeouts."""
    check_timeouts(request)
    commands = command_argvs(request)
    total = len(commands)
    now = clock()  # each command starts when the one before it ended
    deadline = now + request.total_timeout
    outputs: list[CommandOutput] = []

    def report(message: str) -> ExecReport:
        return ExecReport(tuple(outputs), message, total)

    for index, argv in enumerate(commands):
        remaining = deadline - now
        if remaining <= 0:
            return report(
                f"Stopped before command {index}: total_timeout ({request.total_timeout}s) "
                "was reached."
            )
        timeout = min(float(request.command_timeout), remaining)
        result = await runner.run(key, user, argv, timeout, OUTPUT_LIMIT)
        started, now = now, clock()
        duration = round(max(now - started, 0.0), 3)
        outputs.append(CommandOutput(argv, result, duration, wall_clock()))
        if result.timed_out:
            return report(f"Stopped: command {index} timed out after {timeout:.0f}s.")
        if result.exit_code != 0 and request.fail_on_non_success:
            return report(
                f"Stopped: command {index} exited with code {result.exit_code} "
                "(fail_on_non_success is true)."
            )
    succeeded = sum(1 for output in outputs if output.success)
    return report(f"All {total} commands ran; {succeeded} succeeded.")
