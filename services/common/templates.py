"""Built-in pod templates (postgres, neo4j): image, forced networking and credentials.

Used by services/api (is the template known, what credentials to generate) and by
services/spawner (which image and environment the container gets). Images come from
settings (PODS_IMAGE_POSTGRES, PODS_IMAGE_NEO4J).
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from services.common.pods_model import NetworkStanza
from services.common.settings import Settings


@dataclass(frozen=True)
class Credentials:
    """A generated user name and password."""

    username: str
    password: str

    def to_json(self) -> str:
        return json.dumps({"user_username": self.username, "user_password": self.password})

    @classmethod
    def from_json(cls, raw: str) -> Credentials:
        data = json.loads(raw)
        return cls(username=data["user_username"], password=data["user_password"])


@dataclass(frozen=True)
class Template:
    """How to run a templated pod."""

    name: str
    image: str
    networking: Mapping[str, NetworkStanza]
    username: Callable[[str], str]  # pod_id -> database user
    environment: Callable[[Credentials], Mapping[str, str]]


def _postgres_env(c: Credentials) -> Mapping[str, str]:
    return {"POSTGRES_USER": c.username, "POSTGRES_PASSWORD": c.password}


def _neo4j_env(c: Credentials) -> Mapping[str, str]:
    return {"NEO4J_AUTH": f"{c.username}/{c.password}"}


def builtin_templates(settings: Settings) -> dict[str, Template]:
    """The templates every deployment has, by name."""
    return {
        "postgres": Template(
            name="postgres",
            image=settings.image_postgres,
            networking={"default": NetworkStanza(protocol="postgres", port=5432)},
            username=lambda pod_id: pod_id,
            environment=_postgres_env,
        ),
        "neo4j": Template(
            name="neo4j",
            image=settings.image_neo4j,
            networking={"default": NetworkStanza(protocol="tcp", port=7687)},
            username=lambda _pod_id: "neo4j",
            environment=_neo4j_env,
        ),
    }


def generate_credentials(template: Template, pod_id: str) -> Credentials:
    """Fresh credentials for a new pod of `template` (32 url-safe random characters)."""
    return Credentials(username=template.username(pod_id), password=secrets.token_urlsafe(24))
