"""The image allow-list: parses image references and allow-list rules into their registry,
repository path and tag, and matches them component by component (never as string prefixes).

Called by domain/pods.py (a pod's image, also a template's when a pod is made from it) and
domain/catalog.py (a template's image when it is created or changed; a rule when it is added).

Rule grammar (README "Allowed images"):
- an exact reference, `name[:tag][@digest]`: that image (`ubuntu` means `ubuntu:latest`);
- `name*` or `name:*`: the repository `name` with any tag or digest;
- `name:prefix*`: the repository `name` with a tag starting with `prefix`;
- `namespace/*`: every repository under `namespace` (any depth), any tag.
Names are compared as Docker resolves them: a first component with '.' or ':', or `localhost`,
is a registry host; otherwise the registry is Docker Hub, where a one-component name is in
`library/`. So `ubuntu*` allows `ubuntu:22.04` and `docker.io/library/ubuntu`, never
`ubuntu.evil.com/x:1` nor `ubuntu-evil`.
"""

from __future__ import annotations

from dataclasses import dataclass

DOCKER_HUB = "docker.io"
_HUB_ALIASES = frozenset({"docker.io", "index.docker.io", "registry-1.docker.io"})


@dataclass(frozen=True)
class ImageName:
    """A canonical image reference: registry host, repository path components, tag, digest."""

    registry: str
    path: tuple[str, ...]
    tag: str
    digest: str


def parse_image(reference: str) -> ImageName:
    """The canonical form of `reference`; ValueError if it has no repository name."""
    rest, _, digest = reference.partition("@")
    components = rest.split("/")
    registry = DOCKER_HUB
    if len(components) > 1 and (
        "." in components[0] or ":" in components[0] or components[0] == "localhost"
    ):
        registry = components[0]
        components = components[1:]
    if registry in _HUB_ALIASES:
        registry = DOCKER_HUB
    last, _, tag = components[-1].partition(":")
    components[-1] = last
    if not all(components):
        raise ValueError(f"{reference[:80]!r} has an empty name component")
    if registry == DOCKER_HUB and len(components) == 1:
        components = ["library", *components]
    if not tag and not digest:
        tag = "latest"
    return ImageName(registry, tuple(components), tag, digest)


@dataclass(frozen=True)
class ImageRule:
    """A parsed allow-list rule (see the module docstring)."""

    registry: str
    path: tuple[str, ...]
    namespace: bool = False  # `namespace/*`: every repository under `path`
    any_tag: bool = False  # `name*`, `name:*`
    tag_prefix: str | None = None  # `name:prefix*`
    exact: ImageName | None = None  # an exact reference

    def allows(self, image: ImageName) -> bool:
        if self.exact is not None:
            return image == self.exact
        if image.registry != self.registry:
            return False
        if self.namespace:
            depth = len(self.path)
            return len(image.path) > depth and image.path[:depth] == self.path
        if image.path != self.path:
            return False
        if self.any_tag:
            return True
        return self.tag_prefix is not None and image.tag.startswith(self.tag_prefix)


def parse_rule(rule: str) -> ImageRule:
    """The parsed rule; ValueError saying what is wrong."""
    if not rule.endswith("*"):
        exact = parse_image(rule)
        return ImageRule(exact.registry, exact.path, exact=exact)
    stem = rule[:-1]
    if "*" in stem or "@" in stem:
        raise ValueError("'*' may appear only once, at the end, and not after a digest")
    if not stem:
        raise ValueError("a rule needs a name before '*'")
    if stem.endswith("/"):
        # Parse a placeholder name under the namespace, then drop it.
        named = parse_image(stem + "x")
        namespace = named.path[:-1]
        return ImageRule(named.registry, namespace, namespace=True)
    name, tag_prefix = _split_tag(stem)
    named = parse_image(name)
    if tag_prefix:
        return ImageRule(named.registry, named.path, tag_prefix=tag_prefix)
    return ImageRule(named.registry, named.path, any_tag=True)


def _split_tag(stem: str) -> tuple[str, str]:
    """(name, tag prefix) of a rule's stem: the tag is after a ':' in the last component."""
    head, slash, last = stem.rpartition("/")
    name, colon, tag = last.partition(":")
    if not colon:
        return stem, ""
    if not name:
        raise ValueError("a tag needs a repository name before ':'")
    return f"{head}{slash}{name}", tag


def image_allowed(image: str, rules: list[str]) -> bool:
    """True when the allow-list is empty or a rule allows `image`. Rules that do not parse
    (stored before rules were checked) allow nothing."""
    if not rules:
        return True
    try:
        name = parse_image(image)
    except ValueError:
        return False
    for rule in rules:
        try:
            parsed = parse_rule(rule)
        except ValueError:
            continue
        if parsed.allows(name):
            return True
    return False
