"""What the storage helper runs and what its answers mean: the shell scripts and argument
lists sent into a helper (a short-lived container or Kubernetes pod with a volume mounted at
HELPER_ROOT), the parsers of their output, the tar stream of an upload and the snapshot
completion marker. Pure: no I/O, unit-tested without an engine.

Called by helper_ops (which runs these commands through a HelperSession) and by the two
stores that provide sessions: platforms/docker/volumes.DockerVolumeStore and
platforms/kubernetes/volumes.KubernetesVolumeStore. The scripts are constants; user data only ever
reaches them as positional arguments.
"""

from __future__ import annotations

import io
import json
import re
import stat as stat_module
import tarfile
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from services.common.outcomes import TemporaryError
from services.common.storage import paths
from services.common.storage.types import (
    FileEntry,
    InvalidStorageRequest,
    SnapshotKey,
    VolumeKey,
)

HELPER_ROOT = "/v"  # where the volume (or snapshot) being worked on is mounted
COPY_TARGET = "/s"  # where a snapshot being filled is mounted, next to its source at /v
HELPER_LIFETIME_S = 3600  # a helper removes itself after this long, should we crash
# Capabilities a helper keeps (all others dropped): reading and copying files of any owner.
HELPER_CAPABILITIES = ("CHOWN", "DAC_OVERRIDE", "DAC_READ_SEARCH", "FOWNER", "FSETID")
DEFAULT_MAX_TRANSFER_BYTES = 256 * 1024 * 1024
SNAPSHOT_MARKER = ".pods-snapshot.json"
_MARKER_SCHEME = "pods-snapshot-v1"
# Label (Docker) or annotation (Kubernetes) keys on the storage objects themselves.
LABEL_CREATED_AT = "org.pods-service.created-at"
# A snapshot's random token, repeated in its marker (a label name, not a secret).
LABEL_COPY_TOKEN = "org.pods-service.copy-token"  # noqa: S105

# Resolves every prefix of a path below the mount root. $1: the root (/v); $2: the
# normalized relative path (segments split on '/', globbing off). For each prefix it prints
# "<L or ->" "<d|f|o|n>" NUL, realpath's output (nothing for a missing or unresolvable
# path) NUL, the size of a regular file NUL; it stops after the first prefix that is not a
# directory. User data only ever arrives as "$1"/"$2"/"$p".
PROBE_SCRIPT = r"""
set -f
p=$1
probe() {
  if [ -L "$p" ]; then l=L; else l=-; fi
  if [ -d "$p" ]; then k=d; elif [ -f "$p" ]; then k=f; elif [ -e "$p" ]; then k=o; else k=n; fi
  printf '%s%s\0' "$l" "$k"
  if [ "x$l$k" != "x-n" ]; then realpath "$p" 2>/dev/null; fi
  printf '\0'
  if [ "$k" = f ]; then stat -L -c %s "$p" 2>/dev/null; fi
  printf '\0'
}
probe
IFS=/
for s in $2; do
  [ "$k" = d ] || break
  p=$p/$s
  probe
done
"""

# Run by `find ... -exec sh -c LIST_SCRIPT sh {} +`: per batch, the number of names, one
# "size mtime rawmode" line per name (lstat: links are not followed), then the names, each
# NUL-terminated (names may contain newlines).
LIST_SCRIPT = r"""
printf '%d\n' "$#"
stat -c '%s %Y %f' -- "$@" || exit 1
printf '%s\0' "$@"
"""

# Runs "$@" and then prints a trailer with its exit status: NUL "pods-end <status>" NUL.
WRAP_SCRIPT = r"""
"$@"
status=$?
printf '\0pods-end %d\0' "$status"
"""
EXEC_RETRY_PAUSES = (0.05, 0.2, 0.5)

_STAT_LINE = re.compile(rb"(\d+) (\d+) ([0-9a-f]+)")
_TRAILER = re.compile(rb"\0pods-end (\d+)\0\Z")


