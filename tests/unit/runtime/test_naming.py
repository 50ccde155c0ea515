"""Container names, labels, spec hashes and log trimming (services/common/runtime/naming.py)."""

from __future__ import annotations

import dataclasses
import re

import pytest

from services.common.runtime.naming import (
    MAX_NAME_LENGTH,
    container_name,
    labelled_run,
    labels_for,
    owned_key,
    spec_hash,
    tail_text,
    with_hash,
)
from services.common.runtime.types import (
    ContainerSpec,
    MountSpec,
    PodKey,
    PortSpec,
    StorageKind,
)

DOCKER_NAME = re.compile(r"[a-zA-Z0-9][a-zA-Z0-9_.-]+")
KEY = PodKey(tenant_id="dev", pod_id="mypod1")
PINNED_HASH = "e11ea676e0196c4c63930e15ea2a1f0be81b06e02d8d315437fb9cdcac045d9a"
MOUNT = MountSpec(StorageKind.VOLUME, "pods-local-vol-dev-data", "/data", read_only=False)
SPEC = ContainerSpec(
    key=KEY,
    image="pods-http:latest",
    command=("/bin/busybox",),
    arguments=("httpd", "-f", "-p", "5000"),
    environment={"B": "2", "A": "1"},
    ports=(PortSpec(name="web", port=5000, protocol="http"),),
    cpu_limit_millis=500,
    mem_limit_mib=256,
)


class TestContainerName:
    def test_joins_deployment_tenant_and_pod(self) -> None:
        assert container_name("local", KEY) == "pods-local-dev-mypod1"

    def test_is_deterministic_and_a_valid_docker_name(self) -> None:
        name = container_name("prod-1", PodKey("tacc-dev", "abc123"))
        assert name == container_name("prod-1", PodKey("tacc-dev", "abc123"))
        assert DOCKER_NAME.fullmatch(name)

    @pytest.mark.parametrize(
        ("deployment", "tenant", "pod"),
        [
            ("Local", "dev", "p1"),
            ("local", "Dev", "p1"),
            ("local", "dev", "p-1"),
            ("local", "dev", "p_1"),
            ("local", "dev", ""),
            ("", "dev", "p1"),
            ("-local", "dev", "p1"),
            ("local", "dev-", "p1"),
            ("lo cal", "dev", "p1"),
            ("local", "dév", "p1"),
        ],
    )
    def test_rejects_invalid_parts(self, deployment: str, tenant: str, pod: str) -> None:
        with pytest.raises(ValueError):
            container_name(deployment, PodKey(tenant, pod))

    def test_long_names_are_shortened_with_a_hash(self) -> None:
        long_pod = "a" * 200
        name = container_name("local", PodKey("dev", long_pod))
        other = container_name("local", PodKey("dev", long_pod + "b"))
        assert len(name) == MAX_NAME_LENGTH
        assert name.startswith("pods-local-dev-aaaa")
        assert DOCKER_NAME.fullmatch(name)
        assert name != other
        assert name == container_name("local", PodKey("dev", long_pod))

    def test_name_of_exactly_the_limit_is_kept(self) -> None:
        pod = "p" * (MAX_NAME_LENGTH - len("pods-local-dev-"))
        assert container_name("local", PodKey("dev", pod)) == f"pods-local-dev-{pod}"


class TestLabels:
    def test_labels_name_deployment_tenant_pod_and_hash(self) -> None:
        assert labels_for("local", KEY, "abc") == {
            "org.pods-service.deployment": "local",
            "org.pods-service.tenant": "dev",
            "org.pods-service.pod": "mypod1",
            "org.pods-service.spec-hash": "abc",
        }

    def test_a_new_container_is_labelled_with_the_run_it_starts(self) -> None:
        labels = labels_for("local", KEY, "abc", run=3)
        assert labels["org.pods-service.run"] == "3"
        assert labelled_run(labels) == 3

    @pytest.mark.parametrize(
        "labels",
        [
            None,
            {},
            {"org.pods-service.run": ""},
            {"org.pods-service.run": "-2"},
            {"org.pods-service.run": "x1"},
            {"org.pods-service.run": "1" * 10},
        ],
    )
    def test_a_missing_or_malformed_run_label_reads_as_none(
        self, labels: dict[str, str] | None
    ) -> None:
        assert labelled_run(labels) == 0

    def test_owned_key_reads_back_our_labels(self) -> None:
        assert owned_key("local", labels_for("local", KEY, "h")) == KEY

    @pytest.mark.parametrize(
        "labels",
        [
            None,
            {},
            {"org.pods-service.deployment": "other", "org.pods-service.tenant": "dev"},
            {"org.pods-service.deployment": "local", "org.pods-service.tenant": "dev"},
            {"org.pods-service.deployment": "local", "org.pods-service.pod": "p"},
        ],
    )
    def test_owned_key_is_none_for_anything_else(self, labels: dict[str, str] | None) -> None:
        assert owned_key("local", labels) is None


