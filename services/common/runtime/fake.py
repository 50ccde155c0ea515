"""FakeRuntime: an in-memory Runtime with DockerRuntime's semantics, for fast unit tests.

Used by the unit tests of services/spawner and services/health (and anything else that takes
a Runtime). Deterministic: a fake clock that ticks one second per reading, loopback ports
handed out in order, events delivered through an asyncio.Queue in the order things happened.

Besides the Runtime methods it offers test hooks: `exit` (the container stops with a code,
optionally out of memory), `fail_ensure` (the next ensures raise a given error),
`add_foreign` (a container we do not own holds the pod's name), `add_created` (a container
created but never started, as after a crash), `write_logs`, `emit`, `drain_events`, `break_watch`,
`missing_images`, and `calls` (every Runtime call, in order). Log cursors are opaque line
counts here; callers must only pass back what they were given.

One queue feeds `watch`: with several watchers each event reaches only one of them.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from services.common.outcomes import PermanentError, TemporaryError
from services.common.runtime.naming import container_name, tail_text, validate_slug, with_hash
from services.common.runtime.types import (
    ContainerSpec,
    ContainerState,
    EnsureResult,
    ExecResult,
    LogChunk,
    Phase,
    PodKey,
    RuntimeEvent,
)

FIRST_HOST_PORT = 40000
_LINE = re.compile(r"[^\n]*\n|[^\n]+$")
_EPOCH = datetime(2024, 1, 1, tzinfo=UTC)


def ticking_clock(
    start: datetime = _EPOCH, step: timedelta = timedelta(seconds=1)
) -> Callable[[], datetime]:
    """A clock returning `start`, then `start + step`, ... one step per reading."""
    ticks = 0

    def now() -> datetime:
        nonlocal ticks
        ticks += 1
        return start + step * (ticks - 1)

    return now


@dataclass
class _Container:
    """One fake container; mutable, unlike the ContainerState snapshots handed out."""

    spec: ContainerSpec
    name: str
    phase: Phase = Phase.CREATED
    exit_code: int | None = None
    error: str = ""
    started_at: datetime | None = None
    finished_at: datetime | None = None
    published: dict[int, int] = field(default_factory=dict)
    log_lines: list[str] = field(default_factory=list)
    files: dict[str, bytes] = field(default_factory=dict)  # copied in, by path

    def snapshot(self) -> ContainerState:
        return ContainerState(
            key=self.spec.key,
            name=self.name,
            phase=self.phase,
            spec_hash=self.spec.spec_hash,
            exit_code=self.exit_code,
            error=self.error,
            started_at=self.started_at,
            finished_at=self.finished_at,
            published=dict(self.published),
            run=self.spec.run,
        )


@dataclass
class _Failure:
    error: Exception
    key: PodKey | None  # None: any pod
    remaining: int | None  # None: until clear_failures()


class FakeRuntime:
    """In-memory Runtime for one deployment. See the module docstring for the test hooks."""

    def __init__(
        self,
        deployment_id: str = "fake",
        *,
        clock: Callable[[], datetime] | None = None,
        first_host_port: int = FIRST_HOST_PORT,
    ) -> None:
        self.deployment_id = validate_slug("deployment id", deployment_id)
        self.calls: list[tuple[str, PodKey | None]] = []
        self.missing_images: set[str] = set()
        self.exec_results: dict[tuple[str, ...], ExecResult] = {}
        self._clock = clock or ticking_clock()
        self._next_port = first_host_port
        self._containers: dict[PodKey, _Container] = {}
        self._foreign: set[PodKey] = set()
        self._failures: list[_Failure] = []
        self._events: asyncio.Queue[RuntimeEvent | Exception] = asyncio.Queue()

    # the Runtime protocol

    async def ensure(self, spec: ContainerSpec) -> EnsureResult:
        """Same decisions as DockerRuntime.ensure: created, started, adopted or replaced."""
        self.calls.append(("ensure", spec.key))
        self._raise_planned_failure(spec.key)
        name = self._name(spec.key)
        if spec.key in self._foreign:
            raise PermanentError(f"a container named {name!r} exists that we did not create")
        spec = spec if spec.spec_hash else with_hash(spec)
        current = self._containers.get(spec.key)
        if current is None:
            return self._create_and_start(spec, "created")
        if current.spec.spec_hash != spec.spec_hash:
            self._destroy(spec.key)
            return self._create_and_start(spec, "replaced")
        if current.phase is Phase.CREATED:
            self._start(current)
            return EnsureResult("started", current.snapshot())
        return EnsureResult("adopted", current.snapshot())

    async def remove(self, key: PodKey) -> bool:
        """Removes the pod's container; False if there was none (or it is not ours)."""
        self.calls.append(("remove", key))
        if key not in self._containers:
            return False
        self._destroy(key)
        return True

    async def inspect(self, key: PodKey) -> ContainerState | None:
        """The pod's container, or None."""
        self.calls.append(("inspect", key))
        container = self._containers.get(key)
        return None if container is None else container.snapshot()

    async def list_managed(self) -> list[ContainerState]:
        """Every container of this deployment, ordered by key."""
        self.calls.append(("list_managed", None))
        return [self._containers[key].snapshot() for key in sorted(self._containers)]

    async def logs_since(self, key: PodKey, cursor: str, limit_bytes: int) -> LogChunk:
        """Lines written after `cursor` (a line count), at most their last `limit_bytes`."""
        self.calls.append(("logs_since", key))
        if cursor and not cursor.isdigit():
            raise PermanentError(f"log cursor {cursor!r} was not made by this runtime")
        container = self._containers.get(key)
        if container is None:
            return LogChunk(text="", cursor=cursor)
        new = container.log_lines[int(cursor or "0") :]
        text = tail_text("".join(new), limit_bytes)
        return LogChunk(text=text, cursor=str(len(container.log_lines)) if new else cursor)

    async def exec(
        self, key: PodKey, argv: Sequence[str], timeout: float, limit_bytes: int
    ) -> ExecResult:
        """A scripted result from `exec_results` (by argv); else `echo` prints its arguments
        and any other command its whole argv. Output keeps its last `limit_bytes` bytes, as
        DockerRuntime's does."""
        self.calls.append(("exec", key))
        container = self._containers.get(key)
        if container is None or container.phase is not Phase.RUNNING:
            raise PermanentError(f"pod '{key.pod_id}' has no running container")
        scripted = self.exec_results.get(tuple(argv))
        if scripted is not None:
            return scripted
        printed = argv[1:] if argv and argv[0].rsplit("/", 1)[-1] == "echo" else argv
        output = (" ".join(printed) + "\n").encode()[-limit_bytes:]
        return ExecResult(exit_code=0, stdout=output.decode(errors="replace"), stderr="")

    async def copy_into(self, key: PodKey, dest_path: str, data: bytes) -> None:
        """Keeps the file in the container's `files`; every directory exists."""
        self.calls.append(("copy_into", key))
        container = self._containers.get(key)
        if container is None or container.phase is not Phase.RUNNING:
            raise PermanentError(f"pod '{key.pod_id}' has no running container")
        container.files[dest_path] = data

    def files(self, key: PodKey) -> dict[str, bytes]:
        """Test hook: the files copied into the pod's container."""
        return dict(self._containers[key].files)

    def watch(self) -> AsyncIterator[RuntimeEvent]:
        """Events in the order they happened; raises what `break_watch` put in."""
        self.calls.append(("watch", None))
        return self._watch()

    # test hooks

    def exit(self, key: PodKey, code: int = 0, *, error: str = "", oom: bool = False) -> None:
        """Makes the pod's running container stop with `code` (emits oom, then die)."""
        container = self._containers[key]
        container.phase = Phase.EXITED
        container.exit_code = code
        container.error = "out of memory" if oom else error
        container.finished_at = self._clock()
        container.published = {}
        if oom:
            self.emit(RuntimeEvent(key, "oom"))
        self.emit(RuntimeEvent(key, "die"))

    def pause(self, key: PodKey) -> None:
        """Freezes the pod's running container (docker pause); emits pause."""
        self._containers[key].phase = Phase.PAUSED
        self.emit(RuntimeEvent(key, "pause"))

    def fail_ensure(
        self, error: Exception, key: PodKey | None = None, times: int | None = 1
    ) -> None:
        """The next `times` ensures (of `key`, or of any pod) raise `error`; None: always."""
        self._failures.append(_Failure(error=error, key=key, remaining=times))

    def clear_failures(self) -> None:
        """Forgets every planned ensure failure."""
        self._failures.clear()

    def add_foreign(self, key: PodKey) -> None:
        """A container this deployment did not create now holds the pod's name."""
        self._foreign.add(key)

    def add_created(self, spec: ContainerSpec) -> ContainerState:
        """A container of ours created but never started, as if we crashed in between."""
        spec = spec if spec.spec_hash else with_hash(spec)
        container = _Container(spec=spec, name=self._name(spec.key))
        self._containers[spec.key] = container
        return container.snapshot()  # no event: Docker's watch reports none for a create

    def write_logs(self, key: PodKey, text: str) -> None:
        """Appends output to the pod's container log."""
        self._containers[key].log_lines.extend(_LINE.findall(text))

    def emit(self, event: RuntimeEvent) -> None:
        """Delivers an event to `watch`."""
        self._events.put_nowait(event)

    @property
    def events_pending(self) -> int:
        """Events emitted and not yet consumed by `watch`."""
        return self._events.qsize()

    def drain_events(self) -> list[RuntimeEvent]:
        """Takes every event not yet consumed by `watch`, in order."""
        events: list[RuntimeEvent] = []
        while not self._events.empty():
            item = self._events.get_nowait()
            if isinstance(item, RuntimeEvent):
                events.append(item)
        return events

    def break_watch(self, error: Exception | None = None) -> None:
        """Makes `watch` raise `error` (a TemporaryError by default), as if the engine left."""
        self._events.put_nowait(error or TemporaryError("fake engine went away"))

    # internals

    def _name(self, key: PodKey) -> str:
        try:
            return container_name(self.deployment_id, key)
        except ValueError as exc:
            raise PermanentError(str(exc)) from exc

    def _raise_planned_failure(self, key: PodKey) -> None:
        for failure in self._failures:
            if failure.key in (None, key):
                if failure.remaining is not None:
                    failure.remaining -= 1
                    if failure.remaining <= 0:
                        self._failures.remove(failure)
                raise failure.error

    def _create_and_start(self, spec: ContainerSpec, action: str) -> EnsureResult:
        if spec.image in self.missing_images:
            raise PermanentError(f"image '{spec.image}' is not available on this machine")
        container = _Container(spec=spec, name=self._name(spec.key))
        self._containers[spec.key] = container
        self._start(container)  # its "start" is the first event, as on Docker
        return EnsureResult(action, container.snapshot())

    def _start(self, container: _Container) -> None:
        container.phase = Phase.RUNNING
        container.started_at = self._clock()
        container.published = {
            port.port: self._take_port()
            for port in container.spec.ports
            if port.protocol != "local_only"
        }
        self.emit(RuntimeEvent(container.spec.key, "start"))

    def _take_port(self) -> int:
        self._next_port += 1
        return self._next_port - 1

    def _destroy(self, key: PodKey) -> None:
        container = self._containers.pop(key)
        if container.phase is Phase.RUNNING:
            self.emit(RuntimeEvent(key, "die"))
        self.emit(RuntimeEvent(key, "destroy"))

    async def _watch(self) -> AsyncIterator[RuntimeEvent]:
        while True:
            item = await self._events.get()
            if isinstance(item, Exception):
                raise item
            yield item
