"""Templates as data and the image allow-list, end to end: an admin adds a template over REST
(tapipy's template schema has no pod definition), users find it with tapipy and create pods
from it; the allow-list refuses other images."""

from __future__ import annotations

import json
import time
import urllib.parse

import pytest
from tapipy.tapis import Tapis

from tests.e2e.conftest import Cleanup, Unique
from tests.e2e.harness import Stack
from tests.e2e.refusals import refusal

pytestmark = [pytest.mark.docker, pytest.mark.stack]


def client(stack: Stack, user: str, password: str) -> Tapis:
    t = Tapis(base_url=stack.url, username=user, password=password)
    t.get_tokens()
    return t


def test_a_template_added_through_the_api_runs_pods(
    stack: Stack, unique: Unique, cleanup: Cleanup
) -> None:
    admin_token = stack.token("adminuser", "adminpass")
    webdemo = cleanup.template(unique("webdemo"))
    fromtpl = cleanup.pod(unique("fromtpl"))
    template = {
        "template_id": webdemo,
        "description": "demo web server",
        "image": "pods-http:latest",
        "networking": {"default": {"protocol": "http", "port": 5000}},
        "environment_variables": {"POD_MESSAGE": "from the template"},
        "credentials": {"username": "{pod_id}", "environment_variables": {"SECRET": "{password}"}},
    }
    status, _, body = stack.request(
        "POST", "/v3/pods/templates", json.dumps(template).encode(), token=admin_token
    )
    assert status == 200, body
    # Any user may create a template, as in Tapis (the ids are the tenant's).
    status, _, body = stack.request(
        "POST", "/v3/pods/templates", json.dumps(template).encode(), token=stack.token()
    )
    assert status == 409, body
    mine = {"template_id": cleanup.template(unique("mine")), "image": "pods-http:latest"}
    status, _, body = stack.request(
        "POST", "/v3/pods/templates", json.dumps(mine).encode(), token=stack.token()
    )
    assert status == 200 and isinstance(body, dict), body
    assert body["result"]["owner"] == "testuser"

    t = client(stack, "testuser", "testpass")
    assert webdemo not in [x.template_id for x in t.pods.list_templates()]  # not shared yet
    refusal(lambda: t.pods.get_template(template_id=webdemo), 404, webdemo, "not found")
    admin = client(stack, "adminuser", "adminpass")
    admin.pods.set_template_permission(template_id=webdemo, user="*", level="USER")
    assert webdemo in [x.template_id for x in t.pods.list_templates()]
    assert t.pods.get_template(template_id=webdemo).image == "pods-http:latest"
    t.pods.create_pod(pod_id=fromtpl, template=webdemo)
    deadline = time.monotonic() + 60
    while t.pods.get_pod(pod_id=fromtpl).status != "AVAILABLE":
        assert time.monotonic() < deadline
        time.sleep(0.2)
    (container,) = stack.containers(fromtpl)
    env = container.attrs["Config"]["Env"]
    creds = t.pods.get_pod_credentials(pod_id=fromtpl)
    assert "POD_MESSAGE=from the template" in env
    assert f"SECRET={creds.user_password}" in env
    t.pods.delete_pod(pod_id=fromtpl)
    status, _, _ = stack.request("DELETE", f"/v3/pods/templates/{webdemo}", token=admin_token)
    assert status == 200


def test_the_image_allow_list_refuses_other_images(
    stack: Stack, unique: Unique, cleanup: Cleanup
) -> None:
    admin = client(stack, "adminuser", "adminpass")
    t = client(stack, "testuser", "testpass")
    badimage, okimage, okdb = (
        cleanup.pod(unique(name)) for name in ("badimage", "okimage", "okdb")
    )
    # The rule is the tenant's, shared by every test: the cleanup fixture removes it whatever
    # happens here (while it exists, pods of other images are refused).
    admin.pods.add_image(image=cleanup.image("pods-http:*"), description="the demo images")
    refusal(
        lambda: t.pods.create_pod(pod_id=badimage, image="pods-echo:latest"),
        403,
        "'pods-echo:latest' is not on this tenant's allow-list",
    )
    refusal(lambda: t.pods.get_pod(pod_id=badimage), 404, "not found")  # nothing written
    t.pods.create_pod(pod_id=okimage, image="pods-http:latest")
    refusal(  # templates are held to the list too
        lambda: t.pods.create_pod(pod_id=okdb, template="postgres"),
        403,
        "of template 'postgres'",
    )
    assert "pods-http:*" in [i.image for i in t.pods.get_images()]
    refusal(
        lambda: t.pods.add_image(image="pods-echo:latest", description="sneaky"),
        403,
        "admin",
    )
    assert "pods-echo:latest" not in [i.image for i in t.pods.get_images()]
    admin.pods.delete_image(image_id=urllib.parse.quote("pods-http:*", safe=""))
    assert "pods-http:*" not in [i.image for i in t.pods.get_images()]
    t.pods.delete_pod(pod_id=okimage)
