"""Kubernetes naming and compute queues shared by several processes, with no I/O and no
kubernetes client: `names` (object names, labels, selectors and the in-cluster Service host a
PodKey maps to; used by the spawner's Kubernetes adapters and by gateway/cluster.py) and
`queues` (the compute-queue table; read by the API to validate queue names and by the
spawner to place pods). The adapters themselves live in services/spawner/platforms/kubernetes/.
"""
