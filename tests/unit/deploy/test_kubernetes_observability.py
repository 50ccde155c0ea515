"""What the Kubernetes manifests give operators, rendered for each overlay and checked
offline: every process's Prometheus port (PODS_*_METRICS_PORT) is set, declared as a
container port, named in the pod's `prometheus.io/*` annotations and open to a Prometheus in a
namespace labelled for monitoring and to nothing else outside the control plane; and every
process of ours is probed over grpc.health.v1 on the port its code serves health on, with the
service names that code registers (services/common/dependency_health.py)."""

from __future__ import annotations

from typing import Any

from services.common.dependency_health import LIVENESS
from services.common.settings import Settings

from .render import CONTROL_PLANE, USER_PODS, Obj, by_kind

MONITORING_LABEL = {"org.pods-service.monitoring": "true"}
# Each metrics setting and the (Deployment, container) whose process reads it.
METRICS_SETTINGS = {
    "api_metrics_port": ("pods-api", "api"),
    "spawner_metrics_port": ("pods-spawner", "spawner"),
    "health_metrics_port": ("pods-health", "health"),
    "router_metrics_port": ("pods-gateway", "pod-router"),
    "gateway_metrics_port": ("pods-gateway", "envoy"),
}
# The module each container of ours runs and the setting of the port it answers health on.
HEALTH_SETTINGS = {
    "services.api": "api_port",
    "services.spawner": "spawner_port",
    "services.health": "health_port",
    "gateway.pod_router": "router_health_port",
}


def settings_of(objects: list[Obj]) -> Settings:
    config = by_kind(objects, "ConfigMap")["pods-config"]["data"]
    return Settings.from_env(dict(config))


def pod_template(objects: list[Obj], deployment: str) -> Obj:
    return dict(by_kind(objects, "Deployment")[deployment]["spec"]["template"])


def container(objects: list[Obj], deployment: str, name: str) -> Obj:
    spec = pod_template(objects, deployment)["spec"]
    return dict(next(c for c in spec["containers"] if c["name"] == name))


def container_ports(item: Obj) -> dict[str, int]:
    return {p["name"]: p["containerPort"] for p in item.get("ports", [])}


def metrics_ports(settings: Settings) -> set[int]:
    return {getattr(settings, name) for name in METRICS_SETTINGS}


# -- metrics ------------------------------------------------------------------------------------


def test_every_metrics_setting_belongs_to_a_process_here() -> None:
    assert {n for n in Settings.model_fields if n.endswith("_metrics_port")} == set(
        METRICS_SETTINGS
    )


def test_every_process_serves_metrics_on_a_declared_port(overlay: tuple[str, list[Obj]]) -> None:
    _, objects = overlay
    settings = settings_of(objects)
    for setting, (deployment, name) in METRICS_SETTINGS.items():
        port = getattr(settings, setting)
        assert port, f"{setting} is off"
        declared = container_ports(container(objects, deployment, name))
        named = [n for n, p in declared.items() if p == port]
        assert named and named[0].endswith("metrics"), (setting, declared)
    # Two processes in one pod cannot share a port.
    gateway = settings.gateway_metrics_port, settings.router_metrics_port
    assert len(set(gateway)) == 2


def test_every_pod_with_metrics_is_annotated_for_prometheus(
    overlay: tuple[str, list[Obj]],
) -> None:
    _, objects = overlay
    settings = settings_of(objects)
    for deployment in {d for d, _ in METRICS_SETTINGS.values()}:
        annotations = pod_template(objects, deployment)["metadata"]["annotations"]
        assert annotations["prometheus.io/scrape"] == "true"
        assert annotations["prometheus.io/path"] == "/metrics"
        ours = {getattr(settings, s) for s, (d, _) in METRICS_SETTINGS.items() if d == deployment}
        assert int(annotations["prometheus.io/port"]) in ours, deployment
    # One port a pod in this convention: the gateway's names Envoy's statistics.
    gateway = pod_template(objects, "pods-gateway")["metadata"]["annotations"]
    assert int(gateway["prometheus.io/port"]) == settings.gateway_metrics_port


def _ingress_rules(objects: list[Obj], pod_labels: dict[str, str]) -> list[Obj]:
    """The ingress rules of the control plane's policies that select a pod with these labels."""
    return [
        rule
        for policy in by_kind_all(objects, "NetworkPolicy")
        if policy["metadata"]["namespace"] == CONTROL_PLANE
        and _selects(policy["spec"]["podSelector"], pod_labels)
        for rule in policy["spec"].get("ingress", [])
    ]


