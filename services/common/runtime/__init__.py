"""The runtime seam: what spawner and health need from a container platform.

`types` holds the frozen data passed across the seam and the `Runtime` protocol;
`docker_runtime` implements it with the Docker SDK (the only module that imports docker);
`fake` is an in-memory double for unit tests of our own logic.
"""
