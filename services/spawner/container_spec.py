"""Builds the runtime's ContainerSpec from a pod record: its image, command, environment
(plus the environment carrying its generated credentials, and those credentials in place of
Tapis's `<<TAPIS_user_username>>`/`<<TAPIS_user_password>>`), ports, limits and mounts. Pure;
called by reconcile.py. A templated pod's record already holds what it copied from its
template.

Mounts name the Docker volumes (or Kubernetes claims) behind the pod's volumes and snapshots
with the storage seam's pure naming helpers (storage.types.volume_name / snapshot_name), so
the spawner needs no volume store: the API checked, when the mount was added, that the volume
exists and that the pod's owner may mount it. Snapshots are always mounted read-only.
"""

from __future__ import annotations

from services.common.credential_substitution import substitute_all, substitute_environment
from services.common.outcomes import PermanentError
from services.common.pods_model import MountType, PodRecord, VolumeMountSpec
from services.common.runtime.naming import with_hash
from services.common.runtime.types import (
    ContainerSpec,
    MountSpec,
    PodKey,
    PortSpec,
    StorageKind,
)
from services.common.storage.types import SnapshotKey, VolumeKey, snapshot_name, volume_name
from services.common.templates import Credentials


def build_container_spec(
    record: PodRecord, credentials: Credentials | None, deployment_id: str
) -> ContainerSpec:
    """The container for `record` in deployment `deployment_id`."""
    spec = record.spec
    if not spec.image:
        raise PermanentError(f"pod '{record.key.pod_id}' has no image")
    environment = dict(spec.environment_variables)
    command, arguments = spec.command, spec.arguments
    if credentials is not None:  # Tapis's <<TAPIS_user_*>> placeholders, then the template's
        environment = substitute_environment(environment, credentials)
        environment.update(credentials.environment)
        command = substitute_all(command, credentials)
        arguments = substitute_all(arguments, credentials)
    ports = tuple(
        PortSpec(name=name, port=s.port, protocol=s.protocol)
        for name, s in sorted(spec.networking.items())
    )
    mounts = tuple(
        sorted(
            (
                mount_spec(deployment_id, record.key, object_id, mount)
                for object_id, mount in spec.volume_mounts.items()
            ),
            key=lambda m: (m.target, m.volume_name),
        )
    )
    return with_hash(
        ContainerSpec(
            key=record.key,
            image=spec.image,
            command=command,
            arguments=arguments,
            environment=environment,
            ports=ports,
            cpu_limit_millis=spec.resources.cpu_limit,
            mem_limit_mib=spec.resources.mem_limit,
            cpu_request_millis=spec.resources.cpu_request,
            mem_request_mib=spec.resources.mem_request,
            gpus=spec.resources.gpus,
            compute_queue=spec.compute_queue,
            mounts=mounts,
            read_only_root=spec.read_only_root,
            run=record.run + 1,  # a container made from this spec starts the pod's next run
        )
    )


def mount_spec(
    deployment_id: str, key: PodKey, object_id: str, mount: VolumeMountSpec
) -> MountSpec:
    """The MountSpec of one `volume_mounts` entry of the pod `key` (same tenant)."""
    try:
        if mount.type is MountType.SNAPSHOT:
            name = snapshot_name(deployment_id, SnapshotKey(key.tenant_id, object_id))
            return MountSpec(StorageKind.SNAPSHOT, name, mount.mount_path, True, mount.sub_path)
        name = volume_name(deployment_id, VolumeKey(key.tenant_id, object_id))
    except ValueError as exc:
        raise PermanentError(f"pod '{key.pod_id}' has an invalid mount: {exc}") from exc
    return MountSpec(StorageKind.VOLUME, name, mount.mount_path, mount.read_only, mount.sub_path)
