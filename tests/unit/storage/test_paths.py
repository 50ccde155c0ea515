"""Pure path confinement (services/common/storage/paths.py)."""

from __future__ import annotations

import re

import pytest

from services.common.storage import paths
from services.common.storage.paths import PathError


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("", ""),
        (".", ""),
        ("./", ""),
        ("./.", ""),
        ("a", "a"),
        ("a/", "a"),
        ("a/b", "a/b"),
        ("a/b/", "a/b"),
        ("./a/./b", "a/b"),
        ("a/.", "a"),
        ("a/./b/.", "a/b"),
        ("dir with space/file name.txt", "dir with space/file name.txt"),
        ("dé/ü.txt", "dé/ü.txt"),
        ("a\\b", "a\\b"),  # a backslash is an ordinary character on Linux
        ("...", "..."),
        ("..a/b..", "..a/b.."),
        (".hidden/.x", ".hidden/.x"),
        ("-rf", "-rf"),  # never handed to a command as an option: always below /v
        ("a" * 255, "a" * 255),
        ("é" * 127 + "a", "é" * 127 + "a"),  # 255 bytes
    ],
)
def test_normalize_accepts(given: str, expected: str) -> None:
    assert paths.normalize(given) == expected


@pytest.mark.parametrize(
    ("given", "reason"),
    [
        ("/etc/passwd", "absolute"),
        ("/", "absolute"),
        ("//x", "absolute"),
        ("..", "'..'"),
        ("../x", "'..'"),
        ("a/../../x", "'..'"),
        ("a/..", "'..'"),
        ("a/../b", "'..'"),  # even when it would stay inside
        ("./..", "'..'"),
        ("a/b/../../..", "'..'"),
        ("a//b", "empty segment"),
        ("a//", "empty segment"),
        ("a/./../b", "'..'"),
        ("a\x00b", "NUL"),
        ("\x00", "NUL"),
        ("a\nb", "control character"),
        ("a\rb", "control character"),
        ("\t", "control character"),
        ("a\x7f", "control character"),
        ("a\x1b[31m", "control character"),
        ("\udc80", "UTF-8"),
        ("a" * 256, "longer than 255 bytes"),
        ("é" * 128, "longer than 255 bytes"),  # 256 bytes in 128 characters
        ("a/" * 2048 + "a", "bytes long"),  # 4097 bytes
    ],
)
def test_normalize_refuses(given: str, reason: str) -> None:
    with pytest.raises(PathError, match=re.escape(reason)):
        paths.normalize(given)


def test_normalize_length_limit_is_inclusive() -> None:
    exactly = "/".join(["a" * 240] * 17)
    assert len(exactly.encode()) == 4096
    assert paths.normalize(exactly) == exactly
    with pytest.raises(PathError, match="4097 bytes long"):
        paths.normalize(exactly + "b")


def test_normalize_refuses_non_text() -> None:
    with pytest.raises(PathError, match="must be text"):
        paths.normalize(b"a")  # type: ignore[arg-type]


def test_errors_are_value_errors_naming_what() -> None:
    with pytest.raises(ValueError, match=r"^source path '/x' is absolute"):
        paths.normalize("/x", "source path")


def test_error_messages_shorten_long_paths() -> None:
    with pytest.raises(PathError) as caught:
        paths.normalize("/" + "x" * 1000)
    assert len(str(caught.value)) < 200


def test_segments_join_parent() -> None:
    assert paths.segments("") == ()
    assert paths.segments("a/b/c") == ("a", "b", "c")
    assert paths.join("/v", "") == "/v"
    assert paths.join("/v", "a/b") == "/v/a/b"
    assert paths.parent_and_name("a/b/c") == ("a/b", "c")
    assert paths.parent_and_name("c") == ("", "c")
    with pytest.raises(PathError):
        paths.parent_and_name("")
    assert paths.describe("") == "the volume root"
    assert paths.describe("a/b") == "'a/b'"


@pytest.mark.parametrize(
    ("candidate", "inside"),
    [
        ("/v", True),
        ("/v/a", True),
        ("/v/a/b", True),
        ("/va", False),
        ("/v2/a", False),
        ("/", False),
        ("/etc/passwd", False),
        ("/v/../etc", False),
        ("/v/./a", False),  # not canonical: not realpath output
        ("/v//a", False),
        ("/v/a/", False),
        ("v/a", False),
        ("", False),
        ("/v/a\x00", False),
    ],
)
def test_is_within(candidate: str, inside: bool) -> None:
    assert paths.is_within("/v", candidate) is inside


def test_relative_to() -> None:
    assert paths.relative_to("/v", "/v") == ""
    assert paths.relative_to("/v", "/v/a/b") == "a/b"
    with pytest.raises(PathError, match="outside"):
        paths.relative_to("/v", "/etc")


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("/data", "/data"),
        ("/data/", "/data"),
        ("/a/./b", "/a/b"),
        ("/tapis_volume_mount", "/tapis_volume_mount"),
        ("/device", "/device"),
        ("/var/lib/postgresql/data", "/var/lib/postgresql/data"),
    ],
)
def test_mount_path_accepts(given: str, expected: str) -> None:
    assert paths.normalize_mount_path(given) == expected


@pytest.mark.parametrize(
    ("given", "reason"),
    [
        ("data", "must be absolute"),
        ("", "must be absolute"),
        ("/", "may not be '/'"),
        ("/.", "may not be '/'"),
        ("/proc", "reserved"),
        ("/proc/1", "reserved"),
        ("/sys/fs", "reserved"),
        ("/dev", "reserved"),
        ("/dev/shm", "reserved"),
        ("/a/../b", "'..'"),
        ("/..", "'..'"),
        ("/a//b", "empty segment"),
        ("/a\x00", "NUL"),
        ("/a\nb", "control character"),
    ],
)
def test_mount_path_refuses(given: str, reason: str) -> None:
    with pytest.raises(PathError, match=re.escape(reason)):
        paths.normalize_mount_path(given)
