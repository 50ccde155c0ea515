"""The template tag repository on SQLite and PostgreSQL: a tag is added only to a template that
exists, one `tag@timestamp` per template, listed oldest first and filtered by name or version,
tenants apart, and removed with its template."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from services.common.db.database import Repositories
from services.common.records import AlreadyExistsError
from services.common.templates import TemplateDef, TemplateTagRecord

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def version(template_id: str, tag: str, second: int) -> TemplateTagRecord:
    at = NOW + timedelta(seconds=second)
    return TemplateTagRecord(
        template_id=template_id,
        tag=tag,
        tag_timestamp=f"{tag}@{at:%Y-%m-%d-%H:%M:%S}",
        pod_definition={"image": f"pods-http:{second}", "environment_variables": {"N": "1"}},
        commit_message=f"version {second}",
        added_by="alice",
        creation_ts=at,
    )


async def test_tags_belong_to_an_existing_template_and_are_listed_oldest_first(
    store: Repositories,
) -> None:
    assert await store.template_tags.add_tag("dev", version("web", "v1", 0)) is None
    await store.catalog.create_template("dev", TemplateDef("web", image="", owner="alice"), NOW)
    for tag, second in (("v1", 0), ("v2", 1), ("v1", 2)):
        added = await store.template_tags.add_tag("dev", version("web", tag, second))
        assert added == version("web", tag, second)
    with pytest.raises(AlreadyExistsError, match="v1@2026-12-01-09:00:02"):
        await store.template_tags.add_tag("dev", version("web", "v1", 2))

    listed = await store.template_tags.list_tags("dev", ["web"])
    assert [t.tag_timestamp[-2:] for t in listed] == ["00", "01", "02"]
    v1 = await store.template_tags.list_tags("dev", ["web"], tag="v1")
    assert [t.pod_definition["image"] for t in v1] == ["pods-http:0", "pods-http:2"]
    (one,) = await store.template_tags.list_tags(
        "dev", ["web"], tag="v1", tag_timestamp="v1@2026-12-01-09:00:00"
    )
    assert one.commit_message == "version 0"
    assert await store.template_tags.list_tags("other", ["web"]) == []
    assert await store.template_tags.list_tags("dev", []) == []

    assert await store.catalog.delete_template("dev", "web")
    assert await store.template_tags.list_tags("dev", ["web"]) == []
