"""The identity of the local stack: `scripts/up` turns the built-in identity on in its
`local` mode (well-known passwords allowed on a loopback-only stack, see
services/api/identity_config.py) with the README's user. Used by services/devstack/__main__.py.
"""

from __future__ import annotations

from collections.abc import Mapping

LOCAL_IDENTITY = {"PODS_DEV_IDENTITY": "local", "PODS_DEV_USERS": "testuser:testpass"}


def local_identity_env(env: Mapping[str, str]) -> dict[str, str]:
    """The identity variables the local stack adds to `env`: those `env` does not set."""
    return {name: value for name, value in LOCAL_IDENTITY.items() if not env.get(name)}
