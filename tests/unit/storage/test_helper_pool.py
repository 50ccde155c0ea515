"""HelperPool (services/spawner/storage/helper_pool.py): helpers are lent, given back, reused
while fresh and alive, and stopped when idle, old, suspect or no longer wanted."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import pytest

from services.common.outcomes import TemporaryError
from services.common.storage.types import StorageNotFound
from services.spawner.storage.helper_ops import HelperShell
from services.spawner.storage.helper_pool import HelperPool


class NoSession:
    def exec(self, argv: Sequence[str]) -> tuple[bytes, bytes]:
        raise AssertionError("not used")

    def put(self, directory: str, archive: bytes) -> None:
        raise AssertionError("not used")

    def read_chunks(self, real: str, size: int, shown: str) -> Iterator[bytes]:
        raise AssertionError("not used")


class Helpers:
    """Starts numbered helpers and records which were stopped; `dead` ones are not alive."""

    def __init__(self) -> None:
        self.started: list[str] = []
        self.stopped: list[str] = []
        self.dead: set[str] = set()
        self.now = 0.0

    def start(self, key: str) -> tuple[str, HelperShell]:
        handle = f"{key}-{len(self.started)}"
        self.started.append(handle)
        return handle, HelperShell(NoSession())

    def pool(self, idle_s: float = 30.0, max_age_s: float = 3000.0) -> HelperPool[str, str]:
        return HelperPool(
            self.start,
            self.stopped.append,
            lambda handle: handle not in self.dead,
            idle_s=idle_s,
            max_age_s=max_age_s,
            clock=lambda: self.now,
        )


def test_a_helper_given_back_serves_the_next_lease_of_the_same_key() -> None:
    helpers = Helpers()
    pool = helpers.pool()
    with pool.lease("vol1"):
        pass
    with pool.lease("vol1"):
        pass
    with pool.lease("vol2"):
        pass
    assert helpers.started == ["vol1-0", "vol2-1"]
    assert helpers.stopped == []
    assert pool.pooled_count() == 2
    pool.close()
    assert sorted(helpers.stopped) == ["vol1-0", "vol2-1"]


def test_two_leases_at_once_get_two_helpers() -> None:
    helpers = Helpers()
    pool = helpers.pool()
    with pool.lease("vol1"), pool.lease("vol1"):
        pass
    assert helpers.started == ["vol1-0", "vol1-1"]
    assert pool.pooled_count() == 2
    pool.close()


def test_a_helper_in_an_unknown_state_is_stopped_not_reused() -> None:
    helpers = Helpers()
    pool = helpers.pool()
    with pytest.raises(TemporaryError), pool.lease("vol1"):
        raise TemporaryError("the engine hiccuped")
    assert helpers.stopped == ["vol1-0"]
    with pytest.raises(StorageNotFound), pool.lease("vol1"):
        raise StorageNotFound("no such file")  # the request was wrong, not the helper
    with pool.lease("vol1"):
        pass
    assert helpers.started == ["vol1-0", "vol1-1"]
    pool.close()


def test_idle_old_and_dead_helpers_are_not_lent_again() -> None:
    helpers = Helpers()
    pool = helpers.pool(idle_s=10, max_age_s=100)
    with pool.lease("vol1"):
        pass
    helpers.now = 11  # idle too long
    with pool.lease("vol1"):
        pass
    assert helpers.started == ["vol1-0", "vol1-1"] and helpers.stopped == ["vol1-0"]
    helpers.dead.add("vol1-1")  # removed behind our back
    with pool.lease("vol1"):
        pass
    assert helpers.started[-1] == "vol1-2" and "vol1-1" in helpers.stopped
    for _ in range(12):  # used every 9 s: never idle, but it ages
        helpers.now += 9
        with pool.lease("vol1"):
            pass
    assert "vol1-2" in helpers.stopped and len(helpers.started) == 4
    pool.close()


def test_reap_stops_only_the_idle() -> None:
    helpers = Helpers()
    pool = helpers.pool(idle_s=10)
    with pool.lease("old"):
        pass
    helpers.now = 5
    with pool.lease("new"):
        pass
    helpers.now = 12
    assert pool.reap() == 1
    assert helpers.stopped == ["old-0"] and pool.pooled_count() == 1
    pool.close()


def test_after_close_helpers_are_stopped_when_given_back() -> None:
    helpers = Helpers()
    pool = helpers.pool()
    with pool.lease("vol1"):
        pool.close()
    assert helpers.stopped == ["vol1-0"] and pool.pooled_count() == 0


def test_no_idle_time_means_no_pooling() -> None:
    helpers = Helpers()
    pool = helpers.pool(idle_s=0)
    with pool.lease("vol1"):
        pass
    assert helpers.stopped == ["vol1-0"] and pool.pooled_count() == 0


def test_discard_stops_the_idle_helpers_of_the_keys_picked() -> None:
    helpers = Helpers()
    pool = helpers.pool()
    for key in ("vol1", "vol2"):
        with pool.lease(key):
            pass
    assert pool.discard(lambda key: key == "vol1") == 1
    assert helpers.stopped == ["vol1-0"] and pool.pooled_count() == 1
    pool.close()


def test_an_unpooled_helper_is_its_own_and_stopped_after() -> None:
    helpers = Helpers()
    pool = helpers.pool()
    with pool.helper("copy", pooled=False):
        pass
    with pool.helper("vol1", pooled=True):
        pass
    assert helpers.stopped == ["copy-0"] and pool.pooled_count() == 1
    pool.close()
