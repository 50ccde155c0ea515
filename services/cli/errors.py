"""The one error the `pods` command reports as an API failure (exit code 1): raised by the REST
client (services/cli/client.py) for an error answer or an unreachable server, and by the watch
code for a pod that fails; the commands' error handling (services/cli/context.py) prints it."""

from __future__ import annotations


class ApiError(Exception):
    """An API call failed: `message` is the API's own (the Tapis envelope's), `status` the HTTP
    status (0 when the server could not be reached)."""

    def __init__(self, message: str, status: int = 0) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