@dataclass(frozen=True)
class Resolved:
    """Where a user path leads inside the helper.

    `real` is the realpath of the path itself when it exists, else of its deepest existing
    prefix (always a directory); `missing` are the segments below `real` that do not exist
    yet; `kind` is "d" (directory), "f" (regular file), "o" (something else) or "n"
    (absent); `size` is a regular file's size."""

    relative: str
    real: str
    kind: str
    missing: tuple[str, ...] = ()
    size: int = 0

    @property
    def exists(self) -> bool:
        return self.kind != "n"


def parse_probe(output: bytes, relative: str, root: str = HELPER_ROOT) -> Resolved:
    """Checks PROBE_SCRIPT's output for `relative` and says where the path leads.

    InvalidStorageRequest when a prefix is a link leading outside `root`, a link to nothing,
    unresolvable, or not a directory although the path goes on below it."""
    fields = output.split(b"\0")
    if len(fields) < 4 or len(fields) % 3 != 1 or fields[-1] != b"":
        raise TemporaryError(f"unexpected answer from the storage helper: {output[:200]!r}")
    segs = paths.segments(relative)
    records = [fields[i : i + 3] for i in range(0, len(fields) - 1, 3)]
    if len(records) > len(segs) + 1:
        raise TemporaryError("the storage helper resolved more prefixes than the path has")
    previous_real = root
    for index, (flags, real_raw, size_raw) in enumerate(records):
        prefix = "/".join(segs[:index])
        if len(flags) != 2 or flags[:1] not in (b"L", b"-") or flags[1:] not in b"dfon":
            raise TemporaryError(f"unexpected answer from the storage helper: {flags!r}")
        is_link, kind = flags[:1] == b"L", flags[1:].decode()
        if kind == "n":
            if is_link:
                raise InvalidStorageRequest(
                    f"{paths.describe(prefix)} is a symbolic link to nothing"
                )
            if index == 0:
                raise TemporaryError("the volume is not mounted in the storage helper")
            return Resolved(relative, previous_real, "n", missing=segs[index - 1 :])
        real_bytes = real_raw[:-1] if real_raw.endswith(b"\n") else real_raw
        try:
            real = real_bytes.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise InvalidStorageRequest(
                f"{paths.describe(prefix)} leads to a name that is not valid UTF-8"
            ) from exc
        if not real:
            raise InvalidStorageRequest(
                f"{paths.describe(prefix)} cannot be resolved (a link loop?)"
            )
        if not paths.is_within(root, real) or (index == 0 and real != root):
            raise InvalidStorageRequest(
                f"{paths.describe(prefix)} is a symbolic link leading outside the volume; refused"
            )
        if index == len(segs):
            size = int(size_raw) if kind == "f" and size_raw.strip().isdigit() else 0
            return Resolved(relative, real, kind, size=size)
        if kind != "d":
            raise InvalidStorageRequest(f"{paths.describe(prefix)} is not a directory")
        previous_real = real
    raise TemporaryError("the storage helper stopped resolving the path early")


def mtime_of(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, tz=UTC)


def parse_listing(
    output: bytes, real_base: str, shown_base: str, hidden: frozenset[str] = frozenset()
) -> list[FileEntry]:
    """FileEntries from LIST_SCRIPT's output, sorted by path.

    Names found below `real_base` are shown below `shown_base` (the path the caller asked
    for); `real_base` itself is shown as `shown_base`. Names in `hidden` (real paths) are
    left out. Names that are not UTF-8 are shown with U+FFFD in place of the bad bytes."""
    entries: list[FileEntry] = []
    pos = 0
    try:
        while pos < len(output):
            newline = output.index(b"\n", pos)
            count, pos = int(output[pos:newline]), newline + 1
            stats = []
            for _ in range(count):
                newline = output.index(b"\n", pos)
                match = _STAT_LINE.fullmatch(output[pos:newline])
                if match is None:
                    raise ValueError(output[pos:newline])
                stats.append(match)
                pos = newline + 1
            for match in stats:
                end = output.index(b"\0", pos)
                name = output[pos:end].decode("utf-8", errors="replace")
                pos = end + 1
                if name in hidden:
                    continue
                entries.append(_entry(match, name, real_base, shown_base))
    except ValueError as exc:
        raise TemporaryError("the directory changed while it was being listed; try again") from exc
    return sorted(entries, key=lambda entry: entry.path)


