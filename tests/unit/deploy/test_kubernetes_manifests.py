"""The Kubernetes manifests under deploy/kubernetes, rendered for each overlay and checked
offline: every object against the Kubernetes OpenAPI schema (the client's models, unknown
fields rejected), and the shape the deployment promises (replicas, probes, budgets, network
isolation, configuration). The Roles: test_kubernetes_access.py."""

from __future__ import annotations

import base64
import importlib.util
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import kubernetes.client
import pytest

from services.api.identity_config import WELL_KNOWN_PASSWORDS, identity_problems
from services.common.settings import Settings
from services.common.storage.types import LABEL_STORAGE_HELPER

from .render import (
    CONTROL_PLANE,
    OVERLAYS,
    USER_PODS,
    Obj,
    by_kind,
    compose,
    kubectl,
    one,
    render_with_kubectl,
)

OUR_IMAGE = re.compile(r"^(pods-service|registry\.example\.org/pods/pods-service):")
# PODS_* variables the manifests set that Settings does not read (none: keep it that way).
PENDING_SETTINGS: frozenset[str] = frozenset()


def workloads(objects: list[Obj]) -> list[Obj]:
    return [o for o in objects if o["kind"] in ("Deployment", "StatefulSet")]


def containers(workload: Obj, init: bool = False) -> list[Obj]:
    spec = workload["spec"]["template"]["spec"]
    return list(spec.get("containers", [])) + (list(spec.get("initContainers", [])) if init else [])


def config(objects: list[Obj]) -> dict[str, str]:
    return dict(one(objects, "ConfigMap", "pods-config")["data"])


# -- schema -----------------------------------------------------------------------------------


def model_of(obj: Obj) -> Any:
    """The client's model class of an object: V1 + kind, for a v1 API version."""
    group_version = obj["apiVersion"]
    assert group_version.split("/")[-1] == "v1", f"{obj['kind']} uses {group_version}"
    return getattr(kubernetes.client, f"V1{obj['kind']}")


def test_every_object_matches_the_kubernetes_schema(overlay: tuple[str, list[Obj]]) -> None:
    _, objects = overlay
    assert objects
    for obj in objects:
        model_of(obj).model_validate(obj)  # raises on unknown fields, wrong types, missing ones


def test_every_object_lives_in_one_of_our_namespaces(overlay: tuple[str, list[Obj]]) -> None:
    _, objects = overlay
    for obj in objects:
        if obj["kind"] == "Namespace":
            assert obj["metadata"]["name"] in (CONTROL_PLANE, USER_PODS)
        else:
            assert obj["metadata"].get("namespace") in (CONTROL_PLANE, USER_PODS), obj["metadata"]
    names = [(o["kind"], o["metadata"].get("namespace"), o["metadata"]["name"]) for o in objects]
    assert len(names) == len(set(names))


@pytest.mark.skipif(kubectl() is None, reason="kubectl is not installed: nothing to compare with")
@pytest.mark.parametrize("name", OVERLAYS)
def test_the_tests_composer_renders_like_kubectl(tree: Path, name: str) -> None:
    def key(obj: Obj) -> tuple[str, str, str]:
        return obj["kind"], obj["metadata"].get("namespace", ""), obj["metadata"]["name"]

    binary = kubectl()
    assert binary is not None
    ours = sorted(compose(tree / "overlays" / name), key=key)
    theirs = sorted(render_with_kubectl(binary, tree / "overlays" / name), key=key)
    assert [key(o) for o in ours] == [key(o) for o in theirs]
    for mine, reference in zip(ours, theirs, strict=True):
        assert mine == reference, key(mine)


# -- workloads --------------------------------------------------------------------------------


def test_replicas_and_how_each_process_shares_work(overlay: tuple[str, list[Obj]]) -> None:
    _, objects = overlay
    deployments = by_kind(objects, "Deployment")
    assert deployments["pods-api"]["spec"]["replicas"] >= 2  # stateless
    assert deployments["pods-spawner"]["spec"]["replicas"] >= 2  # one JetStream work queue
    assert deployments["pods-gateway"]["spec"]["replicas"] >= 2
    # Health replicas stand by for the one holding the lease (services/health/leadership.py).
    assert deployments["pods-health"]["spec"]["replicas"] >= 2
    assert one(objects, "StatefulSet", "pods-nats")["spec"]["replicas"] == 3


