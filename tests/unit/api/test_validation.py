"""A create request becomes a PodSpec, or an error that names the field and the rule."""

from __future__ import annotations

import pytest

from services.api.domain.validation import Limits, MountRequest, PodRequest, validate_new_pod
from services.api.errors import InvalidArgumentError
from services.common.pods_model import MountType, NetworkStanza, PodSpec, VolumeMountSpec
from services.common.settings import Settings
from services.common.stanza_options import StanzaOptions
from services.common.templates import seed_templates

OPTIONS = StanzaOptions()  # a stanza given without options

TEMPLATES = {t.template_id: t for t in seed_templates(Settings())}


def spec_for(**fields: object) -> PodSpec:
    return validate_new_pod(PodRequest(**fields), TEMPLATES, Limits())  # type: ignore[arg-type]


def rejected(field: str, **fields: object) -> str:
    with pytest.raises(InvalidArgumentError) as info:
        spec_for(**fields)
    assert info.value.field == field
    return str(info.value)


def test_a_custom_image_gets_http_on_port_5000_by_default() -> None:
    spec = spec_for(pod_id="web1", image="pods-http:latest")
    assert spec.networking == {"default": NetworkStanza("http", 5000, options=OPTIONS)}
    assert spec.time_to_stop_default == 43200


def test_a_template_forces_its_networking() -> None:
    spec = spec_for(
        pod_id="db1",
        template="postgres",
        networking={"default": NetworkStanza("http", 80, options=OPTIONS)},
    )
    assert spec.networking == {"default": NetworkStanza("postgres", 5432, options=OPTIONS)}
    assert spec.image == "pods-postgres:15"


@pytest.mark.parametrize(
    "pod_id", ["", "ab", "Upper", "1abc", "has-dash", "a" * 65, "volumes", "pod_1", "x y"]
)
def test_bad_pod_ids_are_refused(pod_id: str) -> None:
    assert "pod_id" in rejected("pod_id", pod_id=pod_id, image="pods-http:latest")


def test_unknown_template_names_the_known_ones() -> None:
    message = rejected("template", pod_id="abc", template="mysql")
    assert "mysql" in message and "postgres" in message


def test_image_or_template_is_required_and_not_both() -> None:
    rejected("image", pod_id="abc")
    rejected("image", pod_id="abc", image="x", template="postgres")


@pytest.mark.parametrize("image", ["UPPER/case", "bad image", "a:b:c", "x@sha256:12"])
def test_malformed_image_references_are_refused(image: str) -> None:
    rejected("image", pod_id="abc", image=image)


def test_networking_rules() -> None:
    rejected(
        "networking.default.port",
        pod_id="abc",
        image="i",
        networking={"default": NetworkStanza("http", 70000, options=OPTIONS)},
    )
    rejected(
        "networking.default.protocol",
        pod_id="abc",
        image="i",
        networking={"default": NetworkStanza("udp", 1, options=OPTIONS)},
    )
    rejected(
        "networking",
        pod_id="abc",
        image="i",
        networking={"Bad": NetworkStanza("http", 1, options=OPTIONS)},
    )
    many = {f"net{i}": NetworkStanza("http", 1000 + i, options=OPTIONS) for i in range(5)}
    rejected("networking", pod_id="abc", image="i", networking=many)


def test_resources_request_must_not_exceed_limit() -> None:
    rejected(
        "resources.cpu_request",
        pod_id="abc",
        image="i",
        resources={"cpu_request": 3000, "cpu_limit": 1000},
    )
    rejected("resources.mem_limit", pod_id="abc", image="i", resources={"mem_limit": 10**6})


def test_environment_names_and_description_length() -> None:
    rejected("environment_variables", pod_id="abc", image="i", environment_variables={"1X": "v"})
    rejected("description", pod_id="abc", image="i", description="d" * 256)


def test_time_to_stop_is_minus_one_or_at_least_300() -> None:
    rejected("time_to_stop_default", pod_id="abc", image="i", time_to_stop_default=10)
    assert spec_for(pod_id="abc", image="i", time_to_stop_default=-1).time_to_stop_default == -1


def test_volume_mounts_are_canonical_and_snapshots_read_only() -> None:
    spec = spec_for(
        pod_id="abc",
        image="i",
        volume_mounts={
            "data": MountRequest(mount_path="/data/", sub_path="./a/b/"),
            "snap1": MountRequest("tapissnapshot", "/var/lib/in"),
            "ronly": MountRequest("tapisvolume", "/ro", read_only=True),
        },
    )
    assert spec.volume_mounts == {
        "data": VolumeMountSpec(MountType.VOLUME, "/data", "a/b", False),
        "snap1": VolumeMountSpec(MountType.SNAPSHOT, "/var/lib/in", "", True),
        "ronly": VolumeMountSpec(MountType.VOLUME, "/ro", "", True),
    }


