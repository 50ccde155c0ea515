"""What operators see, on a real stack of its own (JSON logs, traces to an in-test OTLP/HTTP
receiver): after one pod is created, each process's `/metrics` moved, the spawner's JSON log
lines carry the pod, tenant and request id, and the create is one trace from the api through
NATS to the spawner and on to health's AVAILABLE."""

from __future__ import annotations

import json
import threading
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from prometheus_client.parser import text_string_to_metric_families

from tests.e2e.harness import Stack, eventually, start_stack, stop_stack
from tests.ports import release_port, reserve_port

pytestmark = [pytest.mark.docker, pytest.mark.stack]


@dataclass
class Receiver:
    """An OTLP/HTTP trace receiver: every span it was sent, as (service, name, trace id)."""

    port: int
    spans: list[tuple[str, str, str]] = field(default_factory=list)

    def add(self, body: bytes) -> None:
        request = ExportTraceServiceRequest.FromString(body)
        for resource_spans in request.resource_spans:
            attributes = {a.key: a.value.string_value for a in resource_spans.resource.attributes}
            service = attributes.get("service.name", "")
            for scope in resource_spans.scope_spans:
                for span in scope.spans:
                    self.spans.append((service, span.name, span.trace_id.hex()))


@pytest.fixture(scope="module")
def receiver() -> Iterator[Receiver]:
    found = Receiver(reserve_port())

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            if self.path == "/v1/traces":
                found.add(body)
            self.send_response(200)
            self.send_header("Content-Type", "application/x-protobuf")
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", found.port), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield found
    finally:
        server.shutdown()
        server.server_close()
        release_port(found.port)


@pytest.fixture(scope="module")
def observed(tmp_path_factory: pytest.TempPathFactory, receiver: Receiver) -> Iterator[Stack]:
    env = {"PODS_LOG_FORMAT": "json", "PODS_OTLP_ENDPOINT": f"http://127.0.0.1:{receiver.port}"}
    stack = start_stack(tmp_path_factory.mktemp("observed"), extra_env=env)
    try:
        yield stack
    finally:
        stop_stack(stack)


def scrape(stack: Stack, process: str) -> str:
    port = stack.env[f"PODS_{process.upper()}_METRICS_PORT"]
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as reply:
        return str(reply.read().decode())


def sample(text: str, name: str, **labels: str) -> float:
    """The value of `name` with (at least) `labels` in a scrape; 0 when absent."""
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            if s.name == name and labels.items() <= s.labels.items():
                return float(s.value)
    return 0.0


@dataclass(frozen=True)
class Created:
    pod_id: str
    available_before: float  # pods_create_to_available_seconds_count before the create


@pytest.fixture(scope="module")
def created(observed: Stack) -> Iterator[Created]:
    before = sample(scrape(observed, "health"), "pods_create_to_available_seconds_count")
    token = observed.token()
    pod_id = "observedpod1"
    body = json.dumps({"pod_id": pod_id, "image": "pods-http:latest"}).encode()
    status, _, data = observed.request("POST", "/v3/pods", body, token=token)
    assert status == 200, data

    def available() -> bool:
        _, _, reply = observed.request("GET", f"/v3/pods/{pod_id}", token=token)
        return isinstance(reply, dict) and reply["result"]["status"] == "AVAILABLE"

    eventually(available, 90, f"{pod_id} AVAILABLE")
    try:
        yield Created(pod_id, before)
    finally:
        observed.request("DELETE", f"/v3/pods/{pod_id}", token=token)


def test_every_process_exports_the_metrics_that_moved(observed: Stack, created: Created) -> None:
    eventually(
        lambda: sample(scrape(observed, "health"), "pods_by_status", status="AVAILABLE") >= 1,
        30,
        "pods_by_status{status=AVAILABLE} >= 1",
    )
    health = scrape(observed, "health")
    assert sample(health, "pods_create_to_available_seconds_count") > created.available_before
    spawner = scrape(observed, "spawner")
    assert sample(spawner, "pods_reconcile_outcomes_total", kind="done") >= 1
    assert sample(spawner, "pods_db_session_seconds_count", kind="write") >= 1
    api = scrape(observed, "api")
    create_calls = {"grpc_service": "pods.v1.PodsService", "grpc_method": "CreatePod"}
    assert sample(api, "grpc_server_handled_total", grpc_code="OK", **create_calls) >= 1
    assert sample(api, "grpc_server_handling_seconds_count", **create_calls) >= 1
    eventually(
        lambda: sample(scrape(observed, "router"), "pods_route_table_size", state="serving") >= 1,
        30,
        "a serving route",
    )
    assert sample(scrape(observed, "router"), "pods_route_publish_seconds_count") >= 1
    assert sample(scrape(observed, "gateway"), "envoy_server_live") == 1


def json_lines(log_path: Path) -> list[dict[str, Any]]:
    """Our processes' JSON log lines (Envoy's access log lines have no `process`)."""
    lines = []
    for raw in log_path.read_text(errors="replace").splitlines():
        if raw.startswith("{"):
            try:
                line = json.loads(raw)
            except json.JSONDecodeError:
                continue
            if isinstance(line, dict) and "process" in line:
                lines.append(line)
    return lines


def test_json_log_lines_carry_the_pod_tenant_and_request_id(
    observed: Stack, created: Created
) -> None:
    lines = json_lines(observed.log_path)
    assert {"api", "spawner", "health", "router"} <= {line["process"] for line in lines}
    reconciled = [
        line for line in lines if line["process"] == "spawner" and line.get("pod") == created.pod_id
    ]
    assert reconciled, "no spawner line about the pod"
    assert all(line["tenant"] == "dev" and line["request_id"] for line in reconciled)


def test_one_create_is_one_trace_from_the_api_to_the_spawner_and_health(
    receiver: Receiver, created: Created
) -> None:
    def shared_trace() -> set[str]:
        api = {t for s, name, t in receiver.spans if s == "pods-api" and "CreatePod" in name}
        spawner = {t for s, name, t in receiver.spans if s == "pods-spawner" and "create" in name}
        health = {t for s, name, t in receiver.spans if s == "pods-health" and "AVAILABLE" in name}
        return api & spawner & health

    eventually(shared_trace, 30, "api, spawner and health (AVAILABLE) spans with one trace id")


def test_a_clients_traceparent_passes_through_the_gateway_to_the_api(
    observed: Stack, receiver: Receiver, created: Created
) -> None:
    trace_id = "4bf92f3577b34da6a3ce929d0e0e4736"
    request = urllib.request.Request(
        f"{observed.url}/v3/pods/{created.pod_id}",
        headers={
            "X-Tapis-Token": observed.token(),
            "traceparent": f"00-{trace_id}-00f067aa0ba902b7-01",
        },
    )
    with urllib.request.urlopen(request, timeout=30) as reply:
        assert reply.status == 200
    eventually(
        lambda: [n for s, n, t in receiver.spans if s == "pods-api" and t == trace_id],
        30,
        "an api span in the client's trace",
    )
