"""The content of a FakeVolumeStore volume or snapshot: an in-memory file tree with the
confinement rules of the real stores (links followed only while they stay inside the volume;
a link leading out, to nothing, or in a loop is refused).

Used by services/common/storage/fake.py only. Pure: times come from the caller's clock.
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from services.common.storage import paths
from services.common.storage.types import (
    FileEntry,
    InvalidStorageRequest,
    StorageNotFound,
    VolumeKey,
)

ROOT = "/v"  # the volume root as links inside the fake see it (as in the Docker helper)
MAX_LINK_HOPS = 40


@dataclass
class Node:
    kind: str  # "d" directory, "f" regular file, "l" symbolic link
    mtime: datetime
    data: bytes = b""
    target: str = ""


@dataclass(frozen=True)
class Resolved:
    real: str  # relative real path of the path, or of its deepest existing prefix
    node: Node | None  # None when the path does not exist
    missing: tuple[str, ...] = ()


@dataclass
class Tree:
    """A volume's content: normalized relative path -> node; "" is the root directory."""

    nodes: dict[str, Node]

    def size(self) -> int:
        return sum(len(node.data) for node in self.nodes.values() if node.kind == "f")

    def make_dirs(self, relative: str, clock: Callable[[], datetime]) -> None:
        """Creates the missing directories of `relative`."""
        for depth in range(1, len(paths.segments(relative)) + 1):
            prefix = "/".join(paths.segments(relative)[:depth])
            node = self.nodes.get(prefix)
            if node is None:
                self.nodes[prefix] = Node("d", clock())
            elif node.kind != "d":
                raise InvalidStorageRequest(f"{paths.describe(prefix)} is not a directory")

    def write(self, real: str, data: bytes, clock: Callable[[], datetime]) -> datetime:
        """Writes a regular file at `real` (its directories made); its mtime."""
        parent, _ = paths.parent_and_name(real)
        self.make_dirs(parent, clock)
        mtime = clock()
        self.nodes[real] = Node("f", mtime, data=data)
        return mtime

    def _follow(self, base: str, target: str, shown: str, hops: int) -> str:
        """The real relative path an existing link at `base`/... with `target` leads to."""
        if hops > MAX_LINK_HOPS:
            raise InvalidStorageRequest(
                f"{paths.describe(shown)} cannot be resolved (a link loop?)"
            )
        absolute = target if target.startswith("/") else f"{paths.join(ROOT, base)}/{target}"
        absolute = posixpath.normpath(absolute)
        if not paths.is_within(ROOT, absolute):
            raise InvalidStorageRequest(
                f"{paths.describe(shown)} is a symbolic link leading outside the volume; refused"
            )
        real = ""
        for segment in paths.segments(paths.relative_to(ROOT, absolute)):
            candidate = f"{real}/{segment}" if real else segment
            node = self.nodes.get(candidate)
            if node is None:
                raise InvalidStorageRequest(
                    f"{paths.describe(shown)} is a symbolic link to nothing"
                )
            if node.kind == "l":
                candidate = self._follow(real, node.target, shown, hops + 1)
            real = candidate
        return real

    def resolve(self, relative: str) -> Resolved:
        """Where `relative` leads; the same refusals as the helpers' probe
        (services/spawner/storage/helper_answers.py)."""
        segs = paths.segments(relative)
        real = ""
        for index, segment in enumerate(segs):
            shown = "/".join(segs[: index + 1])
            candidate = f"{real}/{segment}" if real else segment
            node = self.nodes.get(candidate)
            if node is None:
                return Resolved(real, None, segs[index:])
            if node.kind == "l":
                candidate = self._follow(real, node.target, shown, 0)
                node = self.nodes[candidate]
            if index < len(segs) - 1 and node.kind != "d":
                raise InvalidStorageRequest(f"{paths.describe(shown)} is not a directory")
            real = candidate
        return Resolved(real, self.nodes[real])

    def _entry(self, node: Node, shown: str) -> FileEntry:
        return FileEntry(
            path=shown,
            size=len(node.data) if node.kind == "f" else 0,
            is_dir=node.kind == "d",
            mtime=node.mtime,
            is_symlink=node.kind == "l",
        )

    def listing(self, relative: str, recursive: bool) -> list[FileEntry]:
        resolved = self.resolve(relative)
        if resolved.node is None:
            raise StorageNotFound(f"{paths.describe(relative)} does not exist")
        if resolved.node.kind != "d":
            return [self._entry(resolved.node, relative)]
        prefix = f"{resolved.real}/" if resolved.real else ""
        entries = []
        for real, node in self.nodes.items():
            if not real or not real.startswith(prefix) or real == resolved.real:
                continue
            rest = real[len(prefix) :]
            if not recursive and "/" in rest:
                continue
            entries.append(self._entry(node, f"{relative}/{rest}" if relative else rest))
        return sorted(entries, key=lambda entry: entry.path)

    def download(self, relative: str) -> bytes:
        resolved = self.resolve(relative)
        if resolved.node is None:
            raise StorageNotFound(f"{paths.describe(relative)} does not exist")
        if resolved.node.kind == "d":
            raise InvalidStorageRequest(
                f"{paths.describe(relative)} is a directory; only files can be downloaded"
            )
        return resolved.node.data

    def copy(self, relative: str, source_key: VolumeKey, clock: Callable[[], datetime]) -> Tree:
        """A deep copy of `relative` (links copied, not followed), re-rooted."""
        resolved = self.resolve(relative)
        if resolved.node is None:
            raise StorageNotFound(
                f"{paths.describe(relative)} does not exist in volume {source_key.volume_id!r}"
            )
        root = Node("d", clock())
        if resolved.node.kind != "d":
            _, name = paths.parent_and_name(relative)
            return Tree({"": root, name: _copied(resolved.node)})
        prefix = f"{resolved.real}/" if resolved.real else ""
        nodes = {"": root}
        for real, node in self.nodes.items():
            if real and real.startswith(prefix) and real != resolved.real:
                nodes[real[len(prefix) :]] = _copied(node)
        return Tree(nodes)


def _copied(node: Node) -> Node:
    return Node(node.kind, node.mtime, data=node.data, target=node.target)
