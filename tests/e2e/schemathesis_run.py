"""Runs schemathesis (its `st` command) against a live stack with the committed OpenAPI
description: every operation gets requests generated from the description (deterministically,
a few examples each, within a time limit), and every response must be no 5xx and match the
description (status, content type, schema).

Used by tests/e2e/test_api_description.py. The `st` command keeps hypothesis' settings and
warnings apart from pytest's.
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
DESCRIPTION = REPO / "protos" / "openapi" / "pods-v1.json"
CHECKS = (
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_schema_conformance",
)
# Generated requests that would start containers from random image names (CreatePod's body,
# and restarts of pods that might exist) prove nothing about the description and load the
# shared Docker engine: the other operations still cover every schema they use.
# A pod's event stream does not end: tests/e2e/test_watch.py tests it (and schemathesis_hooks.py
# keeps generated ListPods and GetPodLogs requests off their streams).
# Tapis-internal calls answer a documented 501 by design (README "Tapis compatibility"; the
# contract test checks those refusals).
EXCLUDED_OPERATIONS = (
    "PodsService_CreatePod",
    "PodStreamsService_StreamPodEvents",
    "MiscService_GetTraefikConfig",
    "MiscService_GetErrorPage",
    "MiscService_EnsureJupyterPod",
    "MiscService_UploadToJupyter",
)
HOOKS = "tests.e2e.schemathesis_hooks"


@dataclass(frozen=True)
class Run:
    """How the run ended, and the end of what `st` printed."""

    returncode: int
    report: str


def run_schemathesis(
    url: str,
    token: str,
    workdir: Path,
    *,
    max_examples: int = 3,
    time_limit: float = 150,
    description: Path = DESCRIPTION,
) -> Run:
    """Runs `st run` against the gateway at `url` with `token`; `time_limit` bounds it."""
    st = Path(sys.executable).parent / "st"
    command = [
        str(st),
        "run",
        str(description),
        "--url",
        url,
        "--header",
        f"X-Tapis-Token: {token}",
        "--checks",
        ",".join(CHECKS),
        "--mode",
        "positive",
        "--phases",
        "examples,coverage,fuzzing",
        "--max-examples",
        str(max_examples),
        "--generation-deterministic",
        "--workers",
        "1",
        "--max-time",
        str(int(time_limit * 0.8)),
        "--request-timeout",
        "30",
        "--no-color",
        "--report-dir",
        str(workdir),
        *(arg for op in EXCLUDED_OPERATIONS for arg in ("--exclude-operation-id", op)),
    ]
    try:
        done = subprocess.run(
            command,
            capture_output=True,
            text=True,
            cwd=workdir,
            timeout=time_limit,
            env={**os.environ, "SCHEMATHESIS_HOOKS": HOOKS, "PYTHONPATH": str(REPO)},
        )
    except subprocess.TimeoutExpired as exc:
        out = exc.stdout.decode() if isinstance(exc.stdout, bytes) else exc.stdout or ""
        return Run(returncode=-1, report=f"schemathesis ran over {time_limit}s\n{out[-20000:]}")
    return Run(returncode=done.returncode, report=(done.stdout + done.stderr)[-20000:])