def test_nats_is_one_jetstream_cluster_of_its_replicas(overlay: tuple[str, list[Obj]]) -> None:
    _, objects = overlay
    nats = one(objects, "StatefulSet", "pods-nats")
    text = one(objects, "ConfigMap", "pods-nats-config")["data"]["nats.conf"]
    routes = re.findall(r"nats://(pods-nats-\d)\.([a-z-]+)\.pods-system\.svc:6222", text)
    assert [r[0] for r in routes] == [f"pods-nats-{i}" for i in range(nats["spec"]["replicas"])]
    assert {r[1] for r in routes} == {nats["spec"]["serviceName"]}
    assert "jetstream {" in text and nats["spec"]["podManagementPolicy"] == "Parallel"
    assert config(objects)["PODS_NATS_STREAM_REPLICAS"] == "3"


def test_containers_are_bounded_and_unprivileged(overlay: tuple[str, list[Obj]]) -> None:
    _, objects = overlay
    for workload in workloads(objects):
        pod = workload["spec"]["template"]["spec"]
        assert pod["securityContext"]["runAsNonRoot"] is True, workload["metadata"]["name"]
        assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
        for container in containers(workload, init=True):
            where = f"{workload['metadata']['name']}/{container['name']}"
            assert set(container["resources"]) == {"requests", "limits"}, where
            security = container["securityContext"]
            assert security["allowPrivilegeEscalation"] is False, where
            assert security["capabilities"] == {"drop": ["ALL"]}, where


def test_our_services_are_probed_with_grpc_health_on_their_port(
    overlay: tuple[str, list[Obj]],
) -> None:
    _, objects = overlay
    probed = set()
    for workload in workloads(objects):
        for container in containers(workload):
            where = f"{workload['metadata']['name']}/{container['name']}"
            if container.get("args", [""])[0].startswith("services."):
                port = container["ports"][0]["containerPort"]
                for probe in ("startupProbe", "readinessProbe"):
                    assert container[probe]["grpc"] == {"port": port}, where
                # NOT_SERVING while the database is down must not restart the process
                assert container["livenessProbe"]["grpc"] == {
                    "port": port,
                    "service": "liveness",
                }, where
                probed.add(container["args"][0])
            elif container.get("ports"):
                assert "readinessProbe" in container and "livenessProbe" in container, where
    assert probed == {"services.api", "services.spawner", "services.health"}


def test_service_ports_match_the_settings(overlay: tuple[str, list[Obj]]) -> None:
    _, objects = overlay
    settings = config(objects)
    services = by_kind(objects, "Service")
    for name, variable in (("api", "API"), ("spawner", "SPAWNER"), ("health", "HEALTH")):
        assert services[f"pods-{name}"]["spec"]["ports"][0]["port"] == int(
            settings[f"PODS_{variable}_PORT"]
        )
    assert (
        settings["PODS_SPAWNER_ADDRESS"]
        == f"pods-spawner.pods-system.svc:{settings['PODS_SPAWNER_PORT']}"
    )
    assert settings["PODS_NATS_URL"] == "nats://pods-nats.pods-system.svc:4222"
    assert settings["PODS_K8S_NAMESPACE"] == USER_PODS and settings["PODS_RUNTIME"] == "kubernetes"


def _selects(selector: dict[str, str], labels: dict[str, str]) -> bool:
    return all(labels.get(k) == v for k, v in selector.items())


def test_every_service_and_budget_selects_a_workload(overlay: tuple[str, list[Obj]]) -> None:
    _, objects = overlay
    templates = {
        w["metadata"]["name"]: w["spec"]["template"]["metadata"]["labels"]
        for w in workloads(objects)
    }
    for service in by_kind(objects, "Service").values():
        assert any(_selects(service["spec"]["selector"], t) for t in templates.values())
    budgets = by_kind(objects, "PodDisruptionBudget").values()
    for budget in budgets:
        assert any(
            _selects(budget["spec"]["selector"]["matchLabels"], t) for t in templates.values()
        )
    covered = {
        name
        for name, labels in templates.items()
        if any(_selects(b["spec"]["selector"]["matchLabels"], labels) for b in budgets)
    }
    assert covered >= {"pods-api", "pods-spawner", "pods-health", "pods-gateway", "pods-nats"}


def test_the_gateway_is_the_public_entry(overlay: tuple[str, list[Obj]]) -> None:
    name, objects = overlay
    service = one(objects, "Service", "pods-gateway")
    assert service["spec"]["type"] == ("NodePort" if name == "local-kind" else "LoadBalancer")
    assert {(p["name"], p["port"]) for p in service["spec"]["ports"]} == {
        ("api", 8080),
        ("pods-tls", 443),
    }
    public = [
        s
        for s in by_kind(objects, "Service").values()
        if s["spec"].get("type") in ("NodePort", "LoadBalancer")
    ]
    settings = config(objects)
    if name == "local-kind":
        assert public == [service]
        assert settings["PODS_GATEWAY_TLS"] == "0"
        return
    # Production: the API speaks TLS on 443 of a load balancer of its own.
    api = one(objects, "Service", "pods-gateway-api")
    assert public == [service, api] or public == [api, service]
    assert api["spec"]["type"] == "LoadBalancer"
    assert [(p["port"], p["targetPort"]) for p in api["spec"]["ports"]] == [(443, "api")]
    assert api["spec"]["selector"] == service["spec"]["selector"]
    assert settings["PODS_GATEWAY_TLS"] == "1"
    assert settings["PODS_PUBLIC_URL"].startswith("https://")


