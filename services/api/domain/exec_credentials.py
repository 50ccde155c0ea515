"""Exec commands get the pod's credentials in place of Tapis's `<<TAPIS_user_username>>` and
`<<TAPIS_user_password>>` (services/common/credential_substitution.py). Called by
domain/pods.py, which wraps the spawner's CommandRunner for one exec call: the commands are
reported back as the caller wrote them, and only the runner sees the secret.
"""

from __future__ import annotations

from collections.abc import Sequence

from services.api.domain.execution import CommandRunner
from services.common.credential_substitution import substitute_all
from services.common.runtime.types import ExecResult, PodKey
from services.common.templates import Credentials


class CredentialedRunner:
    """A CommandRunner that replaces the credential placeholders in each argv it runs."""

    def __init__(self, runner: CommandRunner, credentials: Credentials) -> None:
        self._runner = runner
        self._credentials = credentials

    async def run(
        self, key: PodKey, user: str, argv: Sequence[str], timeout: float, limit_bytes: int
    ) -> ExecResult:
        argv = substitute_all(argv, self._credentials)
        return await self._runner.run(key, user, argv, timeout, limit_bytes)
