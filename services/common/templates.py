"""Pod templates as data: a named image with forced networking, default environment and a
recipe for generated credentials. Templates live in the database
(services.common.db.repositories.catalog) and are managed through the API; `seed_templates`
gives the two every tenant starts with (postgres, neo4j; images from PODS_IMAGE_POSTGRES /
PODS_IMAGE_NEO4J).

Used by services/api: a pod created from a template copies the template's image, networking
and environment into its own spec, and its generated credentials (with the environment that
carries them, rendered from the recipe) are stored encrypted with the pod. The spawner never
needs the template again, so editing or deleting a template never changes a running pod.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from services.common.pods_model import NetworkStanza
from services.common.settings import Settings

PLACEHOLDERS = ("{pod_id}", "{username}", "{password}")

# The official neo4j image's conventions: NEO4J_AUTH sets the built-in `neo4j` account's
# password, and APOC's initializer creates the pod's own user (the pod id, as Tapis does) in
# the system database at start. The local stand-in image (deploy/images/neo4j-standin)
# reads the same two variables.
NEO4J_ENVIRONMENT = {
    "NEO4J_AUTH": "neo4j/{password}",
    "NEO4J_PLUGINS": '["apoc"]',
    "NEO4J_apoc_initializer_system_1": "CREATE USER `{username}` IF NOT EXISTS "
    "SET PLAINTEXT PASSWORD '{password}' SET PASSWORD CHANGE NOT REQUIRED",
}


@dataclass(frozen=True)
class Credentials:
    """A generated user name and password, and the environment that hands them over."""

    username: str
    password: str
    environment: Mapping[str, str] = field(default_factory=dict)

    def to_json(self) -> str:
        return json.dumps(
            {
                "user_username": self.username,
                "user_password": self.password,
                "environment": dict(self.environment),
            }
        )

    @classmethod
    def from_json(cls, raw: str) -> Credentials:
        data = json.loads(raw)
        return cls(
            username=data["user_username"],
            password=data["user_password"],
            environment=dict(data.get("environment", {})),
        )


@dataclass(frozen=True)
class CredentialsRecipe:
    """`{pod_id}`, `{username}` and `{password}` in these strings are replaced; nothing else
    is interpreted."""

    username: str
    environment: Mapping[str, str]

    def render(self, pod_id: str, password: str) -> Credentials:
        username = self.username.replace("{pod_id}", pod_id)
        values = {"{pod_id}": pod_id, "{username}": username, "{password}": password}
        environment = {}
        for name, template in self.environment.items():
            text = template
            for placeholder, value in values.items():
                text = text.replace(placeholder, value)
            environment[name] = text
        return Credentials(username=username, password=password, environment=environment)


@dataclass(frozen=True)
class TemplateDef:
    """A template as stored."""

    template_id: str
    image: str
    description: str = ""
    metatags: tuple[str, ...] = ()
    archive_message: str = ""
    networking: Mapping[str, NetworkStanza] = field(default_factory=dict)
    environment: Mapping[str, str] = field(default_factory=dict)
    credentials: CredentialsRecipe | None = None
    owner: str = ""
    # Pods run with a read-only root filesystem (services/spawner/platforms/hardening.py).
    # The seeded templates leave it off: their images keep their data (PGDATA, /data) in the
    # root filesystem unless a volume is mounted there.
    read_only_root: bool = False
    creation_ts: datetime | None = None
    update_ts: datetime | None = None


def generate_credentials(template: TemplateDef | None, pod_id: str) -> Credentials:
    """Fresh credentials for a new pod (a password of 32 url-safe random characters), as Tapis
    gives every pod: user name the pod id, unless `template` (None: a custom image) has a
    recipe saying otherwise, which also renders the environment that hands them over."""
    password = secrets.token_urlsafe(24)
    if template is None or template.credentials is None:
        return Credentials(username=pod_id, password=password)
    return template.credentials.render(pod_id, password)


def seed_templates(settings: Settings) -> list[TemplateDef]:
    """The templates every tenant starts with."""
    return [
        TemplateDef(
            template_id="postgres",
            image=settings.image_postgres,
            description="PostgreSQL with a generated user and password",
            metatags=("database", "sql"),
            networking={"default": NetworkStanza(protocol="postgres", port=5432)},
            credentials=CredentialsRecipe(
                username="{pod_id}",
                environment={"POSTGRES_USER": "{username}", "POSTGRES_PASSWORD": "{password}"},
            ),
            owner="system",
        ),
        TemplateDef(
            template_id="neo4j",
            image=settings.image_neo4j,
            description="Neo4j (Bolt) with a generated password for a user named after the pod",
            metatags=("database", "graph"),
            networking={"default": NetworkStanza(protocol="tcp", port=7687)},
            credentials=CredentialsRecipe(username="{pod_id}", environment=NEO4J_ENVIRONMENT),
            owner="system",
        ),
    ]


@dataclass(frozen=True)
class TemplateTagRecord:
    """One version of a template as stored: its pod definition (the JSON of a pod create's
    fields, every one optional; services/api/domain/pod_definitions.py reads and writes it),
    named `tag@timestamp`. Never changed once added."""

    template_id: str
    tag: str
    tag_timestamp: str
    pod_definition: Mapping[str, object]
    commit_message: str
    added_by: str
    creation_ts: datetime
