"""The image allow-list matches names on registry, repository and tag boundaries."""

from __future__ import annotations

import pytest

from services.api.domain.images import ImageName, image_allowed, parse_image, parse_rule


def test_names_are_resolved_the_way_docker_resolves_them() -> None:
    assert parse_image("ubuntu") == ImageName("docker.io", ("library", "ubuntu"), "latest", "")
    assert parse_image("docker.io/library/ubuntu:22.04") == parse_image("ubuntu:22.04")
    assert parse_image("ubuntu.evil.com/x:1").registry == "ubuntu.evil.com"
    assert parse_image("localhost/app").registry == "localhost"
    assert parse_image("reg:5000/app:2") == ImageName("reg:5000", ("app",), "2", "")
    assert parse_image("lab/app").path == ("lab", "app")


@pytest.mark.parametrize(
    ("rule", "image", "allowed"),
    [
        ("ubuntu*", "ubuntu", True),
        ("ubuntu*", "ubuntu:22.04", True),
        ("ubuntu*", "docker.io/library/ubuntu:22.04", True),
        ("ubuntu*", "ubuntu.evil.com/x:1", False),
        ("ubuntu*", "ubuntu-evil:1", False),
        ("ubuntu*", "ubuntu/evil:1", False),
        ("pods-http:*", "pods-http:latest", True),
        ("pods-http:*", "pods-http-evil:latest", False),
        ("python:3.11*", "python:3.11-slim", True),
        ("python:3.11*", "python:3.12", False),
        ("lab.example.org/team/*", "lab.example.org/team/app:2", True),
        ("lab.example.org/team/*", "lab.example.org/team/sub/app", True),
        ("lab.example.org/team/*", "lab.example.org/teamevil/app", False),
        ("lab.example.org/team/*", "lab.example.org.evil.com/team/app", False),
        ("lab.example.org/team/*", "lab.example.org/team", False),
        ("localhost:5000/*", "localhost:5000/anything:1", True),
        ("localhost:5000/*", "localhost:5001/anything:1", False),
        ("pods-http:latest", "pods-http", True),
        ("pods-http:latest", "pods-http:latest2", False),
        ("pods-http", "docker.io/pods-http:latest", True),
    ],
)
def test_rules_match_on_boundaries(rule: str, image: str, allowed: bool) -> None:
    assert image_allowed(image, [rule]) is allowed


def test_an_empty_list_allows_everything_and_broken_rules_allow_nothing() -> None:
    assert image_allowed("anything:1", [])
    assert not image_allowed("anything:1", ["a*b*"])


@pytest.mark.parametrize("rule", ["*", "a*b*", "x@sha256*", ":*"])
def test_rules_that_do_not_parse_are_refused(rule: str) -> None:
    with pytest.raises(ValueError):
        parse_rule(rule)
