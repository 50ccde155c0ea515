"""The web console (/console/, gateway/console/) in a real browser against the real stack: Debian's
chromium, headless, driven by Playwright. A user logs in with the dev identity, creates a pod
(PostgreSQL, from its template) from the console, sees it reach AVAILABLE in the list, opens its
page, sees its logs and reveals its credentials, stops and deletes it; logs in with a pasted
token, uploads a file to a volume and downloads it again; and the list follows an event stream
(played back by request interception) and resumes it with Last-Event-ID. With PODS_SCREENSHOTS=1
(scripts/screenshots) it also saves the screenshots the README shows into docs/images/."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, FilePayload, Page, Route, expect, sync_playwright

from tests.e2e.conftest import Cleanup, Unique
from tests.e2e.harness import Stack, eventually

pytestmark = [pytest.mark.docker, pytest.mark.stack]

CHROMIUM = Path("/usr/bin/chromium")
IMAGES = Path(__file__).resolve().parents[2] / "docs" / "images"
AVAILABLE_TIMEOUT_MS = 120_000
STEP_TIMEOUT_MS = 30_000


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: run scripts/setup (it installs Debian's chromium)")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True)
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def page(browser: Browser, stack: Stack) -> Iterator[Page]:
    context = browser.new_context(
        base_url=stack.url,
        viewport={"width": 1200, "height": 800},
        accept_downloads=True,
        ignore_https_errors=stack.url.startswith("https"),
    )
    context.set_default_timeout(STEP_TIMEOUT_MS)
    opened = context.new_page()
    errors: list[str] = []
    opened.on("pageerror", lambda error: errors.append(str(error)))
    opened.on(
        "console",
        lambda message: (
            errors.append(message.text)
            if message.type == "error" and "Content Security Policy" in message.text
            else None
        ),
    )
    try:
        yield opened
    finally:
        context.close()
    assert errors == [], errors


def screenshot(page: Page, name: str) -> None:
    if os.environ.get("PODS_SCREENSHOTS") == "1":
        IMAGES.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(IMAGES / name), full_page=True)


def log_in(page: Page) -> None:
    page.goto("/console/")
    page.get_by_label("User name").fill("testuser")
    page.get_by_label("Password").fill("testpass")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Pods", exact=True)).to_be_visible()


def test_static_files_have_types_csp_and_cache_headers(stack: Stack, page: Page) -> None:
    response = page.request.get("/console/app.js")
    assert response.status == 200
    assert response.headers["content-type"] == "text/javascript; charset=utf-8"
    assert "script-src 'self'" in response.headers["content-security-policy"]
    assert response.headers["cache-control"] == "no-cache"
    index = page.request.get("/console")
    assert index.status == 200
    assert index.url.endswith("/console/")
    assert index.headers["content-type"] == "text/html; charset=utf-8"


def test_pod_from_create_to_delete(
    stack: Stack, page: Page, unique: Unique, cleanup: Cleanup
) -> None:
    pod_id = cleanup.pod(unique("console"))
    log_in(page)
    page.get_by_label("Pod id").fill(pod_id)
    page.get_by_label("Template").select_option("postgres")  # templated pods have credentials
    page.get_by_label("Description").fill("made in the web console")
    page.get_by_role("button", name="Create pod").click()
    row = page.locator(f'tr[data-pod="{pod_id}"]')
    expect(row.locator(".status")).to_have_text("AVAILABLE", timeout=AVAILABLE_TIMEOUT_MS)
    screenshot(page, "console-pods.png")

    row.get_by_role("link", name=pod_id).click()
    expect(page.get_by_role("heading", name=f"Pod {pod_id}")).to_be_visible()
    expect(page.locator("h1 .status")).to_have_text("AVAILABLE")
    expect(page.get_by_label("Pod output")).not_to_be_empty(timeout=STEP_TIMEOUT_MS)
    expect(page.locator("ol.history li").first).to_contain_text("AVAILABLE")
    expect(page.locator("[data-secret=password]")).to_have_count(0)
    page.get_by_role("button", name="Reveal credentials").click()
    password = page.locator("[data-secret=password]")
    expect(password).not_to_be_empty()
    expect(page.get_by_text(f'psql "host={pod_id}.')).to_be_visible()
    screenshot(page, "console-pod.png")

    page.get_by_role("button", name="Stop").click()
    expect(page.locator("h1 .status")).to_have_text("STOPPED", timeout=AVAILABLE_TIMEOUT_MS)
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Delete").click()
    expect(page.get_by_role("heading", name="Pods", exact=True)).to_be_visible()
    # Deletion is asynchronous (the spawner removes the container, then the row): the list
    # may still show the pod, so wait for the API to forget it, then for the list to follow.
    eventually(
        lambda: stack.request("GET", f"/v3/pods/{pod_id}", token=stack.token())[0] == 404,
        timeout=60,
        what=f"pod {pod_id} gone from the API",
    )
    expect(page.locator(f'tr[data-pod="{pod_id}"]')).to_have_count(0, timeout=STEP_TIMEOUT_MS)


def test_the_list_drops_a_pod_deleted_before_its_watch_started(
    stack: Stack, page: Page, unique: Unique, cleanup: Cleanup
) -> None:
    """The list page reads the pods, then opens its watch. A pod that is gone by the time the
    watch reads its first state never gets a `deleted` event (the watch never knew it): the
    page must still drop it. The test holds the watch back until the pod is gone, the widest
    form of the race that left a deleted pod's row up in test_pod_from_create_to_delete."""
    pod_id = cleanup.pod(unique("racepod"))
    token = stack.token()
    body = json.dumps({"pod_id": pod_id, "image": "pods-http:latest"}).encode()
    status, _, data = stack.request("POST", "/v3/pods", body, token=token)
    assert status == 200, data
    held: list[str] = []

    def hold_the_watch(route: Route) -> None:
        if not held:
            held.append(route.request.url)
            status, _, data = stack.request("DELETE", f"/v3/pods/{pod_id}", token=token)
            assert status == 200, data
            eventually(
                lambda: stack.request("GET", f"/v3/pods/{pod_id}", token=token)[0] == 404,
                what=f"{pod_id} deleted",
            )
        route.continue_()

    page.route(lambda url: url.endswith("/v3/pods?watch=true"), hold_the_watch)
    log_in(page)
    expect(page.get_by_text("Live updates.")).to_be_visible()
    expect(page.locator(f'tr[data-pod="{pod_id}"]')).to_have_count(0, timeout=STEP_TIMEOUT_MS)
    assert held


