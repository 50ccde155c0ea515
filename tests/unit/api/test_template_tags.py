"""Template versions: tags hold pod definitions checked like a pod create, a pod names one as
`id`, `id:tag` or `id:tag@timestamp`, templates build on templates (pinned, at most ten deep,
never in a cycle), and a pod moves to its tag's newest version on request."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from services.api.domain.catalog import Catalog, TemplateRequest
from services.api.domain.derivation import MAX_DEPTH
from services.api.domain.pods import Pods
from services.api.domain.principal import Principal
from services.api.domain.template_refs import TemplateRef, parse_template_ref
from services.api.domain.template_tags import NewTag, TemplateTags
from services.api.domain.validation import Limits, PodRequest
from services.api.errors import InvalidArgumentError, PermissionDeniedError
from services.common.db.database import Repositories
from services.common.pods_model import NetworkStanza, ResourceSpec
from services.common.settings import Settings
from services.common.templates import TemplateTagRecord, seed_templates

START = datetime(2026, 12, 1, 9, 0, 0, tzinfo=UTC)
ADMIN = Principal("dev", "root", is_admin=True)
ALICE = Principal("dev", "alice")
BOB = Principal("dev", "bob")


def ticking() -> Callable[[], datetime]:
    """A clock a second later at each reading (tags of one name need distinct seconds)."""
    seconds = iter(range(10_000))
    return lambda: START + timedelta(seconds=next(seconds))


@pytest.fixture
def clock() -> Callable[[], datetime]:
    return ticking()


@pytest.fixture
async def catalog(store: Repositories, clock: Callable[[], datetime]) -> Catalog:
    await store.catalog.seed_templates("dev", seed_templates(Settings()), START)
    return Catalog(store, clock)


@pytest.fixture
def tags(store: Repositories, catalog: Catalog, clock: Callable[[], datetime]) -> TemplateTags:
    return TemplateTags(store, catalog, Limits(), clock)


async def tag(
    tags: TemplateTags, template_id: str, name: str = "", who: Principal = ALICE, **fields: object
) -> TemplateTagRecord:
    definition = PodRequest(pod_id="", **fields)  # type: ignore[arg-type]
    return await tags.add_tag(who, NewTag(template_id, definition, f"add {name}", name))


@pytest.fixture
async def web(catalog: Catalog, tags: TemplateTags) -> list[TemplateTagRecord]:
    """Alice's template `web`, usable by everyone, with tags v1 then v2 then latest."""
    await catalog.create_template(ALICE, TemplateRequest(template_id="web"))
    await catalog.set_template_permission(ALICE, "web", "*", "USER")
    return [
        await tag(tags, "web", "v1", image="pods-http:1", command=("serve", "--v1")),
        await tag(tags, "web", "v2", image="pods-http:2", environment_variables={"MODE": "two"}),
        await tag(tags, "web", "latest", image="pods-http:3"),
    ]


@pytest.mark.parametrize(
    ("name", "ref"),
    [
        ("web", TemplateRef("web")),
        ("web:v1", TemplateRef("web", "v1")),
        ("web:v1.2-rc@2026-12-01-09:00:00", TemplateRef("web", "v1.2-rc", "2026-12-01-09:00:00")),
    ],
)
def test_a_template_is_named_by_id_tag_and_timestamp(name: str, ref: TemplateRef) -> None:
    assert parse_template_ref(name) == ref
    assert ref.label == name


@pytest.mark.parametrize(
    "name", ["Web", "web@2026-12-01-09:00:00", "web:", "web:a:b", "web:v1@yesterday", "web:v 1"]
)
def test_malformed_template_names_are_refused_naming_the_field(name: str) -> None:
    with pytest.raises(InvalidArgumentError) as info:
        parse_template_ref(name)
    assert info.value.field == "template"


async def test_a_tag_is_named_by_tag_and_second(web: list[TemplateTagRecord]) -> None:
    v1 = web[0]
    assert v1.creation_ts == START + timedelta(seconds=1)  # the template was made at START
    assert (v1.tag, v1.tag_timestamp, v1.added_by) == ("v1", "v1@2026-12-01-09:00:01", "alice")
    assert v1.pod_definition == {"image": "pods-http:1", "command": ["serve", "--v1"]}


async def test_a_pod_from_id_tag_gets_the_newest_version_of_that_tag(
    web: list[TemplateTagRecord], tags: TemplateTags, pods: Pods
) -> None:
    newer = await tag(tags, "web", "v1", image="pods-http:11")
    pod = await pods.create(BOB, PodRequest(pod_id="one", template="web:v1"))
    assert pod.spec.image == "pods-http:11"
    assert pod.spec.command == ()  # the newer v1 has none: versions are not merged
    assert pod.spec.template == f"web:{newer.tag_timestamp}"


