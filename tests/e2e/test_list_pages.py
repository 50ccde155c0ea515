"""ListPods pages through the real gateway (REST transcoding) and the API: `?page_size=` and
`?page_token=` walk the caller's pods in pod_id order and add up to the unpaged answer, which
is unchanged for Tapis clients (every pod, no next_page_token); a bad size or token is a 400
naming its parameter. The pods are created OFF (no container is needed to list them)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.e2e.conftest import Cleanup, Unique
from tests.e2e.harness import Stack

pytestmark = [pytest.mark.stack]


def listed(stack: Stack, token: str, query: str = "") -> dict[str, Any]:
    status, _, body = stack.request("GET", "/v3/pods" + query, token=token)
    assert status == 200, body
    assert isinstance(body, dict)
    return body


def test_pages_walk_the_callers_pods_and_add_up_to_the_unpaged_list(
    stack: Stack, unique: Unique, cleanup: Cleanup
) -> None:
    token = stack.token()
    mine = [cleanup.pod(unique(f"pg{n}x")) for n in range(5)]
    for pod_id in mine:
        body = {"pod_id": pod_id, "image": "pods-http:latest", "status_requested": "OFF"}
        status, _, answer = stack.request("POST", "/v3/pods", json.dumps(body).encode(), token)
        assert status == 200, answer
    everything = listed(stack, token)
    assert everything.get("next_page_token", "") == ""
    unpaged = [pod["pod_id"] for pod in everything["result"]]
    assert set(mine) <= set(unpaged) and unpaged == sorted(unpaged)
    paged: list[str] = []
    query = "?page_size=2"
    while True:
        page = listed(stack, token, query)
        assert len(page["result"]) <= 2
        paged += [pod["pod_id"] for pod in page["result"]]
        if not page.get("next_page_token"):
            break
        query = f"?page_size=2&page_token={page['next_page_token']}"
    assert paged == unpaged
    other = listed(stack, stack.token("otheruser", "otherpass"))
    assert not set(mine) & {pod["pod_id"] for pod in other["result"]}


@pytest.mark.parametrize(
    ("query", "named"),
    [
        ("?page_size=1001", "page_size"),
        ("?page_size=-1", "page_size"),
        ("?page_token=x", "page_token"),
    ],
)
def test_a_bad_page_size_or_token_is_a_400_naming_it(stack: Stack, query: str, named: str) -> None:
    status, _, body = stack.request("GET", "/v3/pods" + query, token=stack.token())
    assert status == 400, body
    assert named in json.dumps(body)
