"""Every pod's credentials reach its exec commands through Tapis's placeholders; the commands
are reported as the caller wrote them, so the password is never echoed back."""

from __future__ import annotations

from collections.abc import Sequence

import pytest
from cryptography.fernet import Fernet

from services.api.domain.execution import ExecRequest
from services.api.domain.pods import Pods
from services.api.domain.principal import Principal
from services.api.domain.validation import Limits, PodRequest
from services.api.domain.volumes import Volumes
from services.api.errors import InvalidArgumentError
from services.common.db.database import Repositories
from services.common.pods_model import ContainerStatus, PodSpec, Status
from services.common.runtime.types import ExecResult, PodKey
from services.common.secretbox import SecretBox
from tests.unit.api.volume_cases import NOW, NoBus

ALICE = Principal("dev", "alice")
KEY = PodKey("dev", "web1")


class RecordingRunner:
    def __init__(self) -> None:
        self.ran: list[tuple[str, ...]] = []

    async def run(
        self, key: PodKey, user: str, argv: Sequence[str], timeout: float, limit_bytes: int
    ) -> ExecResult:
        self.ran.append(tuple(argv))
        return ExecResult(exit_code=0, stdout="ok", stderr="")


@pytest.fixture
def runner() -> RecordingRunner:
    return RecordingRunner()


@pytest.fixture
def pods(store: Repositories, volumes: Volumes, runner: RecordingRunner) -> Pods:
    return Pods(
        store=store,
        reconciler=NoBus(),
        secrets=SecretBox(Fernet.generate_key()),
        limits=Limits(),
        log_limit_bytes=1000,
        clock=lambda: NOW,
        runner=runner,
        mounts=volumes,
    )


async def test_exec_commands_get_the_credentials_but_report_the_placeholders(
    pods: Pods, store: Repositories, runner: RecordingRunner
) -> None:
    await pods.create(ALICE, PodRequest(pod_id="web1", image="pods-http:latest"))
    await store.pod_state.record_observation(
        KEY, Status.AVAILABLE, ContainerStatus(phase="running"), NOW
    )
    creds = await pods.credentials(ALICE, "web1")
    report = await pods.exec(
        ALICE,
        "web1",
        ExecRequest(commands=[["login", "<<TAPIS_user_username>>", "<<TAPIS_user_password>>"]]),
    )
    assert runner.ran == [("login", "web1", creds.password)]
    assert report.outputs[0].argv == ("login", "<<TAPIS_user_username>>", "<<TAPIS_user_password>>")


async def test_a_pod_recorded_without_credentials_says_why(pods: Pods, store: Repositories) -> None:
    await store.pods.create_pod(
        KEY, owner="alice", spec=PodSpec(image="img"), credentials_encrypted=None, now=NOW
    )
    with pytest.raises(InvalidArgumentError, match="created before every pod got them"):
        await pods.credentials(ALICE, "web1")
