"""Converts the frozen domain records to and from the JSON stored in the `pods.spec` and
`pods.status_container` columns. Used by store.py only."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from services.common.pods_model import ContainerStatus, NetworkStanza, PodSpec, ResourceSpec


def spec_to_json(spec: PodSpec) -> dict[str, Any]:
    """The spec as a JSON-ready dict."""
    return {
        "image": spec.image,
        "template": spec.template,
        "description": spec.description,
        "command": list(spec.command),
        "arguments": list(spec.arguments),
        "environment_variables": dict(spec.environment_variables),
        "networking": {
            name: {"protocol": s.protocol, "port": s.port} for name, s in spec.networking.items()
        },
        "resources": vars(spec.resources).copy(),
        "time_to_stop_default": spec.time_to_stop_default,
        "time_to_stop_instance": spec.time_to_stop_instance,
        "compute_queue": spec.compute_queue,
    }


def spec_from_json(data: dict[str, Any]) -> PodSpec:
    """The inverse of spec_to_json."""
    return PodSpec(
        image=data["image"],
        template=data["template"],
        description=data["description"],
        command=tuple(data["command"]),
        arguments=tuple(data["arguments"]),
        environment_variables=dict(data["environment_variables"]),
        networking={
            name: NetworkStanza(protocol=s["protocol"], port=s["port"])
            for name, s in data["networking"].items()
        },
        resources=ResourceSpec(**data["resources"]),
        time_to_stop_default=data["time_to_stop_default"],
        time_to_stop_instance=data["time_to_stop_instance"],
        compute_queue=data["compute_queue"],
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


def aware(value: datetime | None) -> datetime | None:
    """SQLite returns naive datetimes; everything we store is UTC."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)
