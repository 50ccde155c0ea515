"""The Runtime and VolumeStore seams on a Kubernetes cluster: each pod becomes a Pod, a
ClusterIP Service and a Secret in one namespace; each volume and snapshot a
PersistentVolumeClaim.

Modules, from pure to I/O:
- `config`: KubernetesConfig (namespace, pull policy and secrets, compute queues, security
  defaults, informer timing), built once by services/spawner/platforms/factory.py. The
  compute-queue table and the object names live in services/common/runtime/kubernetes/
  (`queues`, `names`), shared with the API and the gateway.
- `manifests`: pure builders of the Secret, Pod and Service of a ContainerSpec (plain dicts in
  the API's JSON form); `claims`: pure builders of claims and storage helper pods.
- `state`: a Pod object read back -> ContainerState.
- `logs`: timestamped log text -> new lines and the next cursor.
- `api`: KubeApi, the seam of the few API calls we make, its errors and the RBAC each caller
  needs; `client`: ClusterApi, its implementation, the only module here that imports
  `kubernetes`; `connection`: the lazily opened client; `errors`: KubeError -> our outcomes.
- `informer`: the list-then-watch pod cache health reads.
- `runtime`: KubernetesRuntime, the Runtime implementation composed of the above.
- `volumes`: KubernetesVolumeStore, the VolumeStore over claims and helper pods.

This package's __init__ imports nothing, so the pure modules load without the client.
"""
