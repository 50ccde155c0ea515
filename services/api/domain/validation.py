"""Checks a requested pod and turns it into a `PodSpec`, or raises InvalidArgumentError naming
the field and the rule. Pure functions; called by domain/pods.py before anything is written
(whether the caller may mount the volumes named is checked there, by domain/volumes.py).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TypeVar

from services.api.domain import stanza_options
from services.api.domain.mount_rules import MountRequest as MountRequest
from services.api.domain.mount_rules import validate_volume_mounts
from services.api.domain.pod_auth_rules import validate_tapis_auth
from services.api.errors import InvalidArgumentError
from services.common.pods_model import (
    NetworkStanza,
    PodSpec,
    ResourceSpec,
)
from services.common.templates import TemplateDef

_T = TypeVar("_T")

POD_ID_RE = re.compile(r"^[a-z][a-z0-9]{2,63}$")
STANZA_RE = re.compile(r"^[a-z0-9]{3,64}$")  # as Tapis: the URL is <pod_id>-<stanza>.<domain>
ENV_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,127}$")
# A Docker image reference: [registry[:port]/]path[:tag][@digest], lowercase path.
IMAGE_RE = re.compile(
    r"^(?:(?:[a-zA-Z0-9-]+(?:\.[a-zA-Z0-9-]+)+|localhost)(?::[0-9]+)?/)?"
    r"[a-z0-9]+(?:[._-][a-z0-9]+)*"
    r"(?:/[a-z0-9]+(?:[._-][a-z0-9]+)*)*(?::[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?"
    r"(?:@sha256:[a-f0-9]{64})?$"
)
RESERVED_POD_IDS = frozenset(
    {
        "volumes",
        "snapshots",
        "templates",
        "images",
        "admin",
        "permissions",
        "healthcheck",
        "jupyter",
        "quotas",
    }
)
PROTOCOLS = frozenset({"http", "tcp", "postgres", "local_only"})
MAX_STANZAS = 4
MAX_ENV = 100
MAX_ARGS = 64
MAX_ARG_LEN = 4096
MAX_DESCRIPTION = 255
MAX_HOST_LABEL = 63  # a DNS label (RFC 1035): each pod port's name is one
DEFAULT_TIME_TO_STOP = 43200
MIN_TIME_TO_STOP = 300


@dataclass(frozen=True)
class Limits:
    """Bounds on resources, from settings."""

    max_cpu_millis: int = 8000
    max_mem_mib: int = 16384
    max_gpus: int = 0
    min_time_to_stop: int = MIN_TIME_TO_STOP
    defaults: ResourceSpec = field(default_factory=ResourceSpec)
    compute_queues: frozenset[str] = frozenset({"default"})


@dataclass(frozen=True)
class PodRequest:
    """The user's request, as plain values (transport converts the protobuf to this)."""

    pod_id: str
    image: str = ""
    template: str = ""
    description: str = ""
    command: Sequence[str] = ()
    arguments: Sequence[str] = ()
    environment_variables: Mapping[str, str] = field(default_factory=dict)
    status_requested: str = ""
    networking: Mapping[str, NetworkStanza] = field(default_factory=dict)
    resources: Mapping[str, int] = field(default_factory=dict)
    time_to_stop_default: int = 0
    time_to_stop_instance: int = 0
    compute_queue: str = ""
    volume_mounts: Mapping[str, MountRequest] = field(default_factory=dict)
    pod_template: str = ""  # Tapis's alias of template/image (domain/pod_template.py)


def validate_pod_id(pod_id: str) -> str:
    """The pod id, if it is lowercase alphanumeric, starts with a letter, is 3-64 long and
    is not reserved."""
    if not pod_id:
        raise InvalidArgumentError("pod_id", "is required")
    if not POD_ID_RE.fullmatch(pod_id):
        raise InvalidArgumentError(
            "pod_id",
            "must be 3 to 64 lowercase letters and digits, starting with a letter "
            f"(got {pod_id[:80]!r})",
        )
    if pod_id in RESERVED_POD_IDS:
        raise InvalidArgumentError("pod_id", f"{pod_id!r} is reserved")
    return pod_id


