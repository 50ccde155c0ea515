"""The runtime seam: what the spawner needs from a container platform (and health reads through it).

`types` holds the frozen data passed across the seam and the `Runtime` protocol; `naming` the
names and labels derived from a PodKey; `kinds` the platform names (PODS_RUNTIME);
`kubernetes/` the Kubernetes names and compute queues several processes read; `fake` is an
in-memory double for unit and contract tests. The implementations (Docker, Kubernetes) belong
to the spawner: services/spawner/platforms/.
"""
