"""The images of the local stack: `scripts/up` runs the neo4j template on the locally built
stand-in (deploy/images/neo4j-standin: FalkorDB speaking Bolt, not Neo4j), since no Neo4j
image can be had on these machines. Any other deployment keeps the official image
(PODS_IMAGE_NEO4J's default). Used by services/devstack/__main__.py.
"""

from __future__ import annotations

from collections.abc import Mapping

LOCAL_IMAGES = {"PODS_IMAGE_NEO4J": "pods-neo4j-standin:local"}


def local_image_env(env: Mapping[str, str]) -> dict[str, str]:
    """The image variables the local stack adds to `env`: those `env` does not set."""
    return {name: value for name, value in LOCAL_IMAGES.items() if not env.get(name)}
