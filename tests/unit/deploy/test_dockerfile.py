"""deploy/Dockerfile agrees with the manifests that run its image (checked statically; the
image itself needs a pullable base image, see deploy/kubernetes/README.md)."""

from __future__ import annotations

import json
import re
import subprocess

import yaml

from .render import KUBERNETES, REPO

DOCKERFILE = REPO / "deploy" / "Dockerfile"


def instructions() -> list[tuple[str, str]]:
    text = re.sub(r"\\\n\s*", " ", DOCKERFILE.read_text())
    lines = [
        line.strip()
        for line in text.splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]
    return [(line.split(None, 1)[0].upper(), line.split(None, 1)[1]) for line in lines]


def test_the_base_image_is_a_build_argument_for_the_classic_builder() -> None:
    steps = instructions()
    assert steps[0] == ("ARG", "BASE_IMAGE=python:3.11-slim-bookworm")
    assert steps[1] == ("FROM", "${BASE_IMAGE}")
    assert "# syntax" not in DOCKERFILE.read_text()  # no BuildKit front end
    assert not [args for op, args in steps if op == "RUN" and args.startswith("--mount")]


def test_it_copies_what_the_processes_need_and_nothing_else() -> None:
    copies = [args.split() for op, args in instructions() if op == "COPY"]
    sources = {source for parts in copies for source in parts[:-1]}
    assert sources == {
        "pyproject.toml",
        "requirements.lock",
        "protos",
        "services",
        "gateway",
        # Redoc for /docs/ (test_redoc_bundle.py)
        "scripts/fetch_redoc.py",
        "scripts/tools/package-lock.json",
    }
    assert all((REPO / source).exists() for source in sources)


def test_the_runtime_dependencies_are_installed_at_the_locked_versions() -> None:
    (install,) = [args for op, args in instructions() if op == "RUN" and "pip install" in args]
    pipeline = [step.strip() for step in install.split(" && ")]
    (extract,) = [step for step in pipeline if "requirements.lock" in step]
    assert "pip install -r /tmp/requirements.txt -c /tmp/constraints.txt" in pipeline
    constraints = subprocess.run(
        ["bash", "-c", extract.replace("> /tmp/constraints.txt", "")],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()
    locked = re.findall(r"^([A-Za-z0-9_.-]+)==", (REPO / "requirements.lock").read_text(), re.M)
    assert [line.split("==")[0] for line in constraints] == locked
    assert all(re.fullmatch(r"[A-Za-z0-9_.-]+==[A-Za-z0-9_.+!-]+", line) for line in constraints)
    assert "grpcio" in locked


def test_the_user_and_entrypoint_match_the_manifests() -> None:
    steps = dict(instructions())
    assert steps["USER"] == "10001:10001"
    assert json.loads(steps["ENTRYPOINT"]) == ["python", "-m"]
    users = set()
    for path in (KUBERNETES / "base").glob("*.yaml"):
        for doc in yaml.safe_load_all(path.read_text()):
            if doc and doc.get("kind") == "Deployment":
                users.add(doc["spec"]["template"]["spec"]["securityContext"]["runAsUser"])
    assert users == {10001}


def test_the_readme_tells_how_to_build_it() -> None:
    readme = (KUBERNETES / "README.md").read_text()
    assert "docker build -f deploy/Dockerfile" in readme