# -- network isolation ------------------------------------------------------------------------


def _policies(objects: list[Obj], namespace: str) -> list[Obj]:
    return [
        o
        for o in objects
        if o["kind"] == "NetworkPolicy" and o["metadata"]["namespace"] == namespace
    ]


def _deny_all_ingress(policies: list[Obj]) -> bool:
    return any(
        p["spec"]["podSelector"] == {}
        and p["spec"]["policyTypes"] == ["Ingress"]
        and not p["spec"].get("ingress")
        for p in policies
    )


def test_user_pods_accept_connections_only_from_the_gateway(overlay: tuple[str, list[Obj]]) -> None:
    _, objects = overlay
    policies = _policies(objects, USER_PODS)
    assert _deny_all_ingress(policies)
    gateway_labels = one(objects, "Deployment", "pods-gateway")["spec"]["template"]["metadata"][
        "labels"
    ]
    peers = [
        peer for p in policies for rule in p["spec"].get("ingress", []) for peer in rule["from"]
    ]
    assert peers
    for peer in peers:
        assert peer["namespaceSelector"] == {
            "matchLabels": {"kubernetes.io/metadata.name": CONTROL_PLANE}
        }
        assert _selects(peer["podSelector"]["matchLabels"], gateway_labels)
    egress = [rule for p in policies for rule in p["spec"].get("egress", [])]
    assert any(
        "169.254.169.254/32" in peer.get("ipBlock", {}).get("except", [])
        for r in egress
        for peer in r["to"]
    )


def test_storage_helpers_have_no_network(overlay: tuple[str, list[Obj]]) -> None:
    """Helper pods (the api's exec targets for volume files) are selected by no allowing
    policy and by one that isolates them in both directions."""
    _, objects = overlay
    helper = {LABEL_STORAGE_HELPER: "1", "org.pods-service.deployment": "prod"}
    user = {"org.pods-service.deployment": "prod", "org.pods-service.pod": "web1"}
    policies = _policies(objects, USER_PODS)
    isolating = [
        p
        for p in policies
        if _selects_pod(p["spec"]["podSelector"], helper)
        and set(p["spec"]["policyTypes"]) == {"Ingress", "Egress"}
        and not p["spec"].get("ingress")
        and not p["spec"].get("egress")
    ]
    assert isolating
    for policy in policies:
        rules = policy["spec"].get("ingress", []) + policy["spec"].get("egress", [])
        if rules:
            assert not _selects_pod(policy["spec"]["podSelector"], helper)
            assert _selects_pod(policy["spec"]["podSelector"], user)


def _selects_pod(selector: Obj, labels: dict[str, str]) -> bool:
    """A LabelSelector (matchLabels, and matchExpressions with Exists/DoesNotExist/In)."""
    if any(labels.get(k) != v for k, v in (selector.get("matchLabels") or {}).items()):
        return False
    for expression in selector.get("matchExpressions") or []:
        key, operator = expression["key"], expression["operator"]
        if operator == "Exists" and key not in labels:
            return False
        if operator == "DoesNotExist" and key in labels:
            return False
        if operator == "In" and labels.get(key) not in expression["values"]:
            return False
    return True


def test_the_control_plane_accepts_only_itself_and_the_gateways_ports(
    overlay: tuple[str, list[Obj]],
) -> None:
    _, objects = overlay
    policies = _policies(objects, CONTROL_PLANE)
    assert _deny_all_ingress(policies)
    gateway = one(objects, "Deployment", "pods-gateway")
    open_ports = set()
    for policy in policies:
        for rule in policy["spec"].get("ingress", []):
            if rule.get("from", [{}])[0].get("namespaceSelector"):
                continue  # Prometheus' metrics ports: test_kubernetes_observability.py
            if "from" in rule:
                assert rule["from"] == [{"podSelector": {}}]  # same namespace only
            else:
                assert _selects(
                    policy["spec"]["podSelector"]["matchLabels"],
                    gateway["spec"]["template"]["metadata"]["labels"],
                )
                open_ports |= {p["port"] for p in rule["ports"]}
    envoy = next(c for c in containers(gateway) if c["name"] == "envoy")
    assert open_ports == {p["containerPort"] for p in envoy["ports"] if p["name"] != "metrics"}


