"""KubernetesRuntime against FakeKubeApi, the in-memory double of our KubeApi wrapper: API
errors translated to temporary or permanent ones, the API connected on first use, and the API
calls each Runtime method makes compared with the RBAC the deployment grants."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Callable
from typing import Any

import pytest

from services.common.outcomes import PermanentError, TemporaryError
from services.common.runtime.naming import with_hash
from services.common.runtime.types import RuntimeEvent
from services.spawner.platforms.kubernetes.api import (
    API_VERBS,
    SPAWNER_ACCESS,
    SPAWNER_RUNTIME_METHODS,
    KubeError,
)
from services.spawner.platforms.kubernetes.runtime import KubernetesRuntime

from .fake_api import FakeKubeApi
from .runtime_support import CONFIG, KEY, NAME, SPEC, running


@pytest.fixture
def api() -> FakeKubeApi:
    return FakeKubeApi()


@pytest.fixture
async def runtime(api: FakeKubeApi) -> Any:
    runtime = KubernetesRuntime("prod", CONFIG, api)
    yield runtime
    await runtime.aclose()


# -- errors --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("error", "expected", "delay"),
    [
        (KubeError(None, "Unreachable", "connection refused"), TemporaryError, 5.0),
        (KubeError(503, "ServiceUnavailable", "etcd leader changed"), TemporaryError, 1.0),
        (KubeError(429, "TooManyRequests", "slow down"), TemporaryError, 5.0),
        (KubeError(409, "Conflict", "the object has been modified"), TemporaryError, 1.0),
        (KubeError(401, "Unauthorized", "token expired"), TemporaryError, 5.0),
        (
            KubeError(403, "Forbidden", "exceeded quota: pods, requested: cpu=2"),
            PermanentError,
            None,
        ),
        (
            KubeError(422, "Invalid", "spec.containers[0].image: Required value"),
            PermanentError,
            None,
        ),
    ],
)
async def test_api_errors_become_temporary_or_permanent(
    runtime: KubernetesRuntime,
    api: FakeKubeApi,
    error: KubeError,
    expected: type[Exception],
    delay: float | None,
) -> None:
    api.fail("create", error)
    with pytest.raises(expected) as raised:
        await runtime.ensure(SPEC)
    assert error.message in str(raised.value)
    if delay is not None:
        assert isinstance(raised.value, TemporaryError) and raised.value.delay == delay


async def test_the_api_is_connected_on_first_use_only() -> None:
    made: list[FakeKubeApi] = []

    def factory() -> FakeKubeApi:
        made.append(FakeKubeApi())
        return made[-1]

    runtime = KubernetesRuntime("prod", CONFIG, api_factory=factory)
    assert made == []
    assert await runtime.inspect(KEY) is None
    assert await runtime.inspect(KEY) is None
    assert len(made) == 1


# -- RBAC ----------------------------------------------------------------------------------


async def _scenario(
    runtime: KubernetesRuntime, api: FakeKubeApi
) -> dict[str, set[tuple[str, str]]]:
    """Runs every Runtime method through the paths that call the API; returns the
    (verb, resource) pairs each method used."""
    used: dict[str, set[tuple[str, str]]] = {}

    async def call(method: str, run: Callable[[], Any]) -> Any:
        api.calls.clear()
        result = await run()
        used.setdefault(method, set()).update(
            (verb, resource) for name, resource in api.calls for verb in API_VERBS[name][0]
        )
        return result

    await call("ensure", lambda: runtime.ensure(SPEC))
    changed = with_hash(dataclasses.replace(SPEC, environment={"A": "3"}))
    await call("ensure", lambda: runtime.ensure(changed))  # patch secret, delete/create pod
    await call("ensure", lambda: runtime.ensure(with_hash(dataclasses.replace(changed, ports=()))))
    await call("ensure", lambda: runtime.ensure(changed))
    api.set_status(NAME, running())
    api.write_log(NAME, "2024-05-01T10:00:00Z", "hello\n")
    await call("inspect", lambda: runtime.inspect(KEY))
    await call("list_managed", runtime.list_managed)
    await call("logs_since", lambda: runtime.logs_since(KEY, "", 100))
    await call("exec", lambda: runtime.exec(KEY, ["true"], 5, 100))
    await call("copy_into", lambda: runtime.copy_into(KEY, "/tmp/file.txt", b"data"))

    async def first_event() -> RuntimeEvent:
        events = runtime.watch()
        task = asyncio.ensure_future(anext(events))
        while not api.open_watches():
            await asyncio.sleep(0.01)
        api.set_status(NAME, running(ready=False))
        event = await asyncio.wait_for(task, 5)
        await events.aclose()  # type: ignore[attr-defined]
        return event

    assert await call("watch", first_event) == RuntimeEvent(KEY, "update")
    await call("inspect", lambda: runtime.inspect(KEY))  # from the cache now
    api.graceful = True  # the pod terminates slowly: remove finds and deletes all three
    await call("remove", lambda: runtime.remove(KEY))
    return used


def _granted(*access: dict[str, frozenset[str]]) -> set[tuple[str, str]]:
    return {
        (verb, resource) for rules in access for resource, verbs in rules.items() for verb in verbs
    }


async def test_the_spawner_uses_exactly_the_access_its_role_grants(api: FakeKubeApi) -> None:
    runtime = KubernetesRuntime("prod", CONFIG, api)
    try:
        used = await _scenario(runtime, api)
    finally:
        await runtime.aclose()
    spawner = set().union(*(used[m] for m in SPAWNER_RUNTIME_METHODS))
    assert spawner == _granted(dict(SPAWNER_ACCESS))
    for name, (_verbs, resources) in API_VERBS.items():
        assert all(r in resources for m, r in api.calls if m == name)


async def test_watch_reports_a_missing_configuration_as_temporary() -> None:
    def no_cluster() -> FakeKubeApi:
        raise KubeError(None, "NoConfiguration", "no kubeconfig and not in a cluster")

    runtime = KubernetesRuntime("prod", CONFIG, api_factory=no_cluster)
    with pytest.raises(TemporaryError, match="no kubeconfig"):
        await anext(runtime.watch())
    with pytest.raises(TemporaryError, match="no kubeconfig"):
        await runtime.ensure(SPEC)
