"""Renders the kustomizations under deploy/kubernetes into plain objects for the deploy tests.

`render` uses `kubectl kustomize` when kubectl is installed (it works offline) and otherwise
`compose`, a small composer of exactly the kustomize features our manifests use: resources,
components, config map and secret generators (literals, env files, files; behavior create or
merge; no name hashes), strategic-merge patches from files (maps merged, lists of named items
merged by name with new items first, other lists replaced) and image rewrites. A test
compares both where kubectl exists, so the composer stays faithful.

The local-kind overlay reads development secrets that `generate-secrets` writes and git never
holds: `prepared_tree` copies deploy/kubernetes and puts placeholders there. `by_kind` and
`one` look rendered objects up by kind and name.
"""

from __future__ import annotations

import base64
import copy
import shutil
import subprocess
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[3]
KUBERNETES = REPO / "deploy" / "kubernetes"
OVERLAYS = ("local-kind", "production")
CONTROL_PLANE, USER_PODS = "pods-system", "pods"  # our two namespaces
SECRET_PLACEHOLDERS = {
    "overlays/local-kind/secrets/pods.env": "PODS_SECRET_KEY=placeholder\nPODS_DATABASE_URL=postgresql+asyncpg://pods:x@pods-postgres:5432/pods\nPODS_DEV_USERS=testuser:a-generated-password\n",
    "overlays/local-kind/secrets/jwt-private.pem": "placeholder key\n",
    "overlays/local-kind/secrets/tls.crt": "placeholder certificate\n",
    "overlays/local-kind/secrets/tls.key": "placeholder key\n",
    "overlays/local-kind/secrets/postgres-password": "placeholder",
}

Obj = dict[str, Any]


def prepared_tree(target: Path) -> Path:
    """A copy of deploy/kubernetes with placeholder development secrets; returns its root."""
    root = target / "kubernetes"
    shutil.copytree(KUBERNETES, root, ignore=shutil.ignore_patterns("secrets"))
    for relative, text in SECRET_PLACEHOLDERS.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def kubectl() -> str | None:
    return shutil.which("kubectl")


def render(directory: Path) -> list[Obj]:
    """The objects of the kustomization in `directory`."""
    binary = kubectl()
    if binary is None:
        return compose(directory)
    return render_with_kubectl(binary, directory)


