"""Builds the runtime's ContainerSpec from a pod record: the template's image and generated
credentials, the user's command, environment, ports and limits. Pure; called by
reconcile.py."""

from __future__ import annotations

from collections.abc import Mapping

from services.common.outcomes import PermanentError
from services.common.pods_model import PodRecord
from services.common.runtime.naming import with_hash
from services.common.runtime.types import ContainerSpec, PortSpec
from services.common.templates import Credentials, Template


def build_container_spec(
    record: PodRecord, templates: Mapping[str, Template], credentials: Credentials | None
) -> ContainerSpec:
    """The container for `record`; PermanentError if its template no longer exists."""
    spec = record.spec
    environment = dict(spec.environment_variables)
    image = spec.image
    networking = spec.networking
    if spec.template:
        template = templates.get(spec.template)
        if template is None:
            raise PermanentError(f"template '{spec.template}' is not configured here")
        image = template.image
        if credentials is None:
            raise PermanentError(f"pod '{record.key.pod_id}' has no stored credentials")
        environment.update(template.environment(credentials))
        networking = template.networking  # templates force their ports
    ports = tuple(
        PortSpec(name=name, port=s.port, protocol=s.protocol)
        for name, s in sorted(networking.items())
    )
    return with_hash(
        ContainerSpec(
            key=record.key,
            image=image,
            command=spec.command,
            arguments=spec.arguments,
            environment=environment,
            ports=ports,
            cpu_limit_millis=spec.resources.cpu_limit,
            mem_limit_mib=spec.resources.mem_limit,
        )
    )
