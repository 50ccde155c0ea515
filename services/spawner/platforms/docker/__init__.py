"""The Runtime and VolumeStore seams on one machine's Docker engine (the docker SDK).

- `runtime`: DockerRuntime, each pod one container; `translate` turns container attributes
  and engine events into the seam's records (no I/O); `exec` runs commands in a container.
- `network`: one bridge network per pod, owned by the runtime.
- `volumes`: DockerVolumeStore, named volumes and snapshots driven through short-lived
  helper containers (services/spawner/storage/helper_ops.py).
- `errors`: docker SDK errors translated once into PermanentError / TemporaryError.
- `proc_tree`: reading /proc to find the processes an exec started (for its kill).
"""
