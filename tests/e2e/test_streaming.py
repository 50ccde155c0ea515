"""Big downloads stream and listings are paged, end to end through the real gateway: a 200 MiB
file (written into the volume by a container mounting it, the fast way) reaches a REST client
whole while the API process's memory stays flat; snapshot downloads stream too; a directory of
2,500 files lists page by page with no file lost or repeated; bad paging input is a 400; a
file cut short while it streams ends the body in a way the client can tell."""

from __future__ import annotations

import hashlib
import http.client
import json
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import docker
import pytest
from tapipy.tapis import Tapis

from services.common.runtime.types import LABEL_DEPLOYMENT
from services.common.storage.types import LABEL_VOLUME
from tests.e2e.conftest import Cleanup, Unique
from tests.e2e.harness import Stack

pytestmark = [pytest.mark.docker, pytest.mark.stack]

MIB = 1024 * 1024
BIG = 200 * MIB
RSS_GROWTH_LIMIT = 64 * MIB


def rss_bytes(pid: int) -> int:
    """VmRSS of a process, in bytes."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError(f"no VmRSS for pid {pid}")


class RssSampler:
    """Samples a process's RSS every 20 ms in a thread; `peak` is the highest seen."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.baseline = rss_bytes(pid)
        self.peak = self.baseline
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(0.02):
            self.peak = max(self.peak, rss_bytes(self.pid))

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()


def fill_volume(stack: Stack, volume_id: str, command: str) -> str:
    """Runs `command` (sh) in a throwaway container with the volume at /v; its output."""
    client = docker.from_env()
    try:
        filters = {
            "label": [f"{LABEL_DEPLOYMENT}={stack.deployment_id}", f"{LABEL_VOLUME}={volume_id}"]
        }
        (volume,) = client.volumes.list(filters=filters)
        output = client.containers.run(
            "pods-http:latest",
            entrypoint=["sh", "-c", command],
            mounts=[docker.types.Mount("/v", volume.name, type="volume")],
            labels={LABEL_DEPLOYMENT: stack.deployment_id},
            network_mode="none",
            remove=True,
        )
        return bytes(output).decode()
    finally:
        client.close()


def download(stack: Stack, path: str) -> tuple[int, str, str, int, float]:
    """(status, content type, sha256, bytes, seconds) of a REST download read in 1 MiB reads."""
    headers = {"X-Tapis-Token": stack.token()}
    request = urllib.request.Request(stack.url + path, headers=headers)
    digest, received, started = hashlib.sha256(), 0, time.monotonic()
    try:
        with urllib.request.urlopen(request, timeout=120) as response:
            while chunk := response.read(MIB):
                digest.update(chunk)
                received += len(chunk)
            status, content_type = response.status, response.headers.get("content-type", "")
    except urllib.error.HTTPError as error:
        with error:
            return error.code, error.headers.get("content-type", ""), error.read().decode(), 0, 0.0
    return status, content_type, digest.hexdigest(), received, time.monotonic() - started


def test_a_200_mib_download_streams_with_flat_api_memory(
    stack: Stack, unique: Unique, cleanup: Cleanup
) -> None:
    bigvol = cleanup.volume(unique("bigvol"))
    token = stack.token()
    status, _, body = stack.request(
        "POST",
        "/v3/pods/volumes",
        f'{{"volume_id": "{bigvol}", "size_limit": 512}}'.encode(),
        token,
    )
    assert status == 200, body
    out = fill_volume(
        stack, bigvol, f"head -c {BIG} /dev/urandom > /v/big.bin && sha256sum /v/big.bin"
    )
    expected = out.split()[0]

    # The API relays the chunks; the spawner (which owns the volume store) reads them.
    with RssSampler(stack.pid_of("api")) as api, RssSampler(stack.pid_of("spawner")) as spawner:
        status, content_type, got, size, seconds = download(
            stack, f"/v3/pods/volumes/{bigvol}/contents/big.bin"
        )
    growth = api.peak - api.baseline
    spawner_growth = spawner.peak - spawner.baseline
    print(
        f"download: {size / MIB:.0f} MiB in {seconds:.1f} s, RSS growth: API "
        f"{growth / MIB:.1f} MiB, spawner {spawner_growth / MIB:.1f} MiB"
    )
    assert (status, content_type) == (200, "application/octet-stream"), got
    assert (size, got) == (BIG, expected)
    assert growth < RSS_GROWTH_LIMIT, f"the API grew by {growth / MIB:.0f} MiB"
    assert spawner_growth < RSS_GROWTH_LIMIT, f"the spawner grew by {spawner_growth / MIB:.0f} MiB"


