"""The storage seam: pod volumes and snapshots (Tapis Pods "volumes" and "snapshots").

`types` holds the frozen data crossing the seam, the `VolumeStore` protocol, names and labels;
`paths` is the pure path confinement every implementation applies to user paths; `chunks`
streams file bytes in bounded chunks; `wire` maps the seam to the SpawnerService messages (the
API calls the store through the spawner: services/api/remote_volumes.py); `fake` is an
in-memory double for unit and contract tests. The implementations (Docker named volumes,
Kubernetes PersistentVolumeClaims) belong to the spawner: services/spawner/platforms/.
"""
