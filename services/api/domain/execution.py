"""Running commands in a pod (Tapis "exec"): parsing the commands, enforcing the per-command
and total timeouts, stopping at the first failure when asked. Called by domain/pods.py; the
commands themselves run through a CommandRunner (the spawner, over gRPC)."""

from __future__ import annotations

import shlex
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from services.api.errors import InvalidArgumentError
from services.common.runtime.types import ExecResult, PodKey

MAX_COMMANDS = 20
MAX_TOTAL_TIMEOUT = 3600
OUTPUT_LIMIT = 1024 * 1024


class CommandRunner(Protocol):
    """Runs one command in a pod's container."""

    async def run(
        self, key: PodKey, user: str, argv: Sequence[str], timeout: float, limit_bytes: int
    ) -> ExecResult:
        """Runs `argv` for `user` (limits per user); ResourceExhaustedError beyond a limit."""
        ...


@dataclass(frozen=True)
class ExecRequest:
    """What the caller asked for; commands as parsed JSON (strings or lists of strings)."""

    commands: Sequence[object]
    total_timeout: int = 300
    command_timeout: int = 60
    fail_on_non_success: bool = True


@dataclass(frozen=True)
class CommandOutput:
    """One command's result."""

    argv: tuple[str, ...]
    result: ExecResult


@dataclass(frozen=True)
class ExecReport:
    """Every command that ran, and a sentence saying how it went."""

    outputs: tuple[CommandOutput, ...]
    message: str


def parse_commands(commands: Sequence[object]) -> list[tuple[str, ...]]:
    """argv lists from Tapis's commands: "ls -l" (split like a shell, run without one) or
    ["ls", "-l"]."""
    if not commands:
        raise InvalidArgumentError("commands", "give at least one command")
    if len(commands) > MAX_COMMANDS:
        raise InvalidArgumentError("commands", f"give at most {MAX_COMMANDS} commands")
    parsed: list[tuple[str, ...]] = []
    for index, command in enumerate(commands):
        argv = _argv(index, command)
        if not argv or any("\x00" in part for part in argv):
            raise InvalidArgumentError(f"commands[{index}]", "must be a non-empty command")
        parsed.append(argv)
    return parsed


def _argv(index: int, command: object) -> tuple[str, ...]:
    if isinstance(command, str):
        try:
            return tuple(shlex.split(command))
        except ValueError as exc:
            raise InvalidArgumentError(f"commands[{index}]", f"cannot be split: {exc}") from None
    if isinstance(command, list) and all(isinstance(part, str) for part in command):
        return tuple(command)
    raise InvalidArgumentError(f"commands[{index}]", "must be a string or a list of strings")


def check_timeouts(request: ExecRequest) -> None:
    if not 1 <= request.total_timeout <= MAX_TOTAL_TIMEOUT:
        raise InvalidArgumentError("total_timeout", f"must be 1 to {MAX_TOTAL_TIMEOUT} seconds")
    if not 1 <= request.command_timeout <= request.total_timeout:
        raise InvalidArgumentError("command_timeout", "must be 1 second to total_timeout")


async def run_commands(
    runner: CommandRunner,
    key: PodKey,
    user: str,
    request: ExecRequest,
    clock: Callable[[], float] = time.monotonic,
) -> ExecReport:
    """Runs the commands in order within the timeouts."""
    check_timeouts(request)
    commands = parse_commands(request.commands)
    deadline = clock() + request.total_timeout
    outputs: list[CommandOutput] = []
    for index, argv in enumerate(commands):
        remaining = deadline - clock()
        if remaining <= 0:
            return ExecReport(tuple(outputs), f"total_timeout reached before command {index}.")
        timeout = min(float(request.command_timeout), remaining)
        result = await runner.run(key, user, argv, timeout, OUTPUT_LIMIT)
        outputs.append(CommandOutput(argv, result))
        if result.timed_out:
            return ExecReport(tuple(outputs), f"command {index} timed out after {timeout:.0f}s.")
        if result.exit_code != 0 and request.fail_on_non_success:
            return ExecReport(
                tuple(outputs), f"command {index} exited with code {result.exit_code}; stopped."
            )
    return ExecReport(tuple(outputs), f"{len(outputs)} commands ran.")
