"""What the login of a pod port does for a user, for Tapis's `GET /v3/pods/{pod_id_net}/auth`
(transport/pod_auth_servicer.py). Pure logic on the pod reader of login_ports.py; the login
itself is pod_login.py, whose allow-list and headers this repeats without side effects.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from services.api.domain.login_ports import PodReader
from services.api.domain.pod_login import response_headers
from services.api.domain.principal import Principal
from services.api.errors import InvalidArgumentError, NotFoundError, PermissionDeniedError
from services.common.runtime.types import PodKey

MAX_POD_ID_NET = 128


@dataclass(frozen=True)
class PodAuthStatus:
    """The caller passes the login of (pod_id, stanza), with these headers to the pod."""

    pod_id: str
    stanza: str
    tapis_auth: bool
    username: str
    headers: Mapping[str, str] = field(default_factory=dict)


def split_pod_id_net(pod_id_net: str) -> tuple[str, str]:
    """(pod_id, stanza) of `<pod_id>` or `<pod_id>-<stanza>` (pod ids have no '-')."""
    if not pod_id_net or len(pod_id_net) > MAX_POD_ID_NET:
        raise InvalidArgumentError("pod_id_net", "must be <pod_id> or <pod_id>-<stanza>")
    pod_id, _, stanza = pod_id_net.partition("-")
    return pod_id, stanza or "default"


async def pod_auth_status(
    pods: PodReader, who: Principal, pod_id_net: str, site_id: str
) -> PodAuthStatus:
    """What the login of the port does for `who`: PermissionDeniedError when the user is
    not allowed (as Tapis answers), NotFoundError when there is no such pod port."""
    pod_id, stanza_name = split_pod_id_net(pod_id_net)
    record = await pods.get_pod(PodKey(who.tenant_id, pod_id))
    stanza = record.spec.networking.get(stanza_name) if record is not None else None
    if record is None or record.deletion_requested or stanza is None:
        raise NotFoundError(f"pod port '{pod_id_net}' does not exist")
    auth = stanza.auth
    if not (auth.enabled and stanza.protocol == "http"):
        return PodAuthStatus(pod_id, stanza_name, False, who.username)
    if not auth.allows(who.username):
        raise PermissionDeniedError(
            f"user '{who.username}' is not in the tapis_auth_allowed_users of '{pod_id_net}'"
        )
    headers = response_headers(auth.response_headers, who.username, who.tenant_id, site_id)
    return PodAuthStatus(pod_id, stanza_name, True, who.username, headers)
