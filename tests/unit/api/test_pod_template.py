"""Tapis's `pod_template` (its documentation's quickstart: pod_template='template/neo4j'): an
alias of `template` for "template/<name>" and of `image` for anything else; `template` also
takes the "template/" form; both fields given with different values is a 400 naming both."""

from __future__ import annotations

import pytest

from services.api.domain.pod_template import fold_pod_template, pod_template_of, template_name
from services.api.domain.pods import Pods
from services.api.domain.principal import Principal
from services.api.domain.validation import PodRequest
from services.api.errors import InvalidArgumentError
from services.common.db.database import Repositories
from services.common.settings import Settings
from services.common.templates import seed_templates
from tests.unit.api.volume_cases import NOW

ALICE = Principal("dev", "alice")


@pytest.fixture
async def seeded(pods: Pods, store: Repositories) -> Pods:
    await store.catalog.seed_templates("dev", seed_templates(Settings()), NOW)
    return pods


@pytest.mark.parametrize(
    ("image", "template", "pod_template", "folded"),
    [
        ("", "", "template/neo4j", ("", "neo4j")),
        ("", "neo4j", "template/neo4j", ("", "neo4j")),
        ("", "template/neo4j", "", ("", "neo4j")),
        ("", "", "pods-http:latest", ("pods-http:latest", "")),
        ("pods-http:latest", "", "pods-http:latest", ("pods-http:latest", "")),
        ("pods-http:latest", "", "", ("pods-http:latest", "")),
    ],
)
def test_pod_template_folds_into_image_or_template(
    image: str, template: str, pod_template: str, folded: tuple[str, str]
) -> None:
    assert fold_pod_template(image, template, pod_template) == folded


@pytest.mark.parametrize(
    ("image", "template", "pod_template", "other"),
    [
        ("", "postgres", "template/neo4j", "template"),
        ("pods-http:latest", "", "template/neo4j", "image"),
        ("pods-http:1", "", "pods-http:2", "image"),
        ("", "neo4j", "pods-http:latest", "template"),
    ],
)
def test_disagreeing_fields_are_a_400_naming_both(
    image: str, template: str, pod_template: str, other: str
) -> None:
    with pytest.raises(InvalidArgumentError) as refused:
        fold_pod_template(image, template, pod_template)
    assert refused.value.field == "pod_template"
    assert f"but {other} is" in str(refused.value)


def test_an_empty_template_name_is_refused() -> None:
    with pytest.raises(InvalidArgumentError, match="pod_template"):
        fold_pod_template("", "", "template/")
    with pytest.raises(InvalidArgumentError, match="template"):
        template_name("template/")


def test_responses_name_the_pod_template_as_tapis_did() -> None:
    assert pod_template_of("", "neo4j") == "template/neo4j"
    assert pod_template_of("pods-http:latest", "") == "pods-http:latest"


async def test_the_documented_quickstart_creates_a_neo4j_pod(seeded: Pods) -> None:
    record = await seeded.create(
        ALICE,
        PodRequest(pod_id="docpod", pod_template="template/neo4j", description="My example pod!"),
    )
    assert record.spec.template == "neo4j"
    assert record.spec.networking["default"].port == 7687
    credentials = await seeded.credentials(ALICE, "docpod")
    assert credentials.username == "docpod"  # Neo4j's user is the pod id, as Tapis documents
    assert credentials.environment["NEO4J_AUTH"] == f"neo4j/{credentials.password}"
    assert "CREATE USER `docpod`" in credentials.environment["NEO4J_apoc_initializer_system_1"]


async def test_pod_template_can_name_a_custom_image(pods: Pods) -> None:
    record = await pods.create(ALICE, PodRequest(pod_id="web1", pod_template="pods-http:latest"))
    assert (record.spec.image, record.spec.template) == ("pods-http:latest", "")
