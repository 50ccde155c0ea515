"""Errors the API's domain raises; transport/status.py maps each to one gRPC status code."""

from __future__ import annotations

from services.common.outcomes import PodsError


class ApiError(PodsError):
    """Base of the errors a caller sees. The message is written for users."""


class InvalidArgumentError(ApiError):
    """A field breaks a rule; the message names the field and the rule."""

    def __init__(self, field: str, rule: str) -> None:
        super().__init__(f"{field}: {rule}")
        self.field = field
        self.rule = rule


class UnauthenticatedError(ApiError):
    """No token, or a token that is forged, expired or for another tenant."""


class PermissionDeniedError(ApiError):
    """The caller is known but may not do this."""


class NotFoundError(ApiError):
    """No such object, or one the caller may not see."""


class AlreadyExistsError(ApiError):
    """The id is taken."""


class FailedPreconditionError(ApiError):
    """The request is valid but the object's state does not allow it."""


class ResourceExhaustedError(ApiError):
    """A quota or a limit on what runs at once has no room for this; the message names it
    and the current use."""


class TooManyAttemptsError(ResourceExhaustedError):
    """Too many failed attempts; the caller may try again after `retry_after` seconds."""

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class UnavailableError(ApiError):
    """A dependency (database, NATS) is down; the caller may retry."""
