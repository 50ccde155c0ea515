"""Templates as data and the image allow-list: admins change them, everyone reads them, and
pods use them without any code change."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import pytest
from cryptography.fernet import Fernet

from services.api.domain.catalog import Catalog, TemplateRequest
from services.api.domain.pods import Pods
from services.api.domain.principal import Principal
from services.api.domain.validation import Limits, PodRequest
from services.api.domain.volume_inputs import SizeLimits
from services.api.domain.volumes import Volumes
from services.api.errors import (
    FailedPreconditionError,
    InvalidArgumentError,
    NotFoundError,
    PermissionDeniedError,
)
from services.common.db.database import Repositories
from services.common.pods_model import Level
from services.common.runtime.types import ExecResult, PodKey
from services.common.secretbox import SecretBox
from services.common.settings import Settings
from services.common.storage.fake import FakeVolumeStore
from services.common.templates import CredentialsRecipe, seed_templates
from services.spawner.container_spec import build_container_spec

NOW = datetime(2026, 11, 28, tzinfo=UTC)
ADMIN = Principal("dev", "root", is_admin=True)
ALICE = Principal("dev", "alice")
BOX = SecretBox(Fernet.generate_key())


class NoCommands:
    async def run(
        self, key: PodKey, user: str, argv: Sequence[str], timeout: float, limit_bytes: int
    ) -> ExecResult:
        raise AssertionError("not used")


class NoBus:
    async def request_reconcile(self, key: PodKey, reason: str) -> None:
        return None


@pytest.fixture
async def catalog(store: Repositories) -> Catalog:
    await store.catalog.seed_templates("dev", seed_templates(Settings()), NOW)
    return Catalog(store, lambda: NOW)


@pytest.fixture
def pods(store: Repositories) -> Pods:
    return Pods(
        store=store,
        reconciler=NoBus(),
        secrets=BOX,
        limits=Limits(),
        log_limit_bytes=1000,
        clock=lambda: NOW,
        runner=NoCommands(),
        mounts=Volumes(
            store=store, files=FakeVolumeStore(), limits=SizeLimits(), clock=lambda: NOW
        ),
    )


async def test_every_tenant_starts_with_postgres_and_neo4j(catalog: Catalog) -> None:
    ids = [t.template_id for t in await catalog.list_templates(ALICE)]
    assert ids == ["neo4j", "postgres"]


async def test_a_new_template_makes_pods_with_its_image_env_and_credentials(
    catalog: Catalog, pods: Pods, store: Repositories
) -> None:
    await catalog.create_template(
        ADMIN,
        TemplateRequest(
            template_id="mariadb",
            image="mariadb:11",
            networking={"default": ("tcp", 3306)},
            environment={"MARIADB_DATABASE": "app"},
            credentials=CredentialsRecipe(
                username="{pod_id}",
                environment={"MARIADB_USER": "{username}", "MARIADB_PASSWORD": "{password}"},
            ),
        ),
    )
    await catalog.set_template_permission(ADMIN, "mariadb", "alice", "USER")
    record = await pods.create(ALICE, PodRequest(pod_id="db1", template="mariadb"))
    assert record.spec.image == "mariadb:11"
    assert record.spec.environment_variables == {"MARIADB_DATABASE": "app"}
    assert record.spec.networking["default"].port == 3306
    creds = await pods.credentials(ALICE, "db1")
    assert creds.username == "db1"
    assert creds.environment == {"MARIADB_USER": "db1", "MARIADB_PASSWORD": creds.password}


async def test_any_user_creates_templates_and_bad_ones_are_refused(catalog: Catalog) -> None:
    created = await catalog.create_template(ALICE, TemplateRequest(template_id="abc", image="x:1"))
    assert created.owner == "alice"
    assert await catalog.template_permissions(ALICE, "abc") == [("alice", Level.ADMIN)]
    with pytest.raises(PermissionDeniedError, match="ADMIN"):  # USER through "*" is not enough
        await catalog.update_template(ALICE, TemplateRequest(template_id="postgres", image="y:1"))
    with pytest.raises(InvalidArgumentError, match="template_id"):
        await catalog.create_template(ADMIN, TemplateRequest(template_id="Bad!", image="x:1"))
    with pytest.raises(InvalidArgumentError, match="placeholder"):
        await catalog.create_template(
            ADMIN,
            TemplateRequest(
                template_id="abc",
                image="x:1",
                credentials=CredentialsRecipe("{user}", {"A": "{password}"}),
            ),
        )


async def test_an_archived_template_makes_no_new_pods(catalog: Catalog, pods: Pods) -> None:
    await catalog.update_template(
        ADMIN, TemplateRequest(template_id="neo4j", archive_message="use the graph service")
    )
    with pytest.raises(InvalidArgumentError, match="archived"):
        await pods.create(ALICE, PodRequest(pod_id="graph1", template="neo4j"))


async def test_the_allow_list_limits_custom_images_once_it_has_a_rule(
    catalog: Catalog, pods: Pods
) -> None:
    await pods.create(ALICE, PodRequest(pod_id="any1", image="whatever:1"))
    await catalog.add_image(ADMIN, "pods-http:latest", "the demo web server")
    await catalog.add_image(ADMIN, "lab.example.org/team/*", "our registry")
    await pods.create(ALICE, PodRequest(pod_id="web1", image="pods-http:latest"))
    await pods.create(ALICE, PodRequest(pod_id="web2", image="lab.example.org/team/app:2"))
    with pytest.raises(PermissionDeniedError, match="allow-list"):
        await pods.create(ALICE, PodRequest(pod_id="web3", image="evil:1"))
    with pytest.raises(PermissionDeniedError, match="of template 'postgres'"):
        await pods.create(ALICE, PodRequest(pod_id="db1", template="postgres"))
    with pytest.raises(PermissionDeniedError, match="allow-list"):
        await catalog.create_template(ADMIN, TemplateRequest(template_id="evil", image="evil:1"))
    await catalog.create_template(ADMIN, TemplateRequest(template_id="web", image="pods-http"))
    with pytest.raises(PermissionDeniedError, match="allow-list"):
        await catalog.update_template(ADMIN, TemplateRequest(template_id="web", image="evil:1"))
    with pytest.raises(PermissionDeniedError):
        await catalog.add_image(ALICE, "evil:1", "")
    await catalog.delete_image(ADMIN, "pods-http:latest")
    assert [r.image for r in await catalog.list_images(ALICE)] == ["lab.example.org/team/*"]


async def test_templates_are_shared_like_pods(catalog: Catalog, pods: Pods) -> None:
    await catalog.create_template(ADMIN, TemplateRequest(template_id="private", image="x:1"))
    assert "private" not in [t.template_id for t in await catalog.list_templates(ALICE)]
    with pytest.raises(NotFoundError):
        await catalog.get_template(ALICE, "private")
    with pytest.raises(InvalidArgumentError, match="unknown template"):
        await pods.create(ALICE, PodRequest(pod_id="pod1", template="private"))

    await catalog.set_template_permission(ADMIN, "private", "alice", "READ")
    assert (await catalog.get_template(ALICE, "private")).image == "x:1"
    with pytest.raises(InvalidArgumentError, match="unknown template"):
        await pods.create(ALICE, PodRequest(pod_id="pod1", template="private"))  # READ only
    with pytest.raises(PermissionDeniedError, match="ADMIN"):
        await catalog.update_template(ALICE, TemplateRequest(template_id="private", image="y:1"))

    await catalog.set_template_permission(ADMIN, "private", "*", "USER")
    await pods.create(ALICE, PodRequest(pod_id="pod1", template="private"))
    with pytest.raises(InvalidArgumentError, match="READ or USER"):
        await catalog.set_template_permission(ADMIN, "private", "*", "ADMIN")
    grants = await catalog.template_permissions(ALICE, "private")
    assert [(u, lvl.value) for u, lvl in grants] == [
        ("*", "USER"),
        ("alice", "READ"),
        ("root", "ADMIN"),
    ]
    with pytest.raises(FailedPreconditionError, match="last ADMIN"):
        await catalog.delete_template_permission(ADMIN, "private", "root")


async def test_seeded_templates_are_usable_by_everyone(catalog: Catalog) -> None:
    grants = await catalog.template_permissions(ALICE, "postgres")
    assert ("*", Level.USER) in grants


async def test_a_read_only_root_template_makes_read_only_root_pods(
    catalog: Catalog, pods: Pods, store: Repositories
) -> None:
    made = await catalog.create_template(
        ADMIN, TemplateRequest(template_id="static", image="pods-http:latest", read_only_root=True)
    )
    assert made.read_only_root is True
    assert (await catalog.get_template(ADMIN, "static")).read_only_root is True  # stored
    await catalog.set_template_permission(ADMIN, "static", "alice", "USER")
    await pods.create(ALICE, PodRequest(pod_id="site1", template="static"))
    await pods.create(ALICE, PodRequest(pod_id="site2", image="pods-http:latest"))
    await catalog.update_template(
        ADMIN, TemplateRequest(template_id="static", read_only_root=False)
    )
    stored = await store.pods.get_pod(PodKey("dev", "site1"))
    assert stored is not None and stored.spec.read_only_root is True  # copied at creation
    assert build_container_spec(stored, None, "local").read_only_root is True
    custom = await store.pods.get_pod(PodKey("dev", "site2"))
    assert custom is not None and custom.spec.read_only_root is False
    assert not any(t.read_only_root for t in seed_templates(Settings()))
