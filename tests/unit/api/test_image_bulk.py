"""The image allow-list's bulk add and single get (Tapis's add_images and get_image): all
or nothing, duplicates refused or skipped on request, each bad entry named by its index."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from services.api.domain.catalog import MAX_BULK_IMAGES, Catalog
from services.api.domain.principal import Principal
from services.api.errors import (
    AlreadyExistsError,
    InvalidArgumentError,
    NotFoundError,
    PermissionDeniedError,
)
from services.common.db.database import Repositories

NOW = datetime(2026, 11, 28, tzinfo=UTC)
ADMIN = Principal("dev", "root", is_admin=True)
ALICE = Principal("dev", "alice")


@pytest.fixture
def catalog(store: Repositories) -> Catalog:
    return Catalog(store, lambda: NOW)


async def listed(catalog: Catalog) -> list[str]:
    return [rule.image for rule in await catalog.list_images(ALICE)]


async def test_a_bulk_add_adds_every_image_in_order(catalog: Catalog) -> None:
    added, skipped = await catalog.add_images(
        ADMIN, [("pods-http:latest", "web"), ("lab.example.org/*", "")], False
    )
    assert [(r.image, r.description, r.added_by) for r in added] == [
        ("pods-http:latest", "web", "root"),
        ("lab.example.org/*", "", "root"),
    ]
    assert skipped == []
    assert await listed(catalog) == ["lab.example.org/*", "pods-http:latest"]


async def test_a_duplicate_refuses_the_whole_call_unless_skipped(catalog: Catalog) -> None:
    await catalog.add_image(ADMIN, "pods-http:latest", "")
    with pytest.raises(AlreadyExistsError, match=r"pods-http:latest.*nothing was added"):
        await catalog.add_images(ADMIN, [("new:1", ""), ("pods-http:latest", "")], False)
    assert await listed(catalog) == ["pods-http:latest"]

    added, skipped = await catalog.add_images(
        ADMIN, [("new:1", ""), ("pods-http:latest", "")], True
    )
    assert [r.image for r in added] == ["new:1"]
    assert skipped == ["pods-http:latest"]


@pytest.mark.parametrize(
    ("rules", "field"),
    [
        ([], "images"),
        ([("ok:1", ""), ("Not An Image!", "")], "images[1].image"),
        ([("ok:1", "x" * 300)], "images[0].description"),
        ([("ok:1", ""), ("ok:1", "")], "images[1].image"),
        ([(f"img{i}:1", "") for i in range(MAX_BULK_IMAGES + 1)], "images"),
    ],
)
async def test_a_bad_entry_is_named_and_nothing_is_added(
    catalog: Catalog, rules: list[tuple[str, str]], field: str
) -> None:
    with pytest.raises(InvalidArgumentError) as info:
        await catalog.add_images(ADMIN, rules, False)
    assert info.value.field == field
    assert await listed(catalog) == []


async def test_only_tenant_admins_add_and_everyone_gets(catalog: Catalog) -> None:
    with pytest.raises(PermissionDeniedError):
        await catalog.add_images(ALICE, [("x:1", "")], False)
    await catalog.add_images(ADMIN, [("lab.example.org/*", "ours")], False)
    rule = await catalog.get_image(ALICE, "lab.example.org/*")
    assert (rule.image, rule.description) == ("lab.example.org/*", "ours")
    with pytest.raises(NotFoundError, match="not on the allow-list"):
        await catalog.get_image(ALICE, "other:1")
