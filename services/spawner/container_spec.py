"""Builds the runtime's ContainerSpec from a pod record: its image, command, environment
(plus the environment carrying its generated credentials), ports and limits. Pure; called by
reconcile.py. A templated pod's record already holds what it copied from its template."""

from __future__ import annotations

from services.common.outcomes import PermanentError
from services.common.pods_model import PodRecord
from services.common.runtime.naming import with_hash
from services.common.runtime.types import ContainerSpec, PortSpec
from services.common.templates import Credentials


def build_container_spec(record: PodRecord, credentials: Credentials | None) -> ContainerSpec:
    """The container for `record`."""
    spec = record.spec
    if not spec.image:
        raise PermanentError(f"pod '{record.key.pod_id}' has no image")
    environment = dict(spec.environment_variables)
    if credentials is not None:
        environment.update(credentials.environment)
    ports = tuple(
        PortSpec(name=name, port=s.port, protocol=s.protocol)
        for name, s in sorted(spec.networking.items())
    )
    return with_hash(
        ContainerSpec(
            key=record.key,
            image=spec.image,
            command=spec.command,
            arguments=spec.arguments,
            environment=environment,
            ports=ports,
            cpu_limit_millis=spec.resources.cpu_limit,
            mem_limit_mib=spec.resources.mem_limit,
            cpu_request_millis=spec.resources.cpu_request,
            mem_request_mib=spec.resources.mem_request,
            gpus=spec.resources.gpus,
            compute_queue=spec.compute_queue,
        )
    )