def _entry(match: re.Match[bytes], name: str, real_base: str, shown_base: str) -> FileEntry:
    prefix = real_base.rstrip("/") + "/"
    if name == real_base:
        shown = shown_base
    elif name.startswith(prefix):
        rest = name[len(prefix) :]
        shown = f"{shown_base}/{rest}" if shown_base else rest
    else:
        raise ValueError(f"{name!r} is not below {real_base!r}")
    mode = int(match[3], 16)
    is_dir, is_file = stat_module.S_ISDIR(mode), stat_module.S_ISREG(mode)
    return FileEntry(
        path=shown,
        size=int(match[1]) if is_file else 0,
        is_dir=is_dir,
        mtime=mtime_of(int(match[2])),
        is_symlink=stat_module.S_ISLNK(mode),
    )


def split_trailer(output: bytes) -> tuple[bytes, int | None]:
    """The command's own output and exit status from WRAP_SCRIPT's output; status None
    when the trailer is missing (the output was cut short)."""
    match = _TRAILER.search(output)
    if match is None:
        return output, None
    return output[: match.start()], int(match[1])


def parse_sizes(output: bytes) -> int:
    """The sum of the sizes `stat -c %s` printed, one per line."""
    try:
        return sum(int(line) for line in output.split())
    except ValueError as exc:
        raise TemporaryError(f"unexpected sizes from the storage helper: {output[:200]!r}") from exc


def upload_tar(
    missing_dirs: Sequence[str],
    name: str,
    data: bytes,
    *,
    mtime: float,
    uid: int = 0,
    gid: int = 0,
) -> bytes:
    """A tar holding the directories `missing_dirs` (nested, in order) and the file `name`
    inside the last of them, with `data`; for put_archive into an existing directory."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for depth in range(1, len(missing_dirs) + 1):
            info = tarfile.TarInfo("/".join(missing_dirs[:depth]))
            info.type, info.mode = tarfile.DIRTYPE, 0o755
            info.mtime, info.uid, info.gid = int(mtime), uid, gid
            tar.addfile(info)
        info = tarfile.TarInfo("/".join([*missing_dirs, name]))
        info.size, info.mode = len(data), 0o644
        info.mtime, info.uid, info.gid = int(mtime), uid, gid
        tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def marker_bytes(
    key: SnapshotKey, source: VolumeKey, source_path: str, size: int, token: str
) -> bytes:
    """The JSON of a snapshot's completion marker."""
    document = {
        "scheme": _MARKER_SCHEME,
        "tenant_id": key.tenant_id,
        "snapshot_id": key.snapshot_id,
        "source_volume_id": source.volume_id,
        "source_path": source_path,
        "size_bytes": size,
        "copy_token": token,
        "taken_at": datetime.now(UTC).isoformat(),
    }
    return json.dumps(document, sort_keys=True).encode()


def marker_size(raw: bytes, key: SnapshotKey, token: str) -> int | None:
    """The copy's size if `raw` is this snapshot volume's marker, else None (incomplete)."""
    try:
        document = json.loads(raw)
    except ValueError:
        return None
    if not isinstance(document, dict):
        return None
    expected = {
        "scheme": _MARKER_SCHEME,
        "tenant_id": key.tenant_id,
        "snapshot_id": key.snapshot_id,
        "copy_token": token,
    }
    if not token or any(document.get(field) != value for field, value in expected.items()):
        return None
    size = document.get("size_bytes")
    return size if isinstance(size, int) and not isinstance(size, bool) else None


def tail(data: bytes, limit: int = 300) -> str:
    """The end of a command's stderr as text, for an error message."""
    text = data.decode("utf-8", errors="replace").strip()
    return text if len(text) <= limit else "..." + text[-limit:]
