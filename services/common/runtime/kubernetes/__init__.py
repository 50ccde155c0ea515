"""The Runtime seam on a Kubernetes cluster: each pod becomes a Pod, a ClusterIP Service and a
Secret in one namespace.

Modules, from pure to I/O:
- `config`: KubernetesConfig (namespace, pull policy and secrets, compute queues, security
  defaults, informer timing), built once by services/common/runtime/factory.py.
- `names`: object names, label values and selectors derived from a PodKey (no I/O).
- `manifests`: pure builders of the Secret, Pod and Service of a ContainerSpec (plain dicts in
  the API's JSON form).
- `state`: a Pod object read back -> ContainerState.
- `logs`: timestamped log text -> new lines and the next cursor.
- `client`: KubeApi, the thin wrapper over the kubernetes client calls we make, and the RBAC
  each caller needs; the only module here that imports `kubernetes`.
- `informer`: the list-then-watch pod cache health reads.
- `runtime`: KubernetesRuntime, the Runtime implementation composed of the above.

This package's __init__ imports nothing, so `names` can be used without loading the client.
"""
