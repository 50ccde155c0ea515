"""Tapis's `pod_template` field and its `template/` namespace, folded into `image` and
`template`. Pure functions; called by domain/pods.py (create) and transport/pods_convert.py
(update requests, and `pod_template` in every pod it returns).

The Tapis Pods API first named what a pod runs with one field, `pod_template`: "template/neo4j"
or "template/postgres" for a template, anything else for a custom image (checked against the
image allow-list). Its documentation's quickstart still uses it, so a request may give
`pod_template` instead of `image` or `template`; giving both with different values is an
error naming both fields. `template` itself also accepts the "template/<name>" form.
"""

from __future__ import annotations

from services.api.errors import InvalidArgumentError

NAMESPACE = "template/"


def template_name(value: str) -> str:
    """The template a `template` value names: "template/neo4j" and "neo4j" both name neo4j."""
    if value.startswith(NAMESPACE):
        named = value[len(NAMESPACE) :]
        if not named:
            raise InvalidArgumentError("template", f"{NAMESPACE!r} must be followed by a name")
        return named
    return value


def fold_pod_template(image: str, template: str, pod_template: str) -> tuple[str, str]:
    """The (image, template) a request names once `pod_template` is folded in, or
    InvalidArgumentError naming both fields when they disagree."""
    template = template_name(template)
    if not pod_template:
        return image, template
    if pod_template.startswith(NAMESPACE):
        named = pod_template[len(NAMESPACE) :]
        if not named:
            raise InvalidArgumentError("pod_template", f"{NAMESPACE!r} must be followed by a name")
        if template and template != named:
            raise InvalidArgumentError(
                "pod_template",
                f"names template {named!r} but template is {template!r}: "
                "give pod_template or template, not both with different values",
            )
        if image:
            raise InvalidArgumentError(
                "pod_template",
                f"names template {named!r} but image is {image[:80]!r}: "
                "a pod runs either a template or an image",
            )
        return image, named
    if image and image != pod_template:
        raise InvalidArgumentError(
            "pod_template",
            f"names image {pod_template[:80]!r} but image is {image[:80]!r}: "
            "give pod_template or image, not both with different values",
        )
    if template:
        raise InvalidArgumentError(
            "pod_template",
            f"names image {pod_template[:80]!r} but template is {template!r}: "
            f"a template is named {NAMESPACE}<name> in pod_template",
        )
    return pod_template, template


def pod_template_of(image: str, template: str) -> str:
    """`pod_template` as Tapis returned it: "template/<name>" for a templated pod, else the
    image."""
    return f"{NAMESPACE}{template}" if template else image
