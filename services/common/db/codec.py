"""Converts the frozen domain records to and from the JSON stored in the `pods.spec` and
`pods.status_container` columns. Used by mapping.py and the repositories only."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from services.common.pods_model import (
    ContainerStatus,
    MountType,
    NetworkStanza,
    PodSpec,
    ResourceSpec,
    VolumeMountSpec,
)
from services.common.stanza_options import StanzaOptions
from services.common.templates import CredentialsRecipe, TemplateDef


def spec_to_json(spec: PodSpec) -> dict[str, Any]:
    """The spec as a JSON-ready dict."""
    return {
        "image": spec.image,
        "template": spec.template,
        "description": spec.description,
        "command": list(spec.command),
        "arguments": list(spec.arguments),
        "environment_variables": dict(spec.environment_variables),
        "networking": {name: _stanza_json(s) for name, s in spec.networking.items()},
        "resources": vars(spec.resources).copy(),
        "time_to_stop_default": spec.time_to_stop_default,
        "time_to_stop_instance": spec.time_to_stop_instance,
        "compute_queue": spec.compute_queue,
        "volume_mounts": {
            object_id: {
                "type": m.type.value,
                "mount_path": m.mount_path,
                "sub_path": m.sub_path,
                "read_only": m.read_only,
            }
            for object_id, m in spec.volume_mounts.items()
        },
        "read_only_root": spec.read_only_root,
    }


def spec_from_json(data: dict[str, Any]) -> PodSpec:
    """The inverse of spec_to_json (specs stored before mounts existed have none)."""
    return PodSpec(
        image=data["image"],
        template=data["template"],
        description=data["description"],
        command=tuple(data["command"]),
        arguments=tuple(data["arguments"]),
        environment_variables=dict(data["environment_variables"]),
        networking={name: _stanza(s) for name, s in data["networking"].items()},
        resources=ResourceSpec(**data["resources"]),
        time_to_stop_default=data["time_to_stop_default"],
        time_to_stop_instance=data["time_to_stop_instance"],
        compute_queue=data["compute_queue"],
        volume_mounts={
            object_id: VolumeMountSpec(
                type=MountType(m["type"]),
                mount_path=m["mount_path"],
                sub_path=m["sub_path"],
                read_only=m["read_only"],
            )
            for object_id, m in data.get("volume_mounts", {}).items()
        },
        read_only_root=bool(data.get("read_only_root", False)),
    )


def container_to_json(status: ContainerStatus) -> dict[str, Any]:
    """The observed container status as a JSON-ready dict."""
    return {
        "phase": status.phase,
        "message": status.message,
        "start_time": status.start_time.isoformat() if status.start_time else None,
        "exit_code": status.exit_code,
        "ready": status.ready,
        "published": {str(k): v for k, v in status.published.items()},
    }


def container_from_json(data: dict[str, Any]) -> ContainerStatus:
    """The inverse of container_to_json; {} gives an empty status."""
    start = data.get("start_time")
    return ContainerStatus(
        phase=data.get("phase", ""),
        message=data.get("message", ""),
        start_time=datetime.fromisoformat(start) if start else None,
        exit_code=data.get("exit_code"),
        ready=bool(data.get("ready", False)),
        published={int(k): int(v) for k, v in data.get("published", {}).items()},
    )


def _stanza_json(stanza: NetworkStanza) -> dict[str, Any]:
    return {"protocol": stanza.protocol, "port": stanza.port, **stanza.options.to_json()}


def _stanza(data: dict[str, Any]) -> NetworkStanza:
    """A stored stanza (those stored before the options existed get the defaults)."""
    return NetworkStanza(
        protocol=data["protocol"], port=data["port"], options=StanzaOptions.from_json(data)
    )


def aware(value: datetime | None) -> datetime | None:
    """SQLite returns naive datetimes; everything we store is UTC."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)


def template_to_json(template: TemplateDef) -> dict[str, Any]:
    """A template's definition as a JSON-ready dict (id, owner and times are columns)."""
    recipe = template.credentials
    return {
        "image": template.image,
        "description": template.description,
        "metatags": list(template.metatags),
        "archive_message": template.archive_message,
        "networking": {name: _stanza_json(s) for name, s in template.networking.items()},
        "environment": dict(template.environment),
        "read_only_root": template.read_only_root,
        "credentials": None
        if recipe is None
        else {"username": recipe.username, "environment": dict(recipe.environment)},
    }


def template_from_json(
    template_id: str,
    data: dict[str, Any],
    owner: str,
    creation_ts: datetime | None,
    update_ts: datetime | None,
) -> TemplateDef:
    """The inverse of template_to_json."""
    recipe = data.get("credentials")
    return TemplateDef(
        template_id=template_id,
        image=data["image"],
        description=data.get("description", ""),
        metatags=tuple(data.get("metatags", ())),
        archive_message=data.get("archive_message", ""),
        networking={name: _stanza(s) for name, s in data.get("networking", {}).items()},
        environment=dict(data.get("environment", {})),
        read_only_root=bool(data.get("read_only_root", False)),
        credentials=None
        if recipe is None
        else CredentialsRecipe(username=recipe["username"], environment=recipe["environment"]),
        owner=owner,
        creation_ts=aware(creation_ts),
        update_ts=aware(update_ts),
    )