def by_kind_all(objects: list[Obj], kind: str) -> list[Obj]:
    return [o for o in objects if o["kind"] == kind]


def _selects(selector: Obj, labels: dict[str, str]) -> bool:
    assert not selector.get("matchExpressions"), "extend this test for expressions"
    return all(labels.get(k) == v for k, v in (selector.get("matchLabels") or {}).items())


def _rule_ports(rule: Obj) -> set[Any]:
    return {p["port"] for p in rule.get("ports", [])}


def _from_monitoring(rule: Obj) -> bool:
    return rule.get("from") == [{"namespaceSelector": {"matchLabels": MONITORING_LABEL}}]


def test_prometheus_in_a_monitoring_namespace_may_scrape_every_metrics_port(
    overlay: tuple[str, list[Obj]],
) -> None:
    _, objects = overlay
    settings = settings_of(objects)
    for setting, (deployment, name) in METRICS_SETTINGS.items():
        labels = pod_template(objects, deployment)["metadata"]["labels"]
        port = getattr(settings, setting)
        monitoring = [r for r in _ingress_rules(objects, labels) if _from_monitoring(r)]
        assert any(port in _rule_ports(r) for r in monitoring), (deployment, name, port)


def test_nothing_else_outside_the_control_plane_reaches_a_metrics_port(
    overlay: tuple[str, list[Obj]],
) -> None:
    _, objects = overlay
    settings = settings_of(objects)
    metrics = metrics_ports(settings)
    for deployment in by_kind(objects, "Deployment"):
        labels = pod_template(objects, deployment)["metadata"]["labels"]
        for rule in _ingress_rules(objects, labels):
            if _from_monitoring(rule):  # only the metrics ports, never the API or gRPC
                assert rule.get("ports") and _rule_ports(rule) <= metrics, deployment
            elif rule.get("from") == [{"podSelector": {}}]:
                continue  # the control plane itself
            else:  # the public ports of the gateway, open to all
                assert "from" not in rule and not _rule_ports(rule) & metrics, deployment
    # No namespace of ours counts as a monitoring one (user pods are in `pods`).
    for namespace in by_kind(objects, "Namespace").values():
        labels = namespace["metadata"].get("labels", {})
        assert not MONITORING_LABEL.items() <= labels.items(), namespace["metadata"]["name"]
    assert {n["metadata"]["name"] for n in by_kind_all(objects, "Namespace")} == {
        CONTROL_PLANE,
        USER_PODS,
    }


def test_metrics_are_not_published_by_any_service(overlay: tuple[str, list[Obj]]) -> None:
    _, objects = overlay
    metrics = metrics_ports(settings_of(objects))
    for service in by_kind(objects, "Service").values():
        for port in service["spec"]["ports"]:
            assert port["port"] not in metrics, service["metadata"]["name"]
            assert port.get("targetPort") not in ("metrics", "router-metrics")


# -- health probes ------------------------------------------------------------------------------


def _our_processes(objects: list[Obj]) -> list[tuple[str, Obj]]:
    found = []
    for workload in by_kind(objects, "Deployment").values():
        for item in workload["spec"]["template"]["spec"]["containers"]:
            module = (item.get("args") or [""])[0]
            if module in HEALTH_SETTINGS:
                found.append((module, item))
    return found


def test_every_process_is_probed_over_grpc_health_where_its_code_serves_it(
    overlay: tuple[str, list[Obj]],
) -> None:
    _, objects = overlay
    settings = settings_of(objects)
    processes = _our_processes(objects)
    assert {module for module, _ in processes} == set(HEALTH_SETTINGS)
    for module, item in processes:
        port = getattr(settings, HEALTH_SETTINGS[module])
        assert port in container_ports(item).values(), module
        for kind in ("startupProbe", "readinessProbe", "livenessProbe"):
            probe = item[kind]["grpc"]
            assert probe["port"] == port, (module, kind)
            # "" (every dependency answers) and "liveness" are what DependencyHealth serves.
            assert probe.get("service", "") in ("", LIVENESS), (module, kind)
        # A dependency outage must not restart a process.
        assert item["livenessProbe"]["grpc"].get("service") == LIVENESS, module


def test_the_router_keeps_the_gateway_ready_while_a_dependency_is_down(
    overlay: tuple[str, list[Obj]],
) -> None:
    """Envoy serves the last routes it has; the router's readiness gates the whole gateway pod,
    so it asks only whether the router runs."""
    _, objects = overlay
    router = container(objects, "pods-gateway", "pod-router")
    assert router["readinessProbe"]["grpc"].get("service") == LIVENESS
    assert router["startupProbe"]["grpc"].get("service", "") == ""
