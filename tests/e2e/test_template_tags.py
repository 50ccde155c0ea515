"""Template versions through the real tapipy client on the real stack: a user's template with
tags, a pod made from `id:tag`, the pod's derived definition, the pod saved as a tag, and a
restart that moves the pod to the newest version of its tag."""

from __future__ import annotations

from typing import Any

import pytest
from tapipy.errors import BaseTapyException
from tapipy.tapis import Tapis

from tests.e2e.conftest import Cleanup, Unique
from tests.e2e.harness import Stack, eventually
from tests.e2e.refusals import refusal

pytestmark = [pytest.mark.docker, pytest.mark.stack]


@pytest.fixture(scope="module")
def t(stack: Stack) -> Tapis:
    client = Tapis(base_url=stack.url, username="testuser", password="testpass")
    client.get_tokens()
    return client


def container_env(stack: Stack, pod_id: str) -> dict[str, str]:
    """The environment of the pod's one container ({} while it has none, or two)."""
    containers = stack.containers(pod_id)
    if len(containers) != 1:
        return {}
    containers[0].reload()
    pairs = (line.split("=", 1) for line in containers[0].attrs["Config"]["Env"])
    return {name: value for name, value in pairs}


def add_in_a_new_second(t: Tapis, **tag: Any) -> Any:
    """Adds a tag whose name has a version already: versions are named to the second, so an
    add in the same second as the last one is a 409 and is tried again (for up to 5 s)."""
    added: list[Any] = []

    def add() -> bool:
        try:
            added.append(t.pods.add_template_tag(**tag))
        except BaseTapyException as exc:
            if exc.response is None or exc.response.status_code != 409:
                raise
            return False
        return True

    eventually(add, timeout=5, what=f"a new version of tag {tag['tag']}")
    return added[0]


def up(t: Tapis, pod_id: str) -> bool:
    pod = t.pods.get_pod(pod_id=pod_id)
    return bool(pod.status_requested == "ON" and pod.status == "AVAILABLE")


def field(obj: Any, name: str) -> Any:
    """A field of a tapipy result, whether tapipy made it an object or left it a dict."""
    return obj[name] if isinstance(obj, dict) else getattr(obj, name)


def test_a_users_template_versions_make_and_move_pods(
    t: Tapis, stack: Stack, unique: Unique, cleanup: Cleanup
) -> None:
    tpl = cleanup.template(unique("webtpl"))
    t.pods.add_template(template_id=tpl, description="versions of a web server")
    v1 = t.pods.add_template_tag(
        template_id=tpl,
        pod_definition={"image": "pods-http:latest", "environment_variables": {"VERSION": "1"}},
        commit_message="first",
        tag="v1",
    )
    assert (v1.template_id, v1.tag, v1.added_by) == (tpl, "v1", "testuser")
    assert v1.tag_timestamp.startswith("v1@")
    t.pods.add_template_tag(
        template_id=tpl,
        pod_definition={"image": "pods-http:latest", "description": "second"},
        commit_message="second",
        tag="v2",
    )
    listed = t.pods.list_template_tags(template_id=tpl)
    assert [tag.tag for tag in listed] == ["v1", "v2"]
    (got,) = t.pods.get_template_tag(template_id=tpl, tag_id="v1")
    assert got.pod_definition.environment_variables.VERSION == "1"
    (exact,) = t.pods.get_template_tag(template_id=tpl, tag_id=v1.tag_timestamp)
    assert exact.commit_message == "first"
    everything = t.pods.list_templates_and_tags()
    assert [field(tag, "tag") for tag in field(field(everything, tpl), "tags")] == ["v1", "v2"]

    pod_id = cleanup.pod(unique("tagpod"))
    pod = t.pods.create_pod(pod_id=pod_id, template=f"{tpl}:v1", description="from v1")
    assert pod.template == f"{tpl}:{v1.tag_timestamp}"
    assert pod.image == "pods-http:latest"
    eventually(lambda: up(t, pod_id), what=f"{pod_id} AVAILABLE")
    assert container_env(stack, pod_id)["VERSION"] == "1"
    derived = t.pods.get_derived_pod(pod_id=pod_id)
    assert (derived.image, derived.template) == ("pods-http:latest", pod.template)
    assert derived.environment_variables.VERSION == "1"

    saved = t.pods.save_pod_as_template_tag(
        pod_id_net=pod_id, template_id=tpl, commit_message="my pod", tag="mine"
    )
    assert saved.pod_definition.template == pod.template
    assert saved.pod_definition.description == "from v1"

    v1b = add_in_a_new_second(
        t,
        template_id=tpl,
        pod_definition={"image": "pods-http:latest", "environment_variables": {"VERSION": "1b"}},
        commit_message="a fix",
        tag="v1",
    )
    assert container_env(stack, pod_id)["VERSION"] == "1"  # pods keep their version
    moved = t.pods.restart_pod(pod_id=pod_id, grab_latest_template_tag=True)
    assert moved.template == f"{tpl}:{v1b.tag_timestamp}"
    assert moved.description == "from v1"  # its own field kept
    eventually(
        lambda: up(t, pod_id) and container_env(stack, pod_id).get("VERSION") == "1b",
        timeout=120,
        what=f"{pod_id} restarted on the newest v1",
    )


def test_bad_template_versions_are_refused_naming_the_field(
    t: Tapis, unique: Unique, cleanup: Cleanup
) -> None:
    tpl = cleanup.template(unique("badtpl"))
    t.pods.add_template(template_id=tpl, description="refusals")
    refusal(
        lambda: t.pods.add_template_tag(
            template_id=tpl, pod_definition={"image": "Not An Image"}, commit_message="x"
        ),
        400,
        "pod_definition.image",
    )
    refusal(
        lambda: t.pods.add_template_tag(
            template_id=tpl,
            pod_definition={"networking": {"default": {"protocol": "ftp", "port": 21}}},
            commit_message="x",
        ),
        400,
        "pod_definition.networking.default.protocol",
    )
    refusal(
        lambda: t.pods.add_template_tag(
            template_id=tpl, pod_definition={}, commit_message="x", tag="no spaces"
        ),
        400,
        "tag",
    )
    refusal(
        lambda: t.pods.add_template_tag(
            template_id=tpl, pod_definition={"template": "nosuchtemplate"}, commit_message="x"
        ),
        400,
        "pod_definition.template",
    )
    pod_id = unique("nopod")
    refusal(lambda: t.pods.create_pod(pod_id=pod_id, template=tpl), 400, "no tag 'latest'")
    refusal(lambda: t.pods.create_pod(pod_id=pod_id, template=f"{tpl}:a:b"), 400, "template")
    refusal(lambda: t.pods.get_template_tag(template_id=tpl, tag_id="v9"), 404, "no tag 'v9'")
