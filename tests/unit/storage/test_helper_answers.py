"""The pure parts of the storage helpers: reading the helper's answers, building and reading tar
streams, snapshot markers (services/spawner/storage/helper_answers.py), Docker mounts
(spawner/platforms/docker/volumes.py), and HelperShell's retry of a cut-short answer (helper_ops.py)."""

from __future__ import annotations

import io
import tarfile
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime

import pytest

from services.common.outcomes import TemporaryError
from services.common.storage.types import (
    InvalidStorageRequest,
    MountSpec,
    SnapshotKey,
    StorageKind,
    VolumeKey,
)
from services.spawner.platforms.docker.volumes import (
    api_version_at_least,
    docker_mount,
)
from services.spawner.storage import helper_answers, helper_ops
from services.spawner.storage.helper_answers import (
    Resolved,
    marker_bytes,
    marker_size,
    parse_listing,
    parse_probe,
    parse_sizes,
    split_trailer,
    upload_tar,
)


def rec(flags: str, real: str = "", size: str = "") -> bytes:
    """One record of PROBE_SCRIPT's output (realpath prints a newline)."""
    real_part = (real + "\n").encode() if real else b""
    return flags.encode() + b"\0" + real_part + b"\0" + size.encode() + b"\0"


ROOT = rec("-d", "/v")


class TestParseProbe:
    def test_root(self) -> None:
        assert parse_probe(ROOT, "") == Resolved("", "/v", "d")

    def test_existing_file(self) -> None:
        out = ROOT + rec("-d", "/v/a") + rec("-f", "/v/a/b.txt", "12\n")
        assert parse_probe(out, "a/b.txt") == Resolved("a/b.txt", "/v/a/b.txt", "f", size=12)

    def test_missing_tail(self) -> None:
        out = ROOT + rec("-d", "/v/a") + rec("-n")
        assert parse_probe(out, "a/b/c.txt") == Resolved(
            "a/b/c.txt", "/v/a", "n", missing=("b", "c.txt")
        )

    def test_missing_at_root(self) -> None:
        assert parse_probe(ROOT + rec("-n"), "x") == Resolved("x", "/v", "n", missing=("x",))

    def test_link_inside_is_followed(self) -> None:
        out = ROOT + rec("Ld", "/v/real") + rec("-f", "/v/real/f", "3")
        assert parse_probe(out, "link/f") == Resolved("link/f", "/v/real/f", "f", size=3)

    def test_link_to_file_outside(self) -> None:
        out = ROOT + rec("Lf", "/etc/passwd", "82")
        with pytest.raises(InvalidStorageRequest, match="'pw' is a symbolic link leading outside"):
            parse_probe(out, "pw")

    def test_link_to_directory_outside(self) -> None:
        out = ROOT + rec("Ld", "/etc") + rec("-f", "/etc/passwd", "82")
        with pytest.raises(InvalidStorageRequest, match="'etc' is a symbolic link leading outside"):
            parse_probe(out, "etc/passwd")

    def test_link_outside_and_back_is_refused(self) -> None:
        # every prefix must stay inside, even if a later one comes back under /v
        out = ROOT + rec("Ld", "/tmp") + rec("Lf", "/v/x")
        with pytest.raises(InvalidStorageRequest, match="outside"):
            parse_probe(out, "t/x")

    def test_dangling_link(self) -> None:
        with pytest.raises(InvalidStorageRequest, match="symbolic link to nothing"):
            parse_probe(ROOT + rec("Ln"), "gone")

    def test_unresolvable_link(self) -> None:
        with pytest.raises(InvalidStorageRequest, match="cannot be resolved"):
            parse_probe(ROOT + rec("Ld", ""), "loop/x")

    def test_file_in_the_middle(self) -> None:
        out = ROOT + rec("-f", "/v/a", "1")
        with pytest.raises(InvalidStorageRequest, match="'a' is not a directory"):
            parse_probe(out, "a/b")

    def test_root_must_be_the_root(self) -> None:
        with pytest.raises(InvalidStorageRequest, match="outside"):
            parse_probe(rec("-d", "/"), "")

    def test_not_canonical_real_path_is_refused(self) -> None:
        with pytest.raises(InvalidStorageRequest, match="outside"):
            parse_probe(ROOT + rec("Ld", "/v/../etc"), "x")

    def test_non_utf8_real_path(self) -> None:
        out = ROOT + b"Lf\0/v/\xff\n\0\0"
        with pytest.raises(InvalidStorageRequest, match="not valid UTF-8"):
            parse_probe(out, "x")

    @pytest.mark.parametrize(
        "garbage", [b"", b"-d\0/v\n\0", b"xx\0\0\0", ROOT + rec("-d", "/v/a") + rec("-d", "/v/a/b")]
    )
    def test_garbage_is_temporary(self, garbage: bytes) -> None:
        with pytest.raises(TemporaryError):
            parse_probe(garbage, "a")

    def test_missing_root_is_temporary(self) -> None:
        with pytest.raises(TemporaryError):
            parse_probe(rec("-n"), "")


