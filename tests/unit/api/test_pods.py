"""The pod use cases: owner-only access, credentials for templated pods, and a pod recorded
even when the command bus is down (the resync publishes it later)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from cryptography.fernet import Fernet

from services.api.domain.pods import Pods, Principal
from services.api.domain.validation import Limits, PodRequest
from services.api.errors import AlreadyExistsError, InvalidArgumentError, NotFoundError
from services.common.db.store import Store
from services.common.outcomes import TemporaryError
from services.common.runtime.types import PodKey
from services.common.secretbox import SecretBox
from services.common.settings import Settings
from services.common.templates import builtin_templates

ALICE = Principal("dev", "alice")
BOB = Principal("dev", "bob")
ADMIN = Principal("dev", "root", is_admin=True)


class Requests:
    def __init__(self) -> None:
        self.sent: list[tuple[PodKey, str]] = []
        self.down = False

    async def request_reconcile(self, key: PodKey, reason: str) -> None:
        if self.down:
            raise TemporaryError("nats is down")
        self.sent.append((key, reason))


@pytest.fixture
def requests() -> Requests:
    return Requests()


@pytest.fixture
def pods(store: Store, requests: Requests) -> Pods:
    return Pods(
        store=store,
        reconciler=requests,
        secrets=SecretBox(Fernet.generate_key()),
        templates=builtin_templates(Settings()),
        limits=Limits(),
        log_limit_bytes=1000,
        clock=lambda: datetime(2026, 11, 28, tzinfo=UTC),
    )


async def test_create_records_the_pod_and_asks_for_a_reconcile(
    pods: Pods, requests: Requests
) -> None:
    record = await pods.create(ALICE, PodRequest(pod_id="web1", image="pods-http:latest"))
    assert record.owner == "alice"
    assert requests.sent == [(PodKey("dev", "web1"), "create")]


async def test_a_pod_is_recorded_even_when_the_bus_is_down(pods: Pods, requests: Requests) -> None:
    requests.down = True
    await pods.create(ALICE, PodRequest(pod_id="web1", image="pods-http:latest"))
    assert (await pods.get(ALICE, "web1")).key.pod_id == "web1"


async def test_other_users_cannot_see_a_pod_but_admins_can(pods: Pods) -> None:
    await pods.create(ALICE, PodRequest(pod_id="web1", image="pods-http:latest"))
    for call in (pods.get, pods.logs, pods.credentials, pods.delete):
        with pytest.raises(NotFoundError, match="web1"):
            await call(BOB, "web1")
    assert await pods.list(BOB) == []
    assert [p.key.pod_id for p in await pods.list(ADMIN)] == ["web1"]
    assert (await pods.get(ADMIN, "web1")).owner == "alice"


async def test_templated_pods_have_credentials_and_custom_ones_do_not(pods: Pods) -> None:
    await pods.create(ALICE, PodRequest(pod_id="db1", template="postgres"))
    await pods.create(ALICE, PodRequest(pod_id="web1", image="pods-http:latest"))
    creds = await pods.credentials(ALICE, "db1")
    assert creds.username == "db1" and len(creds.password) >= 24
    with pytest.raises(InvalidArgumentError, match="no credentials"):
        await pods.credentials(ALICE, "web1")


async def test_duplicates_are_refused_and_a_bad_id_is_invalid(pods: Pods) -> None:
    await pods.create(ALICE, PodRequest(pod_id="web1", image="pods-http:latest"))
    with pytest.raises(AlreadyExistsError):
        await pods.create(BOB, PodRequest(pod_id="web1", image="pods-http:latest"))
    with pytest.raises(InvalidArgumentError, match="pod_id"):
        await pods.get(ALICE, "../etc")


async def test_delete_marks_the_pod_and_asks_for_a_reconcile(
    pods: Pods, requests: Requests
) -> None:
    await pods.create(ALICE, PodRequest(pod_id="web1", image="pods-http:latest"))
    record = await pods.delete(ALICE, "web1")
    assert record.deletion_requested
    assert requests.sent[-1] == (PodKey("dev", "web1"), "delete")