async def test_a_pod_from_a_timestamp_gets_that_version_and_from_the_id_the_latest_tag(
    web: list[TemplateTagRecord], tags: TemplateTags, pods: Pods
) -> None:
    await tag(tags, "web", "v1", image="pods-http:11")
    old = await pods.create(BOB, PodRequest(pod_id="old", template=f"web:{web[0].tag_timestamp}"))
    assert (old.spec.image, old.spec.command) == ("pods-http:1", ("serve", "--v1"))
    plain = await pods.create(BOB, PodRequest(pod_id="plain", template="web"))
    assert plain.spec.template == f"web:{web[2].tag_timestamp}"
    assert plain.spec.image == "pods-http:3"


async def test_the_pods_own_fields_win_and_maps_merge(
    web: list[TemplateTagRecord], pods: Pods
) -> None:
    pod = await pods.create(
        BOB,
        PodRequest(
            pod_id="mine",
            template="web:v2",
            environment_variables={"EXTRA": "1"},
            networking={"default": NetworkStanza("http", 8080)},
            resources={"mem_limit": 1024},
        ),
    )
    assert pod.spec.environment_variables == {"MODE": "two", "EXTRA": "1"}
    assert pod.spec.networking == {"default": NetworkStanza("http", 8080)}
    assert pod.spec.resources.mem_limit == 1024


async def test_unknown_templates_tags_and_versions_are_400_naming_template(
    web: list[TemplateTagRecord], pods: Pods
) -> None:
    for name, says in [
        ("nosuch:v1", "unknown template"),
        ("web:v9", "no tag 'v9'"),
        ("web:v1@2020-01-01-00:00:00", "version 2020-01-01-00:00:00"),
    ]:
        with pytest.raises(InvalidArgumentError, match=says) as info:
            await pods.create(BOB, PodRequest(pod_id="nope", template=name))
        assert info.value.field == "template"


async def test_a_template_builds_on_another_pinned_to_the_version_it_named(
    web: list[TemplateTagRecord], catalog: Catalog, tags: TemplateTags, pods: Pods
) -> None:
    await catalog.create_template(BOB, TemplateRequest(template_id="site"))
    await catalog.set_template_permission(BOB, "site", "alice", "USER")
    based = await tag(
        tags, "site", "prod", who=BOB, template="web:v1", arguments=("--prod",), description="s"
    )
    assert based.pod_definition["template"] == f"web:{web[0].tag_timestamp}"
    await tag(tags, "web", "v1", image="pods-http:11")  # a newer v1 does not change `prod`
    pod = await pods.create(ALICE, PodRequest(pod_id="prod1", template="site:prod"))
    assert (pod.spec.image, pod.spec.command, pod.spec.arguments) == (
        "pods-http:1",
        ("serve", "--v1"),
        ("--prod",),
    )
    assert pod.spec.description == "s"


async def test_a_template_built_on_postgres_keeps_its_credentials_and_networking(
    catalog: Catalog, tags: TemplateTags, pods: Pods
) -> None:
    await catalog.create_template(ALICE, TemplateRequest(template_id="mydb"))
    await catalog.set_template_permission(ALICE, "mydb", "bob", "USER")
    await tag(tags, "mydb", template="postgres", environment_variables={"PGTZ": "UTC"})
    pod = await pods.create(BOB, PodRequest(pod_id="db1", template="mydb"))
    assert pod.spec.image == "pods-postgres:15"
    assert pod.spec.networking == {"default": NetworkStanza("postgres", 5432)}
    assert pod.spec.environment_variables["PGTZ"] == "UTC"
    assert (await pods.credentials(BOB, "db1")).username == "db1"


async def test_templates_nest_at_most_ten_deep(catalog: Catalog, tags: TemplateTags) -> None:
    await catalog.create_template(ALICE, TemplateRequest(template_id="deep"))
    await tag(tags, "deep", "t1", image="pods-http:1")
    for depth in range(2, MAX_DEPTH + 1):
        await tag(tags, "deep", f"t{depth}", template=f"deep:t{depth - 1}")
    with pytest.raises(InvalidArgumentError, match="at most 10 deep") as info:
        await tag(tags, "deep", "t11", template=f"deep:t{MAX_DEPTH}")
    assert info.value.field == "pod_definition.template"


