"""Volume-store machinery the spawner's platform stores share, whatever the platform.

- `threaded_store`: ThreadedVolumeStore, the async VolumeStore seam over blocking platform
  calls run in worker threads.
- `helper_ops` / `helper_answers`: the shell commands a helper container runs on a volume and
  the parsing of what it prints.
- `helper_pool`: keeps helper containers (or Kubernetes helper pods) warm between calls.
- `snapshots`: the one snapshot algorithm over a few platform primitives.

Used by services/spawner/platforms/docker/volumes.py and kubernetes/volumes.py only.
"""