class TestSpecHash:
    def test_is_pinned_so_changes_to_the_scheme_are_deliberate(self) -> None:
        # Changing this value replaces every running container on upgrade.
        assert spec_hash(SPEC) == PINNED_HASH

    def test_ignores_environment_order_and_the_hash_field(self) -> None:
        reordered = dataclasses.replace(SPEC, environment={"A": "1", "B": "2"}, spec_hash="x")
        assert spec_hash(reordered) == spec_hash(SPEC)

    @pytest.mark.parametrize(
        "change",
        [
            {"key": PodKey("dev", "other")},
            {"key": PodKey("other", "mypod1")},
            {"image": "pods-http:v2"},
            {"command": ()},
            {"arguments": ("httpd",)},
            {"environment": {"A": "1"}},
            {"ports": ()},
            {"ports": (PortSpec(name="web", port=5000, protocol="tcp"),)},
            {"cpu_limit_millis": 501},
            {"mem_limit_mib": 257},
            {"cpu_request_millis": 100},
            {"mem_request_mib": 64},
            {"gpus": 1},
            {"compute_queue": "gpu"},
            {"mounts": (MOUNT,)},
            {"read_only_root": True},
        ],
    )
    def test_changes_with_every_field(self, change: dict[str, object]) -> None:
        assert spec_hash(dataclasses.replace(SPEC, **change)) != spec_hash(SPEC)  # type: ignore[arg-type]

    def test_covers_every_field_of_container_spec(self) -> None:
        # A new ContainerSpec field must be added to naming._canonical_spec (and here).
        assert [f.name for f in dataclasses.fields(ContainerSpec)] == [
            "key",
            "image",
            "command",
            "arguments",
            "environment",
            "ports",
            "cpu_limit_millis",
            "mem_limit_mib",
            "cpu_request_millis",
            "mem_request_mib",
            "gpus",
            "compute_queue",
            "mounts",
            "read_only_root",
            "spec_hash",
            "run",
        ]

    def test_ignores_the_run_a_container_is_made_to_start(self) -> None:
        # The run only labels a new container; the one an earlier attempt made is adopted.
        assert spec_hash(dataclasses.replace(SPEC, run=7)) == spec_hash(SPEC)

    def test_no_mounts_keeps_the_hash_of_specs_from_before_mounts_existed(self) -> None:
        # So that upgrading does not replace the containers of pods that mount nothing.
        assert spec_hash(dataclasses.replace(SPEC, mounts=())) == PINNED_HASH

    @pytest.mark.parametrize(
        "other",
        [
            dataclasses.replace(MOUNT, kind=StorageKind.SNAPSHOT),
            dataclasses.replace(MOUNT, volume_name="pods-local-vol-dev-other"),
            dataclasses.replace(MOUNT, target="/data2"),
            dataclasses.replace(MOUNT, read_only=True),
            dataclasses.replace(MOUNT, sub_path="sub"),
        ],
    )
    def test_changes_with_every_field_of_a_mount(self, other: MountSpec) -> None:
        with_mount = dataclasses.replace(SPEC, mounts=(MOUNT,))
        assert spec_hash(dataclasses.replace(SPEC, mounts=(other,))) != spec_hash(with_mount)

    def test_with_hash_fills_a_copy(self) -> None:
        hashed = with_hash(SPEC)
        assert hashed.spec_hash == spec_hash(SPEC)
        assert SPEC.spec_hash == ""
        assert dataclasses.replace(hashed, spec_hash="") == SPEC


class TestTailText:
    def test_short_text_is_kept(self) -> None:
        assert tail_text("a\nb\n", 100) == "a\nb\n"

    def test_cuts_at_a_line_start(self) -> None:
        assert tail_text("line1\nline2\nline3\n", 9) == "line3\n"

    def test_keeps_a_cut_that_already_starts_a_line(self) -> None:
        assert tail_text("line1\nline2\n", 6) == "line2\n"

    def test_cuts_mid_line_when_one_line_is_too_long(self) -> None:
        assert tail_text("0123456789\n", 5) == "6789\n"

    def test_drops_a_split_character(self) -> None:
        assert tail_text("ééé", 3) == "é"

    def test_zero_limit_gives_nothing(self) -> None:
        assert tail_text("abc\n", 0) == ""
