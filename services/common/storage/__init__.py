"""The storage seam: pod volumes and snapshots (Tapis Pods "volumes" and "snapshots").

`types` holds the frozen data crossing the seam, the `VolumeStore` protocol, names and labels;
`paths` is the pure path confinement every implementation applies to user paths;
`docker_volumes` implements the store with Docker named volumes and short-lived helper
containers (the only module here that imports docker); `fake` is an in-memory double for
unit tests of the API layer. The API layer calls a VolumeStore; the runtime mounts what
`mount_for` describes.
"""
