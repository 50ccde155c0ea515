"""A networking stanza's ip_allow_list, cors_* and tapis_ui_uri* fields are checked when a pod
is created or updated (400 naming the field and the rule), kept as given, and stored; stanza
names follow Tapis (3-64 lowercase letters and digits)."""

from __future__ import annotations

import pytest

from services.api.domain.validation import (
    Limits,
    PodRequest,
    PodUpdate,
    validate_new_pod,
    validate_update,
)
from services.api.errors import InvalidArgumentError
from services.common.db.codec import spec_from_json, spec_to_json
from services.common.pods_model import NetworkStanza, PodSpec
from services.common.settings import Settings
from services.common.stanza_options import StanzaOptions
from services.common.templates import seed_templates

TEMPLATES = {t.template_id: t for t in seed_templates(Settings())}
FULL = StanzaOptions(
    ip_allow_list=("10.0.0.0/8", "192.168.1.7", "2001:db8::/32"),
    cors_allow_origins=("https://app.example.org", "*"),
    cors_allow_methods=("GET", "POST"),
    cors_allow_headers=("Content-Type", "X-Tapis-Token"),
    cors_allow_credentials=True,
    cors_max_age=0,
    tapis_ui_uri="/lab/tree",
    tapis_ui_uri_redirect=True,
    tapis_ui_uri_description="JupyterLab",
)


def pod(options: StanzaOptions, protocol: str = "http", name: str = "web") -> PodSpec:
    request = PodRequest(
        pod_id="abc",
        image="pods-http:latest",
        networking={name: NetworkStanza(protocol, 8000, options=options)},
    )
    return validate_new_pod(request, TEMPLATES, Limits())


def refused(field: str, options: StanzaOptions, protocol: str = "http") -> str:
    with pytest.raises(InvalidArgumentError) as info:
        pod(options, protocol)
    assert info.value.field == field
    return str(info.value)


def test_every_option_is_kept_as_given() -> None:
    assert pod(FULL).networking == {"web": NetworkStanza("http", 8000, options=FULL)}


def test_the_defaults_are_tapiss() -> None:
    options = StanzaOptions()
    assert options.cors_max_age == 100 and not options.cors
    assert options.ip_allow_list == () and options.tapis_ui_uri == ""


@pytest.mark.parametrize("entry", ["10.0.0.256", "10.0.0.0/33", "example.org", "", "1.2.3"])
def test_a_bad_address_is_refused_naming_the_field(entry: str) -> None:
    message = refused("networking.web.ip_allow_list", StanzaOptions(ip_allow_list=(entry,)))
    assert "IP address or CIDR range" in message


def test_a_star_in_the_allow_list_is_refused_as_tapis_does() -> None:
    assert "'*'" in refused("networking.web.ip_allow_list", StanzaOptions(ip_allow_list=("*",)))


@pytest.mark.parametrize("protocol", ["tcp", "postgres"])
def test_tcp_and_postgres_ports_take_an_allow_list(protocol: str) -> None:
    options = StanzaOptions(ip_allow_list=("127.0.0.1",))
    assert pod(options, protocol).networking["web"].options == options


def test_a_local_only_port_takes_no_allow_list() -> None:
    refused(
        "networking.web.ip_allow_list",
        StanzaOptions(ip_allow_list=("127.0.0.1",)),
        protocol="local_only",
    )


def test_cors_is_for_http_only() -> None:
    message = refused(
        "networking.web.cors_allow_origins", StanzaOptions(cors_allow_origins=("*",)), "tcp"
    )
    assert "http only" in message


@pytest.mark.parametrize(
    ("field", "options"),
    [
        ("cors_allow_origins", StanzaOptions(cors_allow_origins=("https://a.org/path",))),
        ("cors_allow_origins", StanzaOptions(cors_allow_origins=("ftp://a.org",))),
        ("cors_allow_methods", StanzaOptions(cors_allow_methods=("GET, POST",))),
        ("cors_allow_headers", StanzaOptions(cors_allow_headers=("X-A\r\nX-B",))),
        ("cors_max_age", StanzaOptions(cors_max_age=101)),
        ("cors_max_age", StanzaOptions(cors_max_age=-1)),
        ("tapis_ui_uri", StanzaOptions(tapis_ui_uri="lab")),
        ("tapis_ui_uri", StanzaOptions(tapis_ui_uri="/Lab")),
        ("tapis_ui_uri", StanzaOptions(tapis_ui_uri="/" + "a" * 128)),
        ("tapis_ui_uri_description", StanzaOptions(tapis_ui_uri_description="café")),
        ("tapis_ui_uri_description", StanzaOptions(tapis_ui_uri_description="a" * 256)),
        ("ip_allow_list", StanzaOptions(ip_allow_list=("10.0.0.1",) * 33)),
    ],
)
def test_each_rule_names_its_field(field: str, options: StanzaOptions) -> None:
    refused(f"networking.web.{field}", options)


