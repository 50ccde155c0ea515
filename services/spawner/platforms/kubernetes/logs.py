"""Log cursors over the kubelet's timestamped output. Pure; called by
runtime.KubernetesRuntime.logs_since.

With `timestamps=true` every line the kubelet returns starts with the RFC 3339 time (nanosecond
precision) the container runtime recorded for it, then a space. The cursor we hand out is the
stamp of the newest line returned. The API's `sinceTime` is honoured to the second only (the
API server passes it on to the kubelet in seconds), so a read asks from the cursor's second
and drops the lines not strictly after the cursor. `limitBytes` cuts the output anywhere, so a
read that came back full keeps only its complete lines and the next page starts after them.
"""

from __future__ import annotations

import calendar
import re
import time

_LINE = re.compile(r"[^\n]*\n|[^\n]+$")
_STAMP = re.compile(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?(Z|[+-]\d\d:\d\d)", re.ASCII)


def stamp_nanos(stamp: str) -> int | None:
    """Nanoseconds since the epoch of an RFC 3339 stamp, None if `stamp` is not one."""
    match = _STAMP.fullmatch(stamp)
    if match is None:
        return None
    seconds = calendar.timegm(time.strptime(match[1], "%Y-%m-%dT%H:%M:%S"))
    zone = match[3]
    if zone != "Z":
        sign = 1 if zone[0] == "+" else -1
        seconds -= sign * (int(zone[1:3]) * 3600 + int(zone[4:6]) * 60)
    return seconds * 1_000_000_000 + int((match[2] or "0").ljust(9, "0"))


def since_time(after_nanos: int) -> str:
    """The `sinceTime` query value to read everything after `after_nanos`: its whole second,
    in UTC (the API keeps whole seconds; the overlap is dropped by `lines_after`)."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(after_nanos // 1_000_000_000))


def complete_lines(output: str, full: bool) -> str:
    """`output` without its last, unfinished line when the read was cut by the byte limit
    (`full`); all of it otherwise (a container may end without a final newline)."""
    if not full or output.endswith("\n"):
        return output
    cut = output.rfind("\n")
    return output[: cut + 1]


def lines_after(output: str, after: int | None) -> tuple[str, str]:
    """The lines of timestamped `output` stamped strictly after `after` (all if None), without
    their stamps, and the newest stamp among them ("" if none)."""
    kept: list[str] = []
    newest, newest_stamp = (after if after is not None else -1), ""
    for line in _LINE.findall(output):
        stamp, _, body = line.partition(" ")
        nanos = stamp_nanos(stamp)
        if nanos is None:
            continue  # not a log line (the kubelet stamps every line)
        if after is not None and nanos <= after:
            continue
        kept.append(body)
        if nanos > newest:
            newest, newest_stamp = nanos, stamp
    return "".join(kept), newest_stamp