@pytest.mark.parametrize(
    ("field", "mounts"),
    [
        ("volume_mounts", {"Bad-Id": MountRequest(mount_path="/data")}),
        ("volume_mounts", {"ab": MountRequest(mount_path="/data")}),
        ("volume_mounts.data.type", {"data": MountRequest("nfs", "/data")}),
        ("volume_mounts.data.mount_path", {"data": MountRequest()}),
        ("volume_mounts.data.mount_path", {"data": MountRequest(mount_path="data")}),
        ("volume_mounts.data.mount_path", {"data": MountRequest(mount_path="/")}),
        ("volume_mounts.data.mount_path", {"data": MountRequest(mount_path="/a/../etc")}),
        ("volume_mounts.data.mount_path", {"data": MountRequest(mount_path="/proc/x")}),
        ("volume_mounts.data.mount_path", {"data": MountRequest(mount_path="/etc")}),
        ("volume_mounts.data.mount_path", {"data": MountRequest(mount_path="/etc/ssl")}),
        ("volume_mounts.data.mount_path", {"data": MountRequest(mount_path="/usr")}),
        ("volume_mounts.data.mount_path", {"data": MountRequest(mount_path="/x\x00")}),
        ("volume_mounts.data.sub_path", {"data": MountRequest(mount_path="/d", sub_path="../x")}),
        ("volume_mounts.data.sub_path", {"data": MountRequest(mount_path="/d", sub_path="/x")}),
        (
            "volume_mounts.other.mount_path",
            {"data": MountRequest(mount_path="/d"), "other": MountRequest(mount_path="/d/")},
        ),
        (
            "volume_mounts",
            {f"vol{i}": MountRequest(mount_path=f"/d{i}") for i in range(11)},
        ),
    ],
)
def test_bad_volume_mounts_name_the_field(field: str, mounts: dict[str, MountRequest]) -> None:
    rejected(field, pod_id="abc", image="i", volume_mounts=mounts)


def test_resource_bounds_and_compute_queues_come_from_configuration() -> None:
    limits = Limits(max_cpu_millis=1000, max_gpus=1, compute_queues=frozenset({"default", "gpu"}))
    request = PodRequest(pod_id="abc", image="i", resources={"cpu_limit": 1500})
    with pytest.raises(InvalidArgumentError, match="between 1 and 1000"):
        validate_new_pod(request, TEMPLATES, limits)
    spec = validate_new_pod(
        PodRequest(
            pod_id="abc", image="i", resources={"gpus": 1, "cpu_limit": 1000}, compute_queue="gpu"
        ),
        TEMPLATES,
        limits,
    )
    assert (spec.resources.gpus, spec.compute_queue) == (1, "gpu")
    with pytest.raises(InvalidArgumentError, match="known: default, gpu"):
        validate_new_pod(
            PodRequest(pod_id="abc", image="i", compute_queue="tpu"), TEMPLATES, limits
        )


def test_pod_ids_fit_a_dns_label_with_every_stanza() -> None:
    spec_for(pod_id="a" * 63, image="pods-http:latest")
    assert "63" in rejected("pod_id", pod_id="a" * 64, image="pods-http:latest")
    message = rejected(
        "pod_id",
        pod_id="a" * 55,
        image="pods-http:latest",
        networking={"metrics1": NetworkStanza("http", 9, options=OPTIONS)},
    )
    assert "DNS label" in message and "a" * 55 + "-metrics1" in message
    spec_for(
        pod_id="a" * 54,
        image="pods-http:latest",
        networking={"metrics1": NetworkStanza("http", 9, options=OPTIONS)},
    )


def test_an_update_of_networking_keeps_labels_within_63() -> None:
    from services.api.domain.validation import PodUpdate, validate_update

    spec = spec_for(pod_id="a" * 55, image="pods-http:latest")
    update = PodUpdate(
        pod_id="a" * 55, networking={"longname1": NetworkStanza("http", 80, options=OPTIONS)}
    )
    with pytest.raises(InvalidArgumentError) as info:
        validate_update(spec, update, Limits())
    assert info.value.field == "networking"


def test_an_update_keeps_the_read_only_root_the_template_gave() -> None:
    from dataclasses import replace

    from services.api.domain.validation import PodUpdate, validate_update
    from services.common.pods_model import PodSpec

    spec = replace(spec_for(pod_id="ropod", image="pods-http:latest"), read_only_root=True)
    assert isinstance(spec, PodSpec)
    plan = validate_update(spec, PodUpdate(pod_id="ropod", description="new"), Limits())
    assert plan.spec.read_only_root is True
    assert plan.changed == ("description",)
