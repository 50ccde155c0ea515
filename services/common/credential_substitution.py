"""Tapis's credential placeholders: `<<TAPIS_user_username>>` and `<<TAPIS_user_password>>`
in a pod's environment values, command and arguments (and in the commands of an exec) are
replaced by the pod's generated credentials, so a custom image can be handed them the way a
template hands them to its image. Pure functions; called by services/spawner/container_spec.py
(the container's environment, command and arguments) and services/api/domain/exec_credentials.py
(exec commands).

Only these two placeholders are replaced; any other `<<...>>` text is left as written (the
real service also fills in its internal admin account and tenant names, which we do not have).
The pod's record keeps the placeholders: the secret exists only in the running container and
in the command handed to the runtime, never in the stored spec, a response or a log.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from services.common.templates import Credentials

PLACEHOLDER = re.compile(r"<<TAPIS_(user_username|user_password)>>")


def substitute(text: str, credentials: Credentials) -> str:
    """`text` with the credential placeholders replaced."""
    values = {"user_username": credentials.username, "user_password": credentials.password}
    return PLACEHOLDER.sub(lambda match: values[match.group(1)], text)


def substitute_all(texts: Sequence[str], credentials: Credentials) -> tuple[str, ...]:
    """Each of `texts` with the credential placeholders replaced."""
    return tuple(substitute(text, credentials) for text in texts)


def substitute_environment(
    environment: Mapping[str, str], credentials: Credentials
) -> dict[str, str]:
    """The environment with the placeholders in its values replaced (names are kept)."""
    return {name: substitute(value, credentials) for name, value in environment.items()}
