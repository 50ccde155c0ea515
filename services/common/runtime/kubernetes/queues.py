"""Compute queues: where a pod of a queue may run on a Kubernetes cluster (node labels it
requires, taints it tolerates), and the parsing of the table from its JSON text form
(PODS_K8S_COMPUTE_QUEUES).

Shared because two processes read the same table: the API (services/api/server.py) to accept
only known queue names, and the spawner (services/spawner/platforms/kubernetes/config.py and
manifests.py) to place pods. Pure data, no I/O.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

TOLERATION_OPERATORS = frozenset({"Equal", "Exists"})
TAINT_EFFECTS = frozenset({"", "NoSchedule", "PreferNoSchedule", "NoExecute"})
DEFAULT_QUEUE = "default"


@dataclass(frozen=True)
class Toleration:
    """One toleration of a compute queue (the fields of a Kubernetes Toleration)."""

    key: str = ""
    operator: str = "Equal"  # Equal | Exists
    value: str = ""
    effect: str = ""  # "" (any) | NoSchedule | PreferNoSchedule | NoExecute

    def __post_init__(self) -> None:
        if self.operator not in TOLERATION_OPERATORS:
            raise ValueError(f"toleration operator must be Equal or Exists, got {self.operator!r}")
        if self.effect not in TAINT_EFFECTS:
            raise ValueError(f"toleration effect {self.effect!r} is not a taint effect")
        if self.operator == "Exists" and self.value:
            raise ValueError("a toleration with operator Exists takes no value")


@dataclass(frozen=True)
class ComputeQueue:
    """Where a pod of this queue may run: node labels it requires and taints it tolerates."""

    node_selector: Mapping[str, str] = field(default_factory=dict)
    tolerations: tuple[Toleration, ...] = ()


def parse_compute_queues(text: str) -> dict[str, ComputeQueue]:
    """The compute-queue table from its JSON form (PODS_K8S_COMPUTE_QUEUES), e.g.

    {"gpu": {"node_selector": {"pods.example.org/gpu": "a100"},
             "tolerations": [{"key": "nvidia.com/gpu", "operator": "Exists",
                              "effect": "NoSchedule"}]}}

    An empty text gives only the "default" queue; "default" is added when missing.
    ValueError names what is wrong."""
    queues: dict[str, ComputeQueue] = {DEFAULT_QUEUE: ComputeQueue()}
    if not text.strip():
        return queues
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"compute queues are not valid JSON: {exc}") from None
    if not isinstance(raw, dict):
        raise ValueError("compute queues must be a JSON object of queue name -> queue")
    for name, body in raw.items():
        queues[str(name)] = _queue(str(name), body)
    return queues


def _queue(name: str, body: Any) -> ComputeQueue:
    if not isinstance(body, dict) or set(body) - {"node_selector", "tolerations"}:
        raise ValueError(f"compute queue {name!r} takes only node_selector and tolerations")
    selector = body.get("node_selector", {})
    if not isinstance(selector, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in selector.items()
    ):
        raise ValueError(f"node_selector of compute queue {name!r} must map strings to strings")
    tolerations = body.get("tolerations", [])
    if not isinstance(tolerations, list):
        raise ValueError(f"tolerations of compute queue {name!r} must be a list")
    parsed: list[Toleration] = []
    for item in tolerations:
        if not isinstance(item, dict) or set(item) - {"key", "operator", "value", "effect"}:
            raise ValueError(
                f"a toleration of compute queue {name!r} takes key, operator, value, effect"
            )
        parsed.append(Toleration(**{k: str(v) for k, v in item.items()}))
    return ComputeQueue(node_selector=dict(selector), tolerations=tuple(parsed))
