"""DockerBackedKubeApi: the in-memory KubeApi double (tests/unit/runtime/kubernetes/fake_api.py)
whose claims are real Docker volumes and whose Pods are real containers, so that
KubernetesVolumeStore's helper pods run its real commands on real files.

No Kubernetes cluster can be had on these machines; this is as close as the machine allows:
the API server's bookkeeping is the fake's, the kubelet's work is Docker's. What it does not
model: scheduling (nodeName is ignored), access modes and capacity (Docker's local driver has
no quotas), and the pvc-protection finalizer (a claim in use is refused by Docker instead).

- a PersistentVolumeClaim created → a Docker volume of the same name, labelled with the
  deployment for cleanup; deleted → the volume removed;
- a Pod created → a container of the local busybox image (whatever image the Pod names) with
  the Pod's claims mounted as its volumeMounts say, run as its securityContext says, without
  network; the Pod then reports Running. Deleted → the container removed;
- exec_bytes → `docker exec [-i]` of the argv, stdin piped in.
"""

from __future__ import annotations

import contextlib
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import docker
import docker.errors

from services.common.runtime.types import LABEL_DEPLOYMENT
from services.spawner.platforms.kubernetes.api import ExecBytes
from tests.unit.runtime.kubernetes.fake_api import FakeKubeApi

Obj = dict[str, Any]
LOCAL_IMAGE = "pods-http:latest"


@dataclass
class DockerBackedKubeApi(FakeKubeApi):
    docker_client: Any = None
    deployment_id: str = ""
    containers: dict[str, str] = field(default_factory=dict)  # pod name -> container id
    created_pods: list[Obj] = field(default_factory=list)  # every Pod body, as sent

    def create(self, kind: str, body: Obj) -> Obj:
        created = super().create(kind, body)
        name = body["metadata"]["name"]
        if kind == "persistentvolumeclaims":
            self.docker_client.api.create_volume(
                name=name, driver="local", labels={LABEL_DEPLOYMENT: self.deployment_id}
            )
        elif kind == "pods":
            self.created_pods.append(body)
            self.containers[name] = self._start(body)
            self.set_status(
                name,
                {
                    "phase": "Running",
                    "containerStatuses": [{"name": "helper", "state": {"running": {}}}],
                },
            )
        return created

    def delete(self, kind: str, name: str, *, propagation: str = "Background") -> bool:
        if kind == "pods" and name in self.containers:
            with contextlib.suppress(docker.errors.NotFound):
                self.docker_client.api.remove_container(self.containers.pop(name), force=True)
        if kind == "persistentvolumeclaims":
            with contextlib.suppress(docker.errors.NotFound):
                self.docker_client.api.remove_volume(name)
        return super().delete(kind, name, propagation=propagation)

    def exec_bytes(
        self, name: str, container: str, argv: Sequence[str], stdin: bytes | None, timeout: float
    ) -> ExecBytes:
        super().exec_bytes(name, container, argv, stdin, timeout)  # bookkeeping and 404
        command = ["docker", "exec", *(["-i"] if stdin is not None else [])]
        try:
            done = subprocess.run(
                [*command, self.containers[name], *argv],
                input=stdin if stdin is not None else None,
                capture_output=True,
                timeout=timeout,
                check=False,
            )
        except subprocess.TimeoutExpired as exc:
            return ExecBytes(None, exc.stdout or b"", exc.stderr or b"")
        return ExecBytes(done.returncode, done.stdout, done.stderr)

    def _start(self, body: Obj) -> str:
        spec = body["spec"]
        container = spec["containers"][0]
        claims = {
            v["name"]: v["persistentVolumeClaim"]
            for v in spec.get("volumes") or []
            if "persistentVolumeClaim" in v
        }
        mounts = [
            {
                "Type": "volume",
                "Source": claims[m["name"]]["claimName"],
                "Target": m["mountPath"],
                "ReadOnly": bool(m.get("readOnly") or claims[m["name"]].get("readOnly")),
                "VolumeOptions": {"NoCopy": True},
            }
            for m in container.get("volumeMounts") or []
        ]
        security = container.get("securityContext") or {}
        capabilities = security.get("capabilities") or {}
        created = self.docker_client.api.create_container(
            LOCAL_IMAGE,
            entrypoint=container.get("command"),
            command=container.get("args"),
            user=f"{security.get('runAsUser', 0)}:{security.get('runAsGroup', 0)}",
            labels={LABEL_DEPLOYMENT: self.deployment_id},
            host_config=self.docker_client.api.create_host_config(
                mounts=mounts,
                network_mode="none",
                read_only=bool(security.get("readOnlyRootFilesystem")),
                cap_drop=capabilities.get("drop"),
                cap_add=capabilities.get("add"),
                init=True,
            ),
        )
        self.docker_client.api.start(created["Id"])
        return str(created["Id"])