def validate_new_pod(
    request: PodRequest, templates: Mapping[str, TemplateDef], limits: Limits
) -> PodSpec:
    """The PodSpec for a create request, or InvalidArgumentError. A template's image,
    networking, environment and read_only_root are copied into the spec (the pod's own
    environment wins)."""
    validate_pod_id(request.pod_id)
    template = _source(request, templates)
    if template is None:
        spec = build_spec(request, limits, image=request.image, template_id="")
    else:
        spec = build_spec(
            request,
            limits,
            image=template.image,
            template_id=template.template_id,
            networking=template.networking,
            base_environment=template.environment,
        )
    check_host_labels("pod_id", request.pod_id, spec.networking)
    if template is not None:
        spec = replace(spec, read_only_root=template.read_only_root)
    return spec


def check_host_labels(field_name: str, pod_id: str, networking: Mapping[str, object]) -> None:
    """InvalidArgumentError naming `field_name` unless every host label the pod gets
    (`<pod_id>` for the default stanza, `<pod_id>-<stanza>` for the others) fits in a DNS
    label of at most 63 characters."""
    for stanza in sorted(networking):
        label = pod_id if stanza == "default" else f"{pod_id}-{stanza}"
        if len(label) > MAX_HOST_LABEL:
            raise InvalidArgumentError(
                field_name,
                f"the pod's host name label {label[:80]!r} would be {len(label)} characters; "
                f"a DNS label is at most {MAX_HOST_LABEL} (<pod_id> for the default networking "
                "stanza, <pod_id>-<stanza> for the others): use a shorter pod_id or stanza name",
            )


def build_spec(
    request: PodRequest,
    limits: Limits,
    *,
    image: str,
    template_id: str,
    networking: Mapping[str, NetworkStanza] | None = None,
    base_environment: Mapping[str, str] | None = None,
) -> PodSpec:
    """Checks a request's spec fields; a template's `networking` fixes all but the options."""
    if len(request.description) > MAX_DESCRIPTION:
        raise InvalidArgumentError("description", f"must be at most {MAX_DESCRIPTION} characters")
    environment = {**(base_environment or {}), **_environment(request.environment_variables)}
    return PodSpec(
        image=image,
        template=template_id,
        description=request.description,
        command=_strings("command", request.command),
        arguments=_strings("arguments", request.arguments),
        environment_variables=environment,
        networking=stanza_options.with_template(networking, request.networking)
        if networking
        else validate_networking(request.networking),
        resources=_resources(request.resources, limits),
        time_to_stop_default=_time_to_stop(
            "time_to_stop_default", request.time_to_stop_default, limits.min_time_to_stop
        )
        or DEFAULT_TIME_TO_STOP,
        time_to_stop_instance=_time_to_stop(
            "time_to_stop_instance", request.time_to_stop_instance, limits.min_time_to_stop
        )
        or None,
        compute_queue=_compute_queue(request.compute_queue, limits.compute_queues),
        volume_mounts=validate_volume_mounts(request.volume_mounts),
    )


def validate_image(image: str, field_name: str = "image") -> str:
    """The image reference, if it is one (name[:tag][@digest], at most 255 characters)."""
    if len(image) > 255 or not IMAGE_RE.fullmatch(image):
        raise InvalidArgumentError(
            field_name, f"{image[:80]!r} is not a valid image reference (name[:tag])"
        )
    return image


def _source(request: PodRequest, templates: Mapping[str, TemplateDef]) -> TemplateDef | None:
    if request.image and request.template:
        raise InvalidArgumentError("image", "set either image or template, not both")
    if request.template:
        template = templates.get(request.template)
        if template is None:
            known = ", ".join(sorted(templates))
            raise InvalidArgumentError(
                "template", f"unknown template {request.template[:64]!r} (known: {known})"
            )
        if template.archive_message:
            raise InvalidArgumentError(
                "template",
                f"template '{template.template_id}' is archived: {template.archive_message}",
            )
        return template
    if not request.image:
        hint = " (tapipy 25 drops pod_template: send template='template/neo4j' instead)"
        raise InvalidArgumentError("image", "either image or template is required" + hint)
    validate_image(request.image)
    return None