@pytest.mark.parametrize("name", ["web", "8080", "api2", "a" * 50])
def test_stanza_names_are_3_to_64_lowercase_letters_and_digits_as_tapis(name: str) -> None:
    assert name in pod(StanzaOptions(), name=name).networking


@pytest.mark.parametrize("name", ["ab", "Web", "my-api", "a" * 65])
def test_other_stanza_names_are_refused(name: str) -> None:
    with pytest.raises(InvalidArgumentError) as info:
        pod(StanzaOptions(), name=name)
    assert info.value.field == "networking" and "3-64" in str(info.value)


def test_an_update_of_only_the_options_needs_no_restart() -> None:
    spec = pod(StanzaOptions())
    update = PodUpdate(pod_id="abc", networking={"web": NetworkStanza("http", 8000, options=FULL)})
    plan = validate_update(spec, update, Limits())
    assert plan.changed == ("networking",)
    assert plan.spec.networking["web"].options == FULL
    assert not plan.needs_restart  # the gateway applies them at its next route refresh


def test_an_update_of_a_port_needs_a_restart() -> None:
    spec = pod(StanzaOptions())
    for networking in (
        {"web": NetworkStanza("http", 8001, options=StanzaOptions())},
        {"web": NetworkStanza("tcp", 8000, options=StanzaOptions())},
        {
            "web": NetworkStanza("http", 8000, options=StanzaOptions()),
            "api": NetworkStanza("http", 9000, options=StanzaOptions()),
        },
    ):
        plan = validate_update(spec, PodUpdate(pod_id="abc", networking=networking), Limits())
        assert plan.needs_restart, networking


def test_the_options_survive_storage_and_old_rows_get_the_defaults() -> None:
    spec = pod(FULL)
    assert spec_from_json(spec_to_json(spec)) == spec
    stored = spec_to_json(spec)
    stored["networking"]["web"] = {"protocol": "http", "port": 8000}  # before the options
    assert spec_from_json(stored).networking["web"].options == StanzaOptions()


def test_a_templated_pod_takes_options_for_its_templates_stanzas() -> None:
    allow = StanzaOptions(ip_allow_list=("10.0.0.0/8",))
    request = PodRequest(
        pod_id="db1",
        template="postgres",
        networking={
            "default": NetworkStanza("", 0, options=allow),
            "extra": NetworkStanza("http", 80, options=StanzaOptions()),
        },
    )
    spec = validate_new_pod(request, TEMPLATES, Limits())
    # The template's port and protocol, the request's options; "extra" is not the template's.
    assert spec.networking == {"default": NetworkStanza("postgres", 5432, options=allow)}


def test_a_templated_pod_checks_the_options_against_the_templates_protocol() -> None:
    cors = StanzaOptions(cors_allow_origins=("*",))
    request = PodRequest(
        pod_id="db1",
        template="postgres",
        networking={"default": NetworkStanza("", 0, options=cors)},
    )
    with pytest.raises(InvalidArgumentError) as info:
        validate_new_pod(request, TEMPLATES, Limits())
    assert info.value.field == "networking.default.cors_allow_origins"


def test_an_update_of_a_templated_pod_may_change_only_the_options() -> None:
    spec = validate_new_pod(PodRequest(pod_id="db1", template="postgres"), TEMPLATES, Limits())
    allow = StanzaOptions(ip_allow_list=("127.0.0.1",))
    plan = validate_update(
        spec,
        PodUpdate(
            pod_id="db1", networking={"default": NetworkStanza("postgres", 5432, options=allow)}
        ),
        Limits(),
    )
    assert plan.spec.networking["default"] == NetworkStanza("postgres", 5432, options=allow)
    for moved in (
        {"default": NetworkStanza("postgres", 5433, options=allow)},
        {"other": NetworkStanza("postgres", 5432, options=allow)},
    ):
        with pytest.raises(InvalidArgumentError) as info:
            validate_update(spec, PodUpdate(pod_id="db1", networking=moved), Limits())
        assert "fixed by the pod's template" in str(info.value)
