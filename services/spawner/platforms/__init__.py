"""The platform adapters the spawner drives: the Runtime and VolumeStore seams
(services/common/runtime/types.py, services/common/storage/types.py) implemented on Docker
(`docker/`) and on Kubernetes (`kubernetes/`).

`factory` chooses the platform from PODS_RUNTIME; `hardening` is the container security
baseline both platforms apply; `cursors` reads log cursors back for both. Only this package
imports docker or kubernetes. What both volume stores share is services/spawner/storage/.
"""
