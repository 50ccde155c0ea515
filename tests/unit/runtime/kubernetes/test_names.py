"""Object names, label values and ownership of a pod's Kubernetes objects: valid, bounded and
collision-free for any valid tenant and pod id."""

from __future__ import annotations

import itertools
import re
import string

import pytest

from services.common.runtime.kubernetes.names import (
    deployment_selector,
    fit,
    label_value,
    labels,
    object_annotations,
    object_name,
    owned_key,
    pod_selector,
    port_name,
    service_host,
)
from services.common.runtime.types import PodKey

DNS_1035_LABEL = re.compile(r"[a-z]([-a-z0-9]*[a-z0-9])?")
LABEL_VALUE = re.compile(r"(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?")
IANA_SVC_NAME = re.compile(r"[a-z0-9]([a-z0-9-]*[a-z0-9])?")


def test_short_names_read_like_the_docker_container_names() -> None:
    assert object_name("prod", PodKey("tacc", "mypod1")) == "pods-prod-tacc-mypod1"


def test_a_long_name_is_cut_and_hashed_to_exactly_63_characters() -> None:
    key = PodKey("a-rather-long-tenant-name", "p" * 64)
    name = object_name("production", key)
    assert len(name) == 63
    assert name.startswith("pods-production-a-rather-long-tenant-name-ppp")
    assert re.fullmatch(r".{46}-[0-9a-f]{16}", name)
    assert object_name("production", key) == name  # deterministic


def test_62_characters_stay_as_they_are_and_63_get_hashed() -> None:
    base = "pods-d-t-"
    assert len(object_name("d", PodKey("t", "p" * (62 - len(base))))) == 62
    assert object_name("d", PodKey("t", "p" * (62 - len(base)))) == base + "p" * 53
    hashed = object_name("d", PodKey("t", "p" * (63 - len(base))))
    assert len(hashed) == 63 and hashed != base + "p" * 54


def _tenants() -> list[str]:
    short = ["a", "dev", "tacc", "a-b", "a-b-c", "x1", "designsafe"]
    long = [("t" * n) for n in (20, 40, 50, 60, 63)] + ["a-" * 20 + "z", "z" * 70]
    return sorted(set(short + long))


def _pod_ids() -> list[str]:
    ids = ["abc", "web1", "mypod", "p" * 64, "q" * 63, "a" + "0" * 63]
    ids += ["".join(chars) for chars in itertools.product(string.ascii_lowercase[:6], repeat=3)]
    ids += [f"pod{n:061d}" for n in range(50)]  # 64 characters, differing only at the end
    ids += [f"{'x' * 30}{n}" for n in range(50)]
    return sorted(set(ids))


def test_many_tenants_and_pod_ids_never_share_a_name() -> None:
    seen: dict[str, PodKey] = {}
    for tenant in _tenants():
        for pod_id in _pod_ids():
            key = PodKey(tenant, pod_id)
            name = object_name("prod", key)
            assert len(name) <= 63 and DNS_1035_LABEL.fullmatch(name), name
            assert seen.setdefault(name, key) == key, f"{key} and {seen[name]} share {name}"
    assert len(seen) == len(_tenants()) * len(_pod_ids())


def test_labels_are_valid_values_and_annotations_keep_exact_ids() -> None:
    key = PodKey("t" * 70, "p" * 64)
    tags = labels("prod", key)
    assert all(len(v) <= 63 and LABEL_VALUE.fullmatch(v) for v in tags.values())
    assert tags["org.pods-service.pod"] == label_value("p" * 64) != "p" * 64
    notes = object_annotations("prod", key, "abc")
    assert notes == {
        "org.pods-service.deployment": "prod",
        "org.pods-service.tenant": "t" * 70,
        "org.pods-service.pod": "p" * 64,
        "org.pods-service.spec-hash": "abc",
    }
    assert pod_selector("prod", key) == {
        k: v for k, v in tags.items() if k != "app.kubernetes.io/managed-by"
    }


def test_fit_keeps_short_text() -> None:
    assert fit("dev") == "dev"
    assert len(fit("x" * 100)) == 63


def test_owned_key_needs_this_deployment_in_labels_and_annotations() -> None:
    key = PodKey("dev", "web1")
    meta = {"labels": labels("prod", key), "annotations": object_annotations("prod", key)}
    assert owned_key("prod", meta) == key
    assert owned_key("other", meta) is None
    assert owned_key("prod", {**meta, "labels": {}}) is None
    assert (
        owned_key("prod", {**meta, "annotations": {"org.pods-service.deployment": "prod"}}) is None
    )
    assert owned_key("prod", None) is None
    bad = {**meta, "annotations": {**meta["annotations"], "org.pods-service.pod": "Not-Valid"}}
    assert owned_key("prod", bad) is None


def test_deployment_selector() -> None:
    assert deployment_selector("prod") == "org.pods-service.deployment=prod"


def test_port_names_are_iana_service_names_and_distinct() -> None:
    stanzas = [
        *("default", "web", "a" * 15, "a" * 16, "b" * 16, "aaaaaaaaaa" + "123456"),
        *("8080", "8081", "1" * 64, "9" * 15),  # digits only, as Tapis allows
    ]
    names = [port_name(s) for s in stanzas]
    assert names[:3] == ["default", "web", "a" * 15]
    assert all(len(n) <= 15 and IANA_SVC_NAME.fullmatch(n) and "--" not in n for n in names)
    assert all(any(c.isalpha() for c in n) for n in names)  # an IANA name needs a letter
    assert len(set(names)) == len(names)


def test_service_host() -> None:
    assert (
        service_host("prod", PodKey("dev", "web1"), "pods")
        == "pods-prod-dev-web1.pods.svc.cluster.local"
    )


@pytest.mark.parametrize("key", [PodKey("Dev", "web1"), PodKey("dev", "web-1")])
def test_invalid_keys_are_refused(key: PodKey) -> None:
    with pytest.raises(ValueError):
        object_name("prod", key)