def _strings(name: str, values: Sequence[str]) -> tuple[str, ...]:
    if len(values) > MAX_ARGS:
        raise InvalidArgumentError(name, f"must have at most {MAX_ARGS} entries")
    for value in values:
        if len(value) > MAX_ARG_LEN or "\x00" in value:
            raise InvalidArgumentError(name, f"entries must be at most {MAX_ARG_LEN} characters")
    return tuple(values)


def _environment(env: Mapping[str, str]) -> dict[str, str]:
    if len(env) > MAX_ENV:
        raise InvalidArgumentError("environment_variables", f"must have at most {MAX_ENV} entries")
    for name, value in env.items():
        if not ENV_NAME_RE.fullmatch(name):
            raise InvalidArgumentError(
                "environment_variables",
                f"name {name[:64]!r} must be letters, digits and underscores, not starting "
                "with a digit",
            )
        if len(value) > MAX_ARG_LEN or "\x00" in value:
            raise InvalidArgumentError(
                f"environment_variables.{name}", f"must be at most {MAX_ARG_LEN} characters"
            )
    return dict(env)


def validate_networking(stanzas: Mapping[str, NetworkStanza]) -> dict[str, NetworkStanza]:
    """Networking stanzas as given (protocol "" and port 0 for not given), with defaults
    filled in, or the default {"default": http on 5000} when none are given."""
    if not stanzas:
        return {"default": NetworkStanza()}
    if len(stanzas) > MAX_STANZAS:
        raise InvalidArgumentError("networking", f"must have at most {MAX_STANZAS} entries")
    result: dict[str, NetworkStanza] = {}
    for name, given in stanzas.items():
        protocol, port = given.protocol, given.port
        if not STANZA_RE.fullmatch(name):
            raise InvalidArgumentError(
                "networking", f"name {name[:80]!r} must be 3-64 lowercase letters and digits"
            )
        protocol = protocol or "http"
        if protocol not in PROTOCOLS:
            raise InvalidArgumentError(
                f"networking.{name}.protocol",
                f"must be one of {', '.join(sorted(PROTOCOLS))} (got {protocol[:32]!r})",
            )
        port = port or 5000
        if not 1 <= port <= 65535:
            raise InvalidArgumentError(f"networking.{name}.port", "must be between 1 and 65535")
        auth = validate_tapis_auth(f"networking.{name}", protocol, given.auth)
        options = stanza_options.validate_options(f"networking.{name}", protocol, given.options)
        result[name] = NetworkStanza(protocol=protocol, port=port, auth=auth, options=options)
    return result


def _resources(values: Mapping[str, int], limits: Limits) -> ResourceSpec:
    d = limits.defaults
    cpu_request = values.get("cpu_request") or d.cpu_request
    # Defaults never exceed the configured bounds; what the user asks for is checked below.
    cpu_limit = values.get("cpu_limit") or min(max(d.cpu_limit, cpu_request), limits.max_cpu_millis)
    mem_request = values.get("mem_request") or d.mem_request
    mem_limit = values.get("mem_limit") or min(max(d.mem_limit, mem_request), limits.max_mem_mib)
    gpus = values.get("gpus") or 0
    for name, value, bound in (
        ("cpu_request", cpu_request, limits.max_cpu_millis),
        ("cpu_limit", cpu_limit, limits.max_cpu_millis),
        ("mem_request", mem_request, limits.max_mem_mib),
        ("mem_limit", mem_limit, limits.max_mem_mib),
    ):
        if not 1 <= value <= bound:
            raise InvalidArgumentError(f"resources.{name}", f"must be between 1 and {bound}")
    if cpu_request > cpu_limit:
        raise InvalidArgumentError("resources.cpu_request", "must not exceed resources.cpu_limit")
    if mem_request > mem_limit:
        raise InvalidArgumentError("resources.mem_request", "must not exceed resources.mem_limit")
    if not 0 <= gpus <= limits.max_gpus:
        raise InvalidArgumentError("resources.gpus", f"must be between 0 and {limits.max_gpus}")
    return ResourceSpec(cpu_request, cpu_limit, mem_request, mem_limit, gpus)