def render_with_kubectl(binary: str, directory: Path) -> list[Obj]:
    result = subprocess.run(
        [binary, "kustomize", str(directory)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if result.returncode != 0:
        raise AssertionError(f"kubectl kustomize {directory} failed: {result.stderr}")
    return [doc for doc in yaml.safe_load_all(result.stdout) if doc]


def load_documents(path: Path) -> list[Obj]:
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc]


# -- the composer -----------------------------------------------------------------------------


def compose(directory: Path) -> list[Obj]:
    """Our own rendering of the kustomization (or component) in `directory`."""
    spec = yaml.safe_load((directory / "kustomization.yaml").read_text())
    objects: list[Obj] = []
    for resource in spec.get("resources", []):
        path = directory / resource
        objects += compose(path) if path.is_dir() else load_documents(path)
    for component in spec.get("components", []):
        objects += compose(directory / component)
    hashed = not (spec.get("generatorOptions") or {}).get("disableNameSuffixHash", False)
    if hashed and (spec.get("configMapGenerator") or spec.get("secretGenerator")):
        raise NotImplementedError("the composer only handles generators without name hashes")
    for generator in spec.get("configMapGenerator", []):
        _generate(objects, "ConfigMap", generator, directory)
    for generator in spec.get("secretGenerator", []):
        _generate(objects, "Secret", generator, directory)
    for patch in spec.get("patches", []):
        for document in load_documents(directory / patch["path"]):
            _apply_patch(objects, document)
    for image in spec.get("images", []):
        _rewrite_images(objects, image)
    return objects


def _generated_data(generator: Obj, directory: Path, encode: bool) -> dict[str, str]:
    data: dict[str, str] = {}
    for literal in generator.get("literals", []):
        key, _, value = literal.partition("=")
        data[key] = value
    for env_file in generator.get("envs", []):
        for line in (directory / env_file).read_text().splitlines():
            if line.strip() and not line.startswith("#"):
                key, _, value = line.partition("=")
                data[key] = value
    for item in generator.get("files", []):
        key, _, path = item.partition("=")
        data[key] = (directory / path).read_text()
    if encode:
        return {k: base64.b64encode(v.encode()).decode() for k, v in data.items()}
    return data


def _generate(objects: list[Obj], kind: str, generator: Obj, directory: Path) -> None:
    data = _generated_data(generator, directory, encode=kind == "Secret")
    metadata = {"name": generator["name"], "namespace": generator.get("namespace", "default")}
    if generator.get("behavior") == "merge":
        for obj in objects:
            if obj["kind"] == kind and obj["metadata"] == metadata:
                obj["data"] = {**obj.get("data", {}), **data}
                return
        raise AssertionError(f"nothing to merge {kind} {metadata} into")
    generated: Obj = {"apiVersion": "v1", "kind": kind, "metadata": metadata, "data": data}
    if kind == "Secret":
        generated["type"] = generator.get("type", "Opaque")
    objects.append(generated)


def _same_object(obj: Obj, patch: Obj) -> bool:
    keys = ("name", "namespace")
    return obj["kind"] == patch["kind"] and all(
        obj["metadata"].get(k) == patch["metadata"].get(k) for k in keys
    )


def _apply_patch(objects: list[Obj], patch: Obj) -> None:
    for index, obj in enumerate(objects):
        if _same_object(obj, patch):
            objects[index] = strategic_merge(obj, patch)
            return
    raise AssertionError(f"patch target {patch['kind']} {patch['metadata']} not found")


def _named(items: list[Any]) -> bool:
    return bool(items) and all(isinstance(i, dict) and "name" in i for i in items)


def strategic_merge(target: Any, patch: Any) -> Any:
    """Maps merge recursively; lists whose items all have a name merge item by item (new items
    first, as kustomize does); anything else is replaced by the patch."""
    if isinstance(target, dict) and isinstance(patch, dict):
        merged = copy.deepcopy(target)
        for key, value in patch.items():
            merged[key] = strategic_merge(target[key], value) if key in target else value
        return merged
    if isinstance(target, list) and isinstance(patch, list) and _named(target) and _named(patch):
        merged_list = copy.deepcopy(target)
        added: list[Any] = []
        for item in patch:
            for index, existing in enumerate(merged_list):
                if existing["name"] == item["name"]:
                    merged_list[index] = strategic_merge(existing, item)
                    break
            else:
                added.append(copy.deepcopy(item))
        return added + merged_list  # kustomize puts items new to the list first
    return copy.deepcopy(patch)


def _image_name(image: str) -> str:
    tail = image.rsplit("/", 1)[-1]
    return image.rsplit(":", 1)[0] if ":" in tail else image


def _rewrite_images(node: Any, rule: Obj) -> None:
    if isinstance(node, list):
        for item in node:
            _rewrite_images(item, rule)
        return
    if not isinstance(node, dict):
        return
    for key in ("containers", "initContainers"):
        for container in node.get(key) or []:
            if (
                isinstance(container, dict)
                and _image_name(container.get("image", "")) == rule["name"]
            ):
                container["image"] = f"{rule.get('newName', rule['name'])}:{rule['newTag']}"
    for value in node.values():
        _rewrite_images(value, rule)


def by_kind(objects: list[Obj], kind: str) -> dict[str, Obj]:
    return {o["metadata"]["name"]: o for o in objects if o["kind"] == kind}


def one(objects: list[Obj], kind: str, name: str) -> Obj:
    return by_kind(objects, kind)[name]
