"""The Roles and ServiceAccounts under deploy/kubernetes, rendered for each overlay: the
spawner's Role grants exactly the verbs the runtime code uses (the constants of
services/common/runtime/kubernetes/client.py, which tests/unit/runtime checks against the
calls), to the spawner alone; the api, health and the gateway hold no Role and no token."""

from __future__ import annotations

import ast
from pathlib import Path

from services.common.runtime.kubernetes.client import (
    SPAWNER_ACCESS,
    SPAWNER_RUNTIME_METHODS,
    STORAGE_ACCESS,
)

from .render import CONTROL_PLANE, REPO, USER_PODS, Obj, by_kind, one


def _rules(role: Obj) -> dict[str, frozenset[str]]:
    rules: dict[str, frozenset[str]] = {}
    for rule in role["rules"]:
        assert rule["apiGroups"] == [""], "the runtime only uses the core API group"
        assert "resourceNames" not in rule
        for resource in rule["resources"]:
            rules[resource] = rules.get(resource, frozenset()) | frozenset(rule["verbs"])
    return rules


def test_roles_grant_exactly_what_the_runtime_code_uses(overlay: tuple[str, list[Obj]]) -> None:
    _, objects = overlay
    roles = by_kind(objects, "Role")
    # Neither the API nor health holds a Role: only the spawner talks to the runtime, volume
    # store and what health observes included.
    assert set(roles) == {"pods-spawner"}
    assert all(r["metadata"]["namespace"] == USER_PODS for r in roles.values())
    spawner = {
        resource: SPAWNER_ACCESS.get(resource, frozenset())
        | STORAGE_ACCESS.get(resource, frozenset())
        for resource in {*SPAWNER_ACCESS, *STORAGE_ACCESS}
    }
    assert _rules(roles["pods-spawner"]) == spawner
    assert not [o for o in objects if o["kind"] in ("ClusterRole", "ClusterRoleBinding")]


def test_role_bindings_give_each_role_to_its_process_only(overlay: tuple[str, list[Obj]]) -> None:
    _, objects = overlay
    deployments = by_kind(objects, "Deployment")
    assert set(by_kind(objects, "RoleBinding")) == {"pods-spawner"}
    for name in ("pods-spawner",):
        binding = one(objects, "RoleBinding", name)
        assert binding["roleRef"] == {
            "apiGroup": "rbac.authorization.k8s.io",
            "kind": "Role",
            "name": name,
        }
        account = deployments[name]["spec"]["template"]["spec"]["serviceAccountName"]
        assert binding["subjects"] == [
            {"kind": "ServiceAccount", "name": account, "namespace": CONTROL_PLANE}
        ]
    for name in ("pods-gateway", "pods-api", "pods-health"):  # none may call the Kubernetes API
        spec = deployments[name]["spec"]["template"]["spec"]
        assert spec["automountServiceAccountToken"] is False, name
        account = one(objects, "ServiceAccount", spec["serviceAccountName"])
        assert account["automountServiceAccountToken"] is False, name


def _runtime_calls(package: Path) -> set[str]:
    """Methods called on anything named runtime / _runtime / ..._runtime in a package's code
    (a module's, when `package` is a file)."""
    calls: set[str] = set()
    for path in [package] if package.is_file() else package.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
                owner = node.func.value
                name = owner.attr if isinstance(owner, ast.Attribute) else getattr(owner, "id", "")
                if name == "runtime" or name.endswith("_runtime"):
                    calls.add(node.func.attr)
    return calls


def test_the_declared_runtime_methods_are_those_the_services_call() -> None:
    assert _runtime_calls(REPO / "services" / "spawner") == SPAWNER_RUNTIME_METHODS
    # Health observes the runtime through the spawner: what it calls, the spawner serves.
    served = _runtime_calls(REPO / "services" / "spawner" / "observe_servicer.py")
    assert _runtime_calls(REPO / "services" / "health") <= served