def listing(*batches: list[tuple[str, str]]) -> bytes:
    """LIST_SCRIPT output: batches of (stat line, name)."""
    out = b""
    for batch in batches:
        out += f"{len(batch)}\n".encode()
        out += b"".join(line.encode() + b"\n" for line, _ in batch)
        out += b"".join(name.encode() + b"\0" for _, name in batch)
    return out


class TestParseListing:
    def test_entries_are_shown_below_the_asked_path(self) -> None:
        out = listing(
            [("5 1700000000 81a4", "/v/real/f.txt"), ("4096 1700000001 41ed", "/v/real/sub")],
            [("7 1700000002 a1ff", "/v/real/ln")],
        )
        entries = parse_listing(out, "/v/real", "link")
        assert [(e.path, e.size, e.is_dir, e.is_symlink) for e in entries] == [
            ("link/f.txt", 5, False, False),
            ("link/ln", 0, False, True),
            ("link/sub", 0, True, False),
        ]
        assert entries[0].mtime == datetime.fromtimestamp(1700000000, tz=UTC)

    def test_root_listing_and_single_entry(self) -> None:
        out = listing([("5 0 81a4", "/v/a")])
        assert [e.path for e in parse_listing(out, "/v", "")] == ["a"]
        assert [e.path for e in parse_listing(out, "/v/a", "x/y")] == ["x/y"]

    def test_names_with_newlines(self) -> None:
        out = listing([("1 0 81a4", "/v/a\nb"), ("2 0 81a4", "/v/c")])
        assert [(e.path, e.size) for e in parse_listing(out, "/v", "")] == [("a\nb", 1), ("c", 2)]

    def test_hidden(self) -> None:
        out = listing([("1 0 81a4", "/v/.pods-snapshot.json"), ("2 0 81a4", "/v/c")])
        assert [
            e.path for e in parse_listing(out, "/v", "", frozenset({"/v/.pods-snapshot.json"}))
        ] == ["c"]

    def test_empty(self) -> None:
        assert parse_listing(b"", "/v", "") == []

    @pytest.mark.parametrize(
        "broken",
        [
            b"2\n5 0 81a4\n/v/a\0",  # a stat line missing (file vanished)
            b"1\nstat: can't stat\n/v/a\0",
            b"1\n5 0 81a4\n/v/a",
            b"x\n",
            b"1\n5 0 81a4\n/elsewhere\0",
        ],
    )
    def test_inconsistent_output_is_temporary(self, broken: bytes) -> None:
        with pytest.raises(TemporaryError, match="changed while"):
            parse_listing(broken, "/v", "")


def test_parse_sizes() -> None:
    assert parse_sizes(b"") == 0
    assert parse_sizes(b"1\n20\n300\n") == 321
    with pytest.raises(TemporaryError):
        parse_sizes(b"1\nnope\n")


def test_upload_tar_holds_missing_dirs_then_the_file() -> None:
    data = upload_tar(["a", "b"], "c.txt", b"hello", mtime=1700000000.5, uid=1000, gid=100)
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        members = tar.getmembers()
        assert [(m.name, m.type, m.mode) for m in members] == [
            ("a", tarfile.DIRTYPE, 0o755),
            ("a/b", tarfile.DIRTYPE, 0o755),
            ("a/b/c.txt", tarfile.REGTYPE, 0o644),
        ]
        assert {(m.uid, m.gid, m.mtime) for m in members} == {(1000, 100, 1700000000)}
        handle = tar.extractfile(members[-1])
        assert handle is not None and handle.read() == b"hello"


