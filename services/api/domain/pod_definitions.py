"""Pod definitions: what a template tag holds (the fields of a pod create, every one optional)
and what a pod has of its own over its template. Represented by `PodRequest` (pod_id and
status_requested unused; an empty field is an unset one), stored as JSON.

Called by domain/derivation.py (layering definitions) and domain/template_tags.py (checking a
new tag, saving a pod as one). Pure functions: checks reuse domain/validation.py, so a tag
holds nothing a pod create would refuse.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any, TypeVar

from services.api.domain.validation import (
    Limits,
    MountRequest,
    PodRequest,
    build_spec,
    validate_image,
)
from services.api.errors import InvalidArgumentError
from services.common.network_json import stanza_from_wire_json, stanza_to_wire_json
from services.common.pods_model import PodSpec

BLANK = PodRequest(pod_id="")
_T = TypeVar("_T")
_V = TypeVar("_V")
_SCALARS = ("image", "template", "description", "compute_queue")
_NUMBERS = ("time_to_stop_default", "time_to_stop_instance")
_LISTS = ("command", "arguments")


def definition_to_json(definition: PodRequest) -> dict[str, Any]:
    """The definition's set fields as JSON (Tapis's pod_definition field names)."""
    data: dict[str, Any] = {}
    for name in (*_SCALARS, *_NUMBERS):
        if value := getattr(definition, name):
            data[name] = value
    for name in _LISTS:
        if value := getattr(definition, name):
            data[name] = list(value)
    if definition.environment_variables:
        data["environment_variables"] = dict(definition.environment_variables)
    if definition.networking:
        data["networking"] = {
            name: stanza_to_wire_json(stanza) for name, stanza in definition.networking.items()
        }
    if definition.resources:
        data["resources"] = dict(definition.resources)
    if definition.volume_mounts:
        data["volume_mounts"] = {key: vars(m).copy() for key, m in definition.volume_mounts.items()}
    return data


def definition_from_json(data: Mapping[str, Any]) -> PodRequest:
    """The inverse of definition_to_json."""
    return PodRequest(
        pod_id="",
        image=data.get("image", ""),
        template=data.get("template", ""),
        description=data.get("description", ""),
        compute_queue=data.get("compute_queue", ""),
        time_to_stop_default=data.get("time_to_stop_default", 0),
        time_to_stop_instance=data.get("time_to_stop_instance", 0),
        command=tuple(data.get("command", ())),
        arguments=tuple(data.get("arguments", ())),
        environment_variables=dict(data.get("environment_variables", {})),
        networking={
            name: stanza_from_wire_json(stanza)
            for name, stanza in data.get("networking", {}).items()
        },
        resources=dict(data.get("resources", {})),
        volume_mounts={key: MountRequest(**m) for key, m in data.get("volume_mounts", {}).items()},
    )


def check_definition(definition: PodRequest, limits: Limits) -> None:
    """InvalidArgumentError naming `pod_definition.<field>` unless every field given would be
    accepted in a pod create (the template it names is checked by domain/derivation.py)."""
    try:
        if definition.image:
            validate_image(definition.image)
        build_spec(definition, limits, image=definition.image, template_id="")
    except InvalidArgumentError as exc:
        raise renamed(exc, f"pod_definition.{exc.field}") from None


def renamed(exc: InvalidArgumentError, field_name: str) -> InvalidArgumentError:
    """The same rule broken, naming `field_name` instead."""
    return InvalidArgumentError(field_name, str(exc).removeprefix(f"{exc.field}: "))


def overlay(base: PodRequest, top: PodRequest) -> PodRequest:
    """`base` with `top`'s set fields over it: scalars and lists replaced, environment,
    networking, resources and volume mounts merged entry by entry (top's win)."""
    return replace(
        base,
        pod_id=top.pod_id or base.pod_id,
        status_requested=top.status_requested or base.status_requested,
        **{name: getattr(top, name) or getattr(base, name) for name in _SCALARS},
        **{name: getattr(top, name) or getattr(base, name) for name in (*_NUMBERS, *_LISTS)},
        environment_variables={**base.environment_variables, **top.environment_variables},
        networking={**base.networking, **top.networking},
        resources={**base.resources, **top.resources},
        volume_mounts={**base.volume_mounts, **top.volume_mounts},
    )


def own_fields(spec: PodSpec, inherited: PodSpec | None) -> PodRequest:
    """What `spec` has of its own over `inherited` (what its template gave it) as a
    definition; with no template, the whole spec (image included)."""
    now = spec_as_definition(spec)
    was = spec_as_definition(inherited or PodSpec())
    return PodRequest(
        pod_id="",
        image="" if inherited else spec.image,
        description=_differs(now.description, was.description),
        compute_queue=_differs(now.compute_queue, was.compute_queue),
        time_to_stop_default=_differs(now.time_to_stop_default, was.time_to_stop_default),
        time_to_stop_instance=_differs(now.time_to_stop_instance, was.time_to_stop_instance),
        command=_differs(tuple(now.command), tuple(was.command)),
        arguments=_differs(tuple(now.arguments), tuple(was.arguments)),
        environment_variables=_changed(now.environment_variables, was.environment_variables),
        networking=_changed(now.networking, was.networking),
        resources=_changed(now.resources, was.resources),
        volume_mounts=_changed(now.volume_mounts, was.volume_mounts),
    )


def spec_as_definition(spec: PodSpec) -> PodRequest:
    """A stored spec in definition terms (its template not named)."""
    return PodRequest(
        pod_id="",
        image=spec.image,
        description=spec.description,
        command=spec.command,
        arguments=spec.arguments,
        environment_variables=dict(spec.environment_variables),
        networking=dict(spec.networking),
        resources=vars(spec.resources).copy(),
        time_to_stop_default=spec.time_to_stop_default,
        time_to_stop_instance=spec.time_to_stop_instance or 0,
        compute_queue=spec.compute_queue,
        volume_mounts={
            key: MountRequest(m.type.value, m.mount_path, m.sub_path, m.read_only)
            for key, m in spec.volume_mounts.items()
        },
    )


def _differs(value: _T, was: _T) -> _T:
    """`value` if it differs from `was`, else its type's empty value (not given)."""
    return value if value != was else type(value)()


def _changed(value: Mapping[str, _V], was: Mapping[str, _V]) -> dict[str, _V]:
    return {key: item for key, item in value.items() if was.get(key) != item}
