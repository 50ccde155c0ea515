"""Pure path confinement for volume and snapshot files: no I/O, no Docker.

Called by the stores (services/spawner/platforms/*/volumes.py, fake) before anything touches a
volume, and usable by the API layer to reject bad input early. Every user path is relative to
the volume root; `normalize` turns it into one canonical form ("" for the root, otherwise
segments joined by '/') or raises PathError. What it cannot see is the volume's content: a
symbolic link planted inside the volume is the store's business (helper_ops resolves each
prefix inside the helper container or pod and checks the result with `is_within`).

Rules for user paths (`normalize`):
- text only, valid UTF-8, no NUL byte and no other control character (0x00-0x1f, 0x7f);
- at most MAX_PATH_BYTES bytes (UTF-8) in all, at most MAX_SEGMENT_BYTES per segment;
- relative: a leading '/' is refused rather than silently stripped;
- no '..' segment at all (even one that would stay inside: it would be resolved lexically
  here but through symbolic links by the kernel, and the two can disagree);
- no empty segment ('a//b'); one trailing '/' is accepted and dropped; '.' segments are
  dropped, so '', '.', './' and '/'-free equivalents all mean the root.

Mount targets inside a pod's container (`normalize_mount_path`) follow the same segment rules
but are absolute, not '/', and not under /proc, /sys or /dev.
"""

from __future__ import annotations

import posixpath

MAX_PATH_BYTES = 4096
MAX_SEGMENT_BYTES = 255
RESERVED_MOUNT_ROOTS = ("/proc", "/sys", "/dev")


class PathError(ValueError):
    """A path a user gave is not acceptable; the message says why and names the path."""


def _show(path: str) -> str:
    """The path for an error message: quoted, escaped and shortened."""
    text = repr(path)
    return text if len(text) <= 80 else f"{text[:60]}...{text[-16:]}"


def _check_text(path: str, what: str) -> None:
    if not isinstance(path, str):
        raise PathError(f"{what} must be text, not {type(path).__name__}")
    if "\x00" in path:
        raise PathError(f"{what} {_show(path)} contains a NUL byte")
    if any(ord(char) < 0x20 or ord(char) == 0x7F for char in path):
        raise PathError(f"{what} {_show(path)} contains a control character")
    try:
        size = len(path.encode("utf-8"))
    except UnicodeEncodeError as exc:
        raise PathError(f"{what} {_show(path)} is not valid UTF-8") from exc
    if size > MAX_PATH_BYTES:
        raise PathError(f"{what} is {size} bytes long; at most {MAX_PATH_BYTES} are allowed")


def _clean_segments(path: str, text: str, what: str) -> list[str]:
    """The meaningful segments of `text` (a path without its leading '/', if any)."""
    if text.endswith("/"):
        text = text[:-1]
    if not text:
        return []
    kept: list[str] = []
    for segment in text.split("/"):
        if segment == "":
            raise PathError(f"{what} {_show(path)} has an empty segment ('//')")
        if segment == "..":
            raise PathError(f"{what} {_show(path)} contains '..', which is not allowed")
        if segment == ".":
            continue
        if len(segment.encode("utf-8")) > MAX_SEGMENT_BYTES:
            raise PathError(
                f"{what} {_show(path)} has a segment longer than {MAX_SEGMENT_BYTES} bytes"
            )
        kept.append(segment)
    return kept


def normalize(path: str, what: str = "path") -> str:
    """The canonical form of a user path relative to a volume root ("" is the root).

    Raises PathError (a ValueError) for anything the module docstring refuses."""
    _check_text(path, what)
    if path.startswith("/"):
        raise PathError(
            f"{what} {_show(path)} is absolute; give a path relative to the volume root"
        )
    return "/".join(_clean_segments(path, path, what))


def describe(relative: str) -> str:
    """A normalized relative path for messages: quoted, or "the volume root"."""
    return f"'{relative}'" if relative else "the volume root"


def segments(relative: str) -> tuple[str, ...]:
    """The segments of an already normalized relative path (() for the root)."""
    return tuple(relative.split("/")) if relative else ()


def join(root: str, relative: str) -> str:
    """`root` (an absolute directory such as "/v") followed by a normalized relative path."""
    return f"{root}/{relative}" if relative else root


def parent_and_name(relative: str) -> tuple[str, str]:
    """The normalized parent and the last segment of a non-root relative path."""
    if not relative:
        raise PathError("the volume root has no parent")
    parent, _, name = relative.rpartition("/")
    return parent, name


def is_within(root: str, candidate: str) -> bool:
    """True if the absolute path `candidate` is `root` or lies below it (purely textual:
    pass a path already resolved, such as `realpath` output)."""
    if not candidate.startswith("/") or "\x00" in candidate:
        return False
    if posixpath.normpath(candidate) != candidate and candidate != root:
        return False  # not canonical ('..', '//', trailing '/'): not a resolved path
    return candidate == root or candidate.startswith(root.rstrip("/") + "/")


def relative_to(root: str, candidate: str) -> str:
    """The part of `candidate` below `root`, "" for the root itself; PathError if outside."""
    if not is_within(root, candidate):
        raise PathError(f"{_show(candidate)} is outside {root}")
    return candidate[len(root) :].lstrip("/")


def normalize_mount_path(path: str) -> str:
    """The canonical absolute mount target inside a pod's container.

    Same segment rules as `normalize`; must be absolute, not '/' and not under /proc, /sys
    or /dev."""
    what = "mount path"
    _check_text(path, what)
    if not path.startswith("/"):
        raise PathError(f"{what} {_show(path)} must be absolute (start with '/')")
    kept = _clean_segments(path, path[1:], what)
    if not kept:
        raise PathError(f"{what} may not be '/'")
    target = "/" + "/".join(kept)
    for reserved in RESERVED_MOUNT_ROOTS:
        if target == reserved or target.startswith(reserved + "/"):
            raise PathError(f"{what} {_show(path)} is under {reserved}, which is reserved")
    return target