def _time_to_stop(name: str, value: int, minimum: int) -> int:
    if value in (0, -1) or value >= minimum:
        return value
    raise InvalidArgumentError(name, f"must be -1 (never) or at least {minimum} seconds")


def _compute_queue(value: str, known: frozenset[str]) -> str:
    if value in ("", "default"):
        return "default"
    if value in known:
        return value
    raise InvalidArgumentError(
        "compute_queue",
        f"unknown compute queue {value[:32]!r} (known: {', '.join(sorted(known))})",
    )


@dataclass(frozen=True)
class PodUpdate:
    """The fields an update gives (None: not given)."""

    pod_id: str
    image: str | None = None
    template: str | None = None
    description: str | None = None
    command: Sequence[str] | None = None
    arguments: Sequence[str] | None = None
    environment_variables: Mapping[str, str] | None = None
    status_requested: str | None = None
    networking: Mapping[str, NetworkStanza] | None = None
    resources: Mapping[str, int] | None = None
    time_to_stop_default: int | None = None
    time_to_stop_instance: int | None = None
    compute_queue: str | None = None
    volume_mounts: Mapping[str, MountRequest] | None = None


# Fields whose change needs a new container; the others apply to the record only.
CONTAINER_FIELDS = frozenset(
    {"command", "arguments", "environment_variables", "networking", "resources", "volume_mounts"}
)


@dataclass(frozen=True)
class UpdatePlan:
    """The spec after an update, which fields changed and whether a restart applies them."""

    spec: PodSpec
    changed: tuple[str, ...]
    ports_changed: bool = True  # False when networking changed only in options (no restart)

    @property
    def needs_restart(self) -> bool:
        fields = set(self.changed) - (set() if self.ports_changed else {"networking"})
        return bool(fields & CONTAINER_FIELDS)


def validate_update(current: PodSpec, update: PodUpdate, limits: Limits) -> UpdatePlan:
    """The updated spec, or InvalidArgumentError naming the field and the rule. A templated
    pod keeps what it copied from its template (of its networking, only options change)."""
    for name, value, now in (
        ("image", update.image, current.image),
        ("template", update.template, current.template),
    ):
        if value is not None and value != now:
            raise InvalidArgumentError(name, "cannot be changed; create a new pod instead")
    if current.template and update.networking is not None:
        stanza_options.check_template_ports(current.networking, update.networking)
    merged = PodRequest(
        pod_id=update.pod_id,
        description=_given(update.description, current.description),
        command=_given(update.command, current.command),
        arguments=_given(update.arguments, current.arguments),
        environment_variables=_given(update.environment_variables, current.environment_variables),
        networking=_given(update.networking, current.networking),
        resources=_given(update.resources, vars(current.resources)),
        time_to_stop_default=_given(update.time_to_stop_default, current.time_to_stop_default),
        time_to_stop_instance=_given(
            update.time_to_stop_instance, current.time_to_stop_instance or 0
        ),
        compute_queue=_given(update.compute_queue, current.compute_queue),
        volume_mounts=_given(
            update.volume_mounts,
            {
                object_id: MountRequest(m.type.value, m.mount_path, m.sub_path, m.read_only)
                for object_id, m in current.volume_mounts.items()
            },
        ),
    )
    spec = build_spec(
        merged,
        limits,
        image=current.image,
        template_id=current.template,
        networking=current.networking if current.template else None,
    )
    spec = replace(spec, read_only_root=current.read_only_root)  # the template's, kept
    changed = tuple(name for name in _SPEC_FIELDS if getattr(spec, name) != getattr(current, name))
    if "networking" in changed:
        check_host_labels("networking", update.pod_id, spec.networking)
    ports = stanza_options.ports_changed(current.networking, spec.networking)
    return UpdatePlan(spec=spec, changed=changed, ports_changed=ports)


_SPEC_FIELDS = (
    "description",
    "command",
    "arguments",
    "environment_variables",
    "networking",
    "resources",
    "time_to_stop_default",
    "time_to_stop_instance",
    "compute_queue",
    "volume_mounts",
)


def _given(value: _T | None, current: _T) -> _T:
    return current if value is None else value
