"""The health loops run only while this replica holds the lease."""

from __future__ import annotations

import asyncio

from services.common.outcomes import TemporaryError
from services.health.leadership import run_while_leader


class ScriptedLease:
    def __init__(self, answers: list[bool | Exception]) -> None:
        self.answers = answers
        self.released = False

    async def try_hold(self) -> bool:
        answer = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        if isinstance(answer, Exception):
            raise answer
        return answer

    async def release(self) -> None:
        self.released = True


async def test_work_runs_while_leading_and_stops_when_the_lease_is_lost() -> None:
    lease = ScriptedLease([False, True, True, TemporaryError("nats down"), False])
    running: list[bool] = []
    starts = 0

    async def work() -> None:
        nonlocal starts
        starts += 1
        running.append(True)
        try:
            await asyncio.sleep(3600)
        finally:
            running.append(False)

    task = asyncio.create_task(run_while_leader(lease, work, renew_every=0.01))
    await asyncio.sleep(0.2)
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    assert starts == 1
    assert running == [True, False]  # started once it led, stopped when renewal failed
    assert lease.released
