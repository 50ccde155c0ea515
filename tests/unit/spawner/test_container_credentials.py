"""The container of a pod gets its credentials where Tapis's placeholders stand in its
environment values, command and arguments; the stored spec keeps the placeholders."""

from __future__ import annotations

from datetime import UTC, datetime

from services.common.db.database import Repositories
from services.common.pods_model import PodSpec
from services.common.runtime.types import PodKey
from services.common.templates import Credentials
from services.spawner.container_spec import build_container_spec

NOW = datetime(2026, 11, 28, tzinfo=UTC)
KEY = PodKey("dev", "web1")
CREDS = Credentials(username="web1", password="pw-1", environment={"FROM_TEMPLATE": "x"})


async def test_placeholders_are_replaced_in_the_container_only(store: Repositories) -> None:
    spec = PodSpec(
        image="pods-http:latest",
        command=("sh", "-c", "login <<TAPIS_user_username>>"),
        arguments=("--password=<<TAPIS_user_password>>",),
        environment_variables={"DSN": "u=<<TAPIS_user_username>> p=<<TAPIS_user_password>>"},
    )
    record = await store.pods.create_pod(
        KEY, owner="alice", spec=spec, credentials_encrypted="sealed", now=NOW
    )
    container = build_container_spec(record, CREDS, "local")
    assert container.command == ("sh", "-c", "login web1")
    assert container.arguments == ("--password=pw-1",)
    assert container.environment == {"DSN": "u=web1 p=pw-1", "FROM_TEMPLATE": "x"}
    assert record.spec.environment_variables["DSN"].endswith("<<TAPIS_user_password>>")


async def test_without_credentials_the_spec_is_used_as_written(store: Repositories) -> None:
    spec = PodSpec(image="pods-http:latest", command=("echo", "<<TAPIS_user_password>>"))
    record = await store.pods.create_pod(
        KEY, owner="alice", spec=spec, credentials_encrypted=None, now=NOW
    )
    assert build_container_spec(record, None, "local").command == spec.command