def test_upload_tar_long_and_unicode_names() -> None:
    name = "é" * 127 + "x"
    data = upload_tar(["d" * 200], name, b"", mtime=0)
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        assert tar.getnames() == ["d" * 200, f"{'d' * 200}/{name}"]


def test_marker_roundtrip_and_mismatch() -> None:
    key, source = SnapshotKey("dev", "snap1"), VolumeKey("dev", "vol1")
    raw = marker_bytes(key, source, "a", 42, "token1")
    assert marker_size(raw, key, "token1") == 42
    assert marker_size(raw, key, "token2") is None  # a marker copied from elsewhere
    assert marker_size(raw, SnapshotKey("dev", "snap2"), "token1") is None
    assert marker_size(raw, key, "") is None
    assert marker_size(b"not json", key, "token1") is None
    assert marker_size(b"[1]", key, "token1") is None


def test_api_versions() -> None:
    assert api_version_at_least("1.45", (1, 45))
    assert api_version_at_least("1.47", (1, 45))
    assert api_version_at_least("2.0", (1, 45))
    assert not api_version_at_least("1.41", (1, 45))
    assert not api_version_at_least("1.5", (1, 45))
    assert not api_version_at_least("", (1, 45))


def test_docker_mount() -> None:
    spec = MountSpec(StorageKind.VOLUME, "pods-x-vol-dev-vol1", "/data", False)
    assert docker_mount(spec) == {
        "Type": "volume",
        "Source": "pods-x-vol-dev-vol1",
        "Target": "/data",
        "ReadOnly": False,
        "VolumeOptions": {"NoCopy": True},
    }
    sub = MountSpec(StorageKind.SNAPSHOT, "n", "/s", True, sub_path="a/b")
    assert docker_mount(sub)["VolumeOptions"] == {"NoCopy": True, "Subpath": "a/b"}
    assert docker_mount(sub)["ReadOnly"] is True


def test_split_trailer() -> None:
    assert split_trailer(b"out\0pods-end 0\0") == (b"out", 0)
    assert split_trailer(b"-d\0/v\n\0\0\0pods-end 3\0") == (b"-d\0/v\n\0\0", 3)
    assert split_trailer(b"\0pods-end 1\0") == (b"", 1)
    assert split_trailer(b"out") == (b"out", None)  # cut short
    assert split_trailer(b"out\0pods-end 0") == (b"out\0pods-end 0", None)
    assert split_trailer(b"") == (b"", None)


class StubSession:
    """Answers exec with the given outputs in turn, as a loaded engine might."""

    def __init__(self, *outputs: bytes) -> None:
        self.outputs = list(outputs)
        self.commands: list[list[str]] = []

    def exec(self, argv: Sequence[str]) -> tuple[bytes, bytes]:
        self.commands.append(list(argv))
        return self.outputs.pop(0), b""

    def put(self, directory: str, archive: bytes) -> None:
        raise AssertionError("not used")

    def read_chunks(self, real: str, size: int, shown: str) -> Iterator[bytes]:
        raise AssertionError("not used")


def test_helper_run_repeats_a_cut_short_answer(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(helper_ops, "EXEC_RETRY_PAUSES", (0.0, 0.0))
    session = StubSession(b"", b"partial", b"whole\0pods-end 0\0")
    shell = helper_ops.HelperShell(session)
    assert shell.run(["realpath", "/v/a"]) == (0, b"whole", b"")
    assert len(session.commands) == 3
    assert session.commands[0] == [
        "sh",
        "-c",
        helper_answers.WRAP_SCRIPT,
        "wrap",
        "realpath",
        "/v/a",
    ]


def test_helper_run_gives_up(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(helper_ops, "EXEC_RETRY_PAUSES", (0.0,))
    shell = helper_ops.HelperShell(StubSession(b"", b""))
    with pytest.raises(TemporaryError, match="cut short"):
        shell.run(["find", "/v"])
