"""Translates Docker SDK and transport errors into our TemporaryError / PermanentError, in
one place. Used by the two Docker adapters: runtime.py (containers) and volumes.py (volumes);
only adapters import docker."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import docker.errors
import requests.exceptions

from services.common.outcomes import PermanentError, TemporaryError


def docker_api_error(action: str, exc: docker.errors.APIError, vanished: str) -> Exception:
    """Our error for an engine answer: a 404 (`vanished` meanwhile), a 409 or a 5xx may
    pass if tried again; any other refusal will not."""
    status = exc.status_code
    detail = exc.explanation or str(exc)
    if isinstance(exc, docker.errors.NotFound):
        return TemporaryError(f"{action}: {vanished} vanished meanwhile ({detail})")
    if status is None or status >= 500 or status == 409:
        return TemporaryError(f"{action}: docker engine error {status}: {detail}")
    return PermanentError(f"{action}: docker refused ({status}): {detail}")


@contextlib.contextmanager
def translated_docker_errors(action: str, vanished: str) -> Iterator[None]:
    """Turns SDK and transport errors raised inside into TemporaryError / PermanentError."""
    try:
        yield
    except docker.errors.APIError as exc:
        raise docker_api_error(action, exc, vanished) from exc
    except (docker.errors.DockerException, requests.exceptions.RequestException) as exc:
        raise TemporaryError(f"{action}: docker engine unreachable: {exc}", delay=5.0) from exc
