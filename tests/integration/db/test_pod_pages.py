"""ListPods' keyset pages (PodRepository.pods_page) on each database: ordered by pod_id, only
the pods the reader has a grant on (the join is in SQL), after a given id, at most a limit, and
one tenant's pods only; the same records as a whole listing, in one query."""

from __future__ import annotations

from datetime import UTC, datetime

from services.common.db.database import Repositories
from services.common.pods_model import Level, PodRecord, PodSpec
from services.common.runtime.types import PodKey
from tests.integration.db.test_one_trip_reads import statements

NOW = datetime(2026, 12, 7, 5, 0, tzinfo=UTC)


async def _make(store: Repositories, tenant: str, pod_id: str, owner: str) -> None:
    await store.pods.create_pod(
        PodKey(tenant, pod_id),
        owner=owner,
        spec=PodSpec(image="pods-http:latest"),
        credentials_encrypted=None,
        now=NOW,
    )


def ids(records: list[PodRecord]) -> list[str]:
    return [record.key.pod_id for record in records]


async def test_pages_are_the_readers_pods_in_id_order_after_a_cursor(store: Repositories) -> None:
    for pod_id in ("pe", "pa", "pd", "pc", "pb"):
        await _make(store, "dev", pod_id, "alice")
    await _make(store, "other", "pa", "alice")  # another tenant's pod of the same id
    await store.grants.set_permission(PodKey("dev", "pb"), "bob", Level.READ)
    await store.grants.set_permission(PodKey("dev", "pd"), "bob", Level.USER)

    assert ids(await store.pods.pods_page("dev", "alice")) == ["pa", "pb", "pc", "pd", "pe"]
    assert ids(await store.pods.pods_page("dev", "alice", "pb", 2)) == ["pc", "pd"]
    assert ids(await store.pods.pods_page("dev", "bob")) == ["pb", "pd"]
    assert ids(await store.pods.pods_page("dev", "bob", "pb")) == ["pd"]
    assert ids(await store.pods.pods_page("dev", "carol")) == []
    assert ids(await store.pods.pods_page("dev", None, "pd")) == ["pe"]  # an admin: every pod

    whole = await store.pods.readable_pods("dev", "alice")
    with statements() as seen:
        page = await store.pods.pods_page("dev", "alice")
    assert page == whole  # the same records as the ORM listing
    assert [s for s in seen if s == "SELECT"] == ["SELECT"]