def test_volume_upload_and_download(
    stack: Stack, page: Page, unique: Unique, cleanup: Cleanup, tmp_path: Path
) -> None:
    volume_id = cleanup.volume(unique("consolevol"))
    content = b"uploaded from the console\n\x00\xff"
    page.goto("/console/")  # this time with a pasted token
    page.get_by_label("Access token (JWT)").fill(stack.token())
    page.get_by_role("button", name="Use token").click()
    expect(page.get_by_role("heading", name="Pods", exact=True)).to_be_visible()
    page.get_by_role("link", name="Volumes").click()
    page.get_by_label("Volume id").fill(volume_id)
    page.get_by_role("button", name="Create volume").click()
    page.get_by_role("link", name=volume_id).click()
    expect(page.get_by_role("heading", name=f"Volume {volume_id}")).to_be_visible()
    upload: FilePayload = {
        "name": "hello.bin",
        "mimeType": "application/octet-stream",
        "buffer": content,
    }
    page.get_by_label("File", exact=True).set_input_files(files=[upload])
    page.get_by_label("Save as", exact=False).fill("docs/hello.bin")
    page.get_by_role("button", name="Upload").click()
    page.get_by_role("button", name="docs/").click()
    with page.expect_download() as info:
        page.get_by_role("button", name="Download hello.bin").click()
    saved = tmp_path / "hello.bin"
    info.value.save_as(saved)
    assert saved.read_bytes() == content


def test_list_follows_the_event_stream(stack: Stack, page: Page) -> None:
    """Where the gateway streams (SSE.md), the list takes each event's status as it comes, and
    reconnects with Last-Event-ID. The stream is played back by the browser's request
    interception, so this holds whatever the API serves today."""
    pod = {"pod_id": "ssepod", "status": "REQUESTED", "image": "pods-http:latest"}
    events = (
        'id: c1\nevent: pod\ndata: {"pod_id": "ssepod", "status": "CREATING"}\n\n'
        ": keep-alive\n\n"
        'id: c2\r\nevent: pod\r\ndata: {"pod_id": "ssepod", "status": "AVAILABLE"}\r\n\r\n'
    )
    resumed: list[str | None] = []

    def watch(route: Route) -> None:
        resumed.append(route.request.headers.get("last-event-id"))
        body = events if len(resumed) == 1 else ""
        route.fulfill(status=200, headers={"content-type": "text/event-stream"}, body=body)

    def pods(route: Route) -> None:
        if route.request.method == "GET":
            route.fulfill(json={"result": [pod], "status": "success", "message": ""})
        else:
            route.continue_()

    page.route(lambda url: url.endswith("/v3/pods?watch=true"), watch)
    page.route(lambda url: url.endswith("/v3/pods"), pods)
    log_in(page)
    expect(page.locator('tr[data-pod="ssepod"] .status')).to_have_text("AVAILABLE")
    expect(page.get_by_text("Live updates.")).to_be_visible()
    deadline = 10_000
    while len(resumed) < 2 and deadline > 0:
        page.wait_for_timeout(200)
        deadline -= 200
    assert resumed[:2] == [None, "c2"]