async def test_a_cycle_of_templates_is_400_naming_template(
    store: Repositories, catalog: Catalog, pods: Pods
) -> None:
    # Tags pin what they build on, so the API cannot make a cycle; stored rows still could.
    for template_id, other in (("ping", "pong"), ("pong", "ping")):
        await catalog.create_template(ALICE, TemplateRequest(template_id=template_id))
        row = TemplateTagRecord(
            template_id,
            "latest",
            "latest@2026-12-01-09:00:00",
            {"template": other},
            "x",
            "a",
            START,
        )
        await store.template_tags.add_tag("dev", row)
    with pytest.raises(
        InvalidArgumentError, match=r"cycle: ping:latest@.* -> pong:latest@.* -> ping"
    ):
        await pods.create(ALICE, PodRequest(pod_id="loop", template="ping"))


async def test_a_tag_is_checked_like_a_pod_create(
    catalog: Catalog, tags: TemplateTags, web: list[TemplateTagRecord]
) -> None:
    cases: list[tuple[dict[str, Any], str]] = [
        ({"image": "Not An Image"}, "pod_definition.image"),
        (
            {"networking": {"default": NetworkStanza("ftp", 21)}},
            "pod_definition.networking.default.protocol",
        ),
        ({"resources": {"cpu_limit": 10**6}}, "pod_definition.resources.cpu_limit"),
        ({"environment_variables": {"1BAD": "x"}}, "pod_definition.environment_variables"),
        ({"template": "nosuch"}, "pod_definition.template"),
    ]
    for fields, field in cases:
        with pytest.raises(InvalidArgumentError) as info:
            await tag(tags, "web", "bad", **fields)
        assert info.value.field == field
    with pytest.raises(InvalidArgumentError) as info:
        await tag(tags, "web", "no good", image="pods-http:1")
    assert info.value.field == "tag"
    with pytest.raises(InvalidArgumentError) as info:
        await tags.add_tag(ALICE, NewTag("web", PodRequest(pod_id=""), "", "x"))
    assert info.value.field == "commit_message"


async def test_only_a_templates_admins_add_tags_and_only_allowed_images(
    catalog: Catalog, tags: TemplateTags, web: list[TemplateTagRecord]
) -> None:
    with pytest.raises(PermissionDeniedError):
        await tag(tags, "neo4j", who=ALICE, image="pods-http:1")
    await catalog.add_image(ADMIN, "pods-http:*", "")
    with pytest.raises(PermissionDeniedError, match="allow-list"):
        await tag(tags, "web", "evil", image="evil:1")


async def test_restart_with_grab_latest_moves_to_the_newest_version_keeping_own_fields(
    web: list[TemplateTagRecord], tags: TemplateTags, pods: Pods
) -> None:
    await pods.create(BOB, PodRequest(pod_id="mover", template="web:v2", arguments=("--own",)))
    unchanged = await pods.restart(BOB, "mover", grab_latest_template_tag=True)
    assert unchanged.record.spec.template == f"web:{web[1].tag_timestamp}"
    newer = await tag(tags, "web", "v2", image="pods-http:22", resources={"cpu_limit": 1500})
    moved = await pods.restart(BOB, "mover", grab_latest_template_tag=True)
    spec = moved.record.spec
    assert spec.template == f"web:{newer.tag_timestamp}"
    assert (spec.image, spec.arguments, spec.environment_variables) == (
        "pods-http:22",
        ("--own",),
        {},
    )
    assert spec.resources.cpu_limit == 1500
    assert "moved to" in moved.message
    await pods.stop(BOB, "mover")
    newest = await tag(tags, "web", "v2", image="pods-http:23")
    started = await pods.start(BOB, "mover", grab_latest_template_tag=True)
    assert started.record.spec.template == f"web:{newest.tag_timestamp}"
    assert started.record.spec.arguments == ("--own",)


async def test_a_pod_saved_as_a_tag_keeps_its_template_and_its_own_fields(
    web: list[TemplateTagRecord], catalog: Catalog, tags: TemplateTags, pods: Pods
) -> None:
    await pods.create(BOB, PodRequest(pod_id="src", template="web:v1", description="mine"))
    await catalog.create_template(BOB, TemplateRequest(template_id="bobs"))
    saved = await tags.save_pod(BOB, "src", "bobs", "from src", "")
    assert saved.tag == "latest"
    assert saved.pod_definition == {
        "template": f"web:{web[0].tag_timestamp}",
        "description": "mine",
    }
    await pods.create(BOB, PodRequest(pod_id="custom", image="pods-http:9", command=("run",)))
    whole = await tags.save_pod(BOB, "custom", "bobs", "from custom", "img")
    definition = whole.pod_definition
    assert (definition["image"], definition["command"]) == ("pods-http:9", ["run"])
    copy = await pods.create(BOB, PodRequest(pod_id="copy", template="bobs:img"))
    assert (copy.spec.image, copy.spec.command) == ("pods-http:9", ("run",))
    assert copy.spec.resources == ResourceSpec()
