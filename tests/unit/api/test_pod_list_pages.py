"""ListPods' pages (Pods.list_page on a real SQLite store): no parameters is every readable
pod at once, as Tapis answers; pages follow pod_id with opaque tokens, filter by permission
in the query, and add up to the whole listing; bad sizes and tokens name their parameter."""

from __future__ import annotations

import base64
from datetime import UTC, datetime

import pytest
from cryptography.fernet import Fernet

from services.api.domain.paging import POD_TOKEN_SCHEME, token_after
from services.api.domain.pods import Pods
from services.api.domain.principal import Principal
from services.api.domain.validation import Limits, PodRequest
from services.api.domain.volume_inputs import SizeLimits
from services.api.domain.volumes import Volumes
from services.api.errors import InvalidArgumentError
from services.common.db.database import Repositories
from services.common.secretbox import SecretBox
from services.common.storage.fake import FakeVolumeStore
from tests.unit.api.test_pods import EchoRunner

NOW = datetime(2026, 11, 28, tzinfo=UTC)
ALICE = Principal("dev", "alice")
BOB = Principal("dev", "bob")
ADMIN = Principal("dev", "root", is_admin=True)


class Requests:
    async def request_reconcile(self, key: object, reason: str) -> None:
        del key, reason


@pytest.fixture
async def pods(store: Repositories) -> Pods:
    volumes = Volumes(store=store, files=FakeVolumeStore(), limits=SizeLimits(), clock=lambda: NOW)
    pods = Pods(
        store=store,
        reconciler=Requests(),
        secrets=SecretBox(Fernet.generate_key()),
        limits=Limits(),
        log_limit_bytes=1000,
        clock=lambda: NOW,
        runner=EchoRunner(),
        mounts=volumes,
    )
    for n in range(12):
        owner = ALICE if n % 3 else BOB  # bob owns pod00, pod03, pod06, pod09
        await pods.create(owner, PodRequest(pod_id=f"pod{n:02}", image="pods-http:latest"))
    await pods.set_permission(ALICE, "pod04", "bob", "READ")
    return pods


async def pages(pods: Pods, who: Principal, size: int) -> list[list[str]]:
    seen: list[list[str]] = []
    token = ""
    while True:
        records, token = await pods.list_page(who, size, token)
        seen.append([r.key.pod_id for r in records])
        if not token:
            return seen


async def test_no_parameters_is_every_readable_pod_at_once_as_tapis(pods: Pods) -> None:
    everything, token = await pods.list_page(ADMIN)
    assert [r.key.pod_id for r in everything] == [f"pod{n:02}" for n in range(12)]
    assert token == ""
    assert [r.key.pod_id for r in everything] == [r.key.pod_id for r in await pods.list_pods(ADMIN)]


async def test_pages_add_up_to_the_listing_in_pod_id_order(pods: Pods) -> None:
    assert await pages(pods, ADMIN, 5) == [
        [f"pod{n:02}" for n in range(0, 5)],
        [f"pod{n:02}" for n in range(5, 10)],
        ["pod10", "pod11"],
    ]
    assert await pages(pods, ADMIN, 6) == [
        [f"pod{n:02}" for n in range(0, 6)],
        [f"pod{n:02}" for n in range(6, 12)],
    ]


async def test_a_user_pages_through_only_the_pods_they_may_read(pods: Pods) -> None:
    assert await pages(pods, BOB, 2) == [["pod00", "pod03"], ["pod04", "pod06"], ["pod09"]]
    assert [r.key.pod_id for r in (await pods.list_page(BOB))[0]] == [
        "pod00",
        "pod03",
        "pod04",
        "pod06",
        "pod09",
    ]


async def test_a_token_alone_continues_with_pages_of_a_hundred(pods: Pods) -> None:
    records, token = await pods.list_page(ADMIN, 0, token_after("pod09", POD_TOKEN_SCHEME))
    assert [r.key.pod_id for r in records] == ["pod10", "pod11"]
    assert token == ""


async def test_pods_created_between_pages_neither_repeat_nor_shift_what_follows(
    pods: Pods,
) -> None:
    first, token = await pods.list_page(ADMIN, 4)
    await pods.create(ALICE, PodRequest(pod_id="pod01a", image="pods-http:latest"))
    second, _ = await pods.list_page(ADMIN, 4, token)
    assert [r.key.pod_id for r in first] == ["pod00", "pod01", "pod02", "pod03"]
    assert [r.key.pod_id for r in second] == ["pod04", "pod05", "pod06", "pod07"]


@pytest.mark.parametrize("size", [-1, 1001])
async def test_a_page_size_out_of_bounds_is_refused_naming_it(pods: Pods, size: int) -> None:
    with pytest.raises(InvalidArgumentError, match="page_size"):
        await pods.list_page(ADMIN, size)


@pytest.mark.parametrize(
    "token",
    [
        "!!!",
        base64.urlsafe_b64encode(b'{"s":"pods-v1"}').decode(),
        token_after("pod03"),  # a file listing's token
        token_after("Not A Pod Id!", POD_TOKEN_SCHEME),
    ],
)
async def test_a_token_we_did_not_give_is_refused_naming_it(pods: Pods, token: str) -> None:
    with pytest.raises(InvalidArgumentError, match="page_token"):
        await pods.list_page(ADMIN, 10, token)