def test_snapshot_downloads_stream_and_tapipy_gets_the_bytes(
    stack: Stack, unique: Unique, cleanup: Cleanup
) -> None:
    chunkvol, chunksnap = cleanup.volume(unique("chunkvol")), cleanup.snapshot(unique("chunksnap"))
    t = Tapis(base_url=stack.url, username="testuser", password="testpass")
    t.get_tokens()
    t.pods.create_volume(volume_id=chunkvol, size_limit=64)
    out = fill_volume(
        stack, chunkvol, "head -c 3145731 /dev/urandom > /v/three.bin && sha256sum /v/three.bin"
    )
    expected = out.split()[0]
    # tapipy reads the raw (chunked) body: all 12 chunks of 256 KiB and the 3 bytes after.
    got = t.pods.get_volume_contents(volume_id=chunkvol, path="three.bin")
    assert hashlib.sha256(got).hexdigest() == expected
    t.pods.create_snapshot(snapshot_id=chunksnap, source_volume_id=chunkvol, source_volume_path="/")
    got = t.pods.get_snapshot_contents(snapshot_id=chunksnap, path="three.bin")
    assert hashlib.sha256(got).hexdigest() == expected
    status, content_type, digest, size, _ = download(
        stack, f"/v3/pods/snapshots/{chunksnap}/contents/three.bin"
    )
    assert (status, content_type, digest, size) == (
        200,
        "application/octet-stream",
        expected,
        3145731,
    )
    # Errors found before the first chunk are still JSON with the right status.
    status, content_type, body, _, _ = download(stack, f"/v3/pods/snapshots/{chunksnap}/contents/x")
    assert (status, content_type) == (404, "application/json"), body
    assert "'x' does not exist" in json.loads(body)["message"]


def list_page(stack: Stack, volume_id: str, query: str) -> tuple[int, dict[str, Any]]:
    status, _, body = stack.request(
        "GET", f"/v3/pods/volumes/{volume_id}/list?{query}", token=stack.token()
    )
    assert isinstance(body, dict), body
    return status, body


def test_listings_are_paged(stack: Stack, unique: Unique, cleanup: Cleanup) -> None:
    pagevol = cleanup.volume(unique("pagevol"))
    token = stack.token()
    status, _, body = stack.request(
        "POST", "/v3/pods/volumes", json.dumps({"volume_id": pagevol}).encode(), token
    )
    assert status == 200, body
    fill_volume(stack, pagevol, "mkdir /v/d && cd /v/d && for i in $(seq 1 2500); do : > f$i; done")

    # Without paging parameters: the first 1000 entries, and a token for the rest.
    status, first = list_page(stack, pagevol, "path=d")
    assert status == 200, first
    assert len(first["result"]) == 1000 and first["next_page_token"]

    seen: list[str] = []
    query = "path=d&page_size=700"
    pages = 0
    while True:
        status, page = list_page(stack, pagevol, query)
        assert status == 200, page
        assert len(page["result"]) <= 700
        seen += [entry["path"] for entry in page["result"]]
        pages += 1
        if not page["next_page_token"]:
            break
        query = f"path=d&page_size=700&page_token={page['next_page_token']}"
    assert pages == 4
    assert len(seen) == len(set(seen)) == 2500
    assert set(seen) == {f"d/f{i}" for i in range(1, 2501)}
    status, everything = list_page(stack, pagevol, "path=d&page_size=10000")
    assert (status, len(everything["result"]), everything["next_page_token"]) == (200, 2500, "")

    for query, field in (
        ("page_token=bm90LWEtdG9rZW4", "page_token"),
        ("page_token=%21%21", "page_token"),
        ("page_size=10001", "page_size"),
        ("page_size=-5", "page_size"),
    ):
        status, refused = list_page(stack, pagevol, query)
        assert status == 400, (query, refused)
        assert refused["message"].startswith(f"{field}: "), refused


def test_a_file_cut_short_mid_download_aborts_the_body(
    stack: Stack, unique: Unique, cleanup: Cleanup
) -> None:
    cutvol = cleanup.volume(unique("cutvol"))
    token = stack.token()
    body = json.dumps({"volume_id": cutvol, "size_limit": 256}).encode()
    status, _, answer = stack.request("POST", "/v3/pods/volumes", body, token)
    assert status == 200, answer
    fill_volume(stack, cutvol, f"head -c {BIG} /dev/zero > /v/big.bin && echo small > /v/small")

    request = urllib.request.Request(
        f"{stack.url}/v3/pods/volumes/{cutvol}/contents/big.bin",
        headers={"X-Tapis-Token": token},
    )
    received = 0
    with urllib.request.urlopen(request, timeout=120) as response:
        assert response.status == 200
        received += len(response.read(MIB))
        # The file shrinks while it is being sent: the engine's archive ends early, and the
        # client must be able to tell (the chunked body never ends properly), not get a
        # short file that looks whole.
        fill_volume(stack, cutvol, ": > /v/big.bin")
        with pytest.raises(http.client.IncompleteRead):
            while chunk := response.read(MIB):
                received += len(chunk)
    assert received < BIG
    # The volume is still usable afterwards.
    status, _, got, size, _ = download(stack, f"/v3/pods/volumes/{cutvol}/contents/small")
    assert (status, size) == (200, 6), got