# -- configuration and entry points -----------------------------------------------------------


def _settings_variables() -> set[str]:
    return {Settings.variable_of(name) for name in Settings.model_fields}


def test_every_setting_in_the_config_map_is_known(overlay: tuple[str, list[Obj]]) -> None:
    _, objects = overlay
    variables = set(config(objects))
    unknown = variables - _settings_variables() - PENDING_SETTINGS
    assert not unknown, f"not read by Settings and not listed as pending: {sorted(unknown)}"


def _entry_modules(objects: list[Obj]) -> Iterator[tuple[str, str]]:
    for workload in workloads(objects):
        for container in containers(workload, init=True):
            if OUR_IMAGE.match(container["image"]) and "command" not in container:
                yield container["name"], container["args"][0]


def test_every_module_the_manifests_run_exists(overlay: tuple[str, list[Obj]]) -> None:
    _, objects = overlay
    modules = dict(_entry_modules(objects))
    assert set(modules.values()) >= {"services.api", "services.spawner", "services.health"}
    for name, module in modules.items():
        assert importlib.util.find_spec(module) is not None, f"{name} runs missing module {module}"


def test_images_come_from_the_overlay(overlay: tuple[str, list[Obj]]) -> None:
    name, objects = overlay
    expected = {
        "local-kind": "pods-service:dev",
        "production": "registry.example.org/pods/pods-service:0.1.0",
    }
    ours = {
        c["image"]
        for w in workloads(objects)
        for c in containers(w, init=True)
        if "pods-service" in c["image"]
    }
    assert ours == {expected[name]}


def test_secrets_the_workloads_need(overlay: tuple[str, list[Obj]]) -> None:
    name, objects = overlay
    needed: set[str] = set()
    for workload in workloads(objects):
        pod = workload["spec"]["template"]["spec"]
        needed |= {v["secret"]["secretName"] for v in pod.get("volumes", []) if "secret" in v}
        for container in containers(workload, init=True):
            needed |= {
                e["secretRef"]["name"] for e in container.get("envFrom", []) if "secretRef" in e
            }
            needed |= {
                e["valueFrom"]["secretKeyRef"]["name"]
                for e in container.get("env", [])
                if "secretKeyRef" in e.get("valueFrom", {})
            }
    present = set(by_kind(objects, "Secret"))
    if name == "local-kind":
        assert (
            needed == present == {"pods-secrets", "pods-jwt", "pods-gateway-tls", "pods-postgres"}
        )
    else:  # created out of band, as the README says
        assert present == set() and needed == {"pods-secrets", "pods-gateway-tls"}


# -- identity -----------------------------------------------------------------------------------


def api_environment(objects: list[Obj]) -> dict[str, str]:
    """What the API process sees: the ConfigMap, then the Secrets its container reads."""
    env = dict(config(objects))
    secrets = by_kind(objects, "Secret")
    api = containers(one(objects, "Deployment", "pods-api"))[0]
    for source in api.get("envFrom", []):
        name = source.get("secretRef", {}).get("name")
        if name in secrets:
            data = secrets[name].get("data", {})
            env.update({k: base64.b64decode(v).decode() for k, v in data.items()})
    return env


def test_every_overlay_starts_with_a_safe_identity(overlay: tuple[str, list[Obj]]) -> None:
    name, objects = overlay
    settings = Settings.from_env(api_environment(objects))
    assert identity_problems(settings) == [], name
    if name == "production":
        assert settings.dev_identity == "off" and not settings.dev_users
        assert settings.jwt_issuer and settings.jwt_jwks_url and settings.jwt_audience
        assert "pods-jwt" not in json.dumps(one(objects, "Deployment", "pods-api"))
    else:
        assert settings.dev_identity == "on" and settings.dev_users
        assert settings.dev_users.get("testuser") not in WELL_KNOWN_PASSWORDS


def test_the_base_alone_has_no_identity(tree: Path) -> None:
    settings = Settings.from_env(config(compose(tree / "base")))
    assert settings.dev_identity == "off"
    assert any("no identity" in p for p in identity_problems(settings))


@pytest.mark.parametrize("mode", ["1", "local"])
def test_production_refuses_the_readme_password(
    tree: Path, mode: str, overlay: tuple[str, list[Obj]]
) -> None:
    _, objects = overlay
    env = {
        **api_environment(objects),
        "PODS_DEV_IDENTITY": mode,
        "PODS_DEV_USERS": "testuser:testpass",
    }
    problems = identity_problems(Settings.from_env(env))
    assert problems and ("testuser" in problems[0] or "local" in problems[0])
