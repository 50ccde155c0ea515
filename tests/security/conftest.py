"""The security suite's stack: `scripts/up` on free ports with the matrix's users (see
principals.py) and one tenant admin, and the shared objects the matrix acts on."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.e2e.harness import Stack, start_stack, stop_stack
from tests.security.calls import Kind
from tests.security.principals import USERS, Standing, dev_users_setting, principals
from tests.security.world import IMAGE, RUNNING_IMAGE, World


@pytest.fixture(scope="session")
def security_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    env = {
        "PODS_DEV_USERS": dev_users_setting(),
        "PODS_ADMIN_USERS": USERS[Standing.TENANT_ADMIN][0],
        "PODS_IMAGE_POSTGRES": IMAGE,
    }
    running = start_stack(tmp_path_factory.mktemp("security"), env)
    try:
        yield running
    finally:
        stop_stack(running)


@pytest.fixture(scope="session")
def world(security_stack: Stack) -> World:
    made = World(security_stack, principals(security_stack))
    # Allow-list entries for the images the matrix runs, so that adding other entries
    # (AddImage succeeds for the tenant admin) never turns the pods' images away.
    for image in (IMAGE, RUNNING_IMAGE):
        rule = image.split(":")[0] + "*"
        made.call(Standing.TENANT_ADMIN, "POST", "/v3/pods/images", {"image": rule})
    for kind in (Kind.POD, Kind.EXEC_POD, Kind.TEMPLATE, Kind.VOLUME, Kind.SNAPSHOT):
        made.shared[kind] = made.make(kind)
    made.shared[Kind.IMAGE_RULE] = made.make(Kind.IMAGE_RULE)
    made.wait_running(made.shared[Kind.EXEC_POD])
    return made
