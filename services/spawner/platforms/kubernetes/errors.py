"""KubeError → our outcomes: which Kubernetes API failures are worth retrying.

Called by runtime.KubernetesRuntime and volumes.KubernetesVolumeStore, the
two users of client.KubeApi, so both decide the same way.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from services.common.outcomes import PermanentError, TemporaryError
from services.spawner.platforms.kubernetes.api import KubeError

UNREACHABLE_RETRY_DELAY = 5.0


def api_error(action: str, exc: KubeError) -> Exception:
    """TemporaryError for what may pass (network, conflicts, overload, a vanished object,
    expired credentials), PermanentError for what the API refuses as asked."""
    if exc.status is None:
        return TemporaryError(
            f"{action}: Kubernetes API unreachable: {exc.message}", delay=UNREACHABLE_RETRY_DELAY
        )
    if exc.status in (401, 404, 409, 410, 429) or exc.status >= 500:
        delay = UNREACHABLE_RETRY_DELAY if exc.status in (401, 429) else 1.0
        return TemporaryError(f"{action}: {exc}", delay=delay)
    return PermanentError(
        f"{action}: Kubernetes refused ({exc.status} {exc.reason}): {exc.message}"
    )


@contextlib.contextmanager
def translated_kube_errors(action: str) -> Iterator[None]:
    """Raises KubeErrors from the block as api_error says."""
    try:
        yield
    except KubeError as exc:
        raise api_error(action, exc) from exc
