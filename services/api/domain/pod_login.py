"""The login in front of a pod port with `tapis_auth`: what the gateway's check answers for
every request to such a port. Pure logic on the Protocols of login_ports.py; called by
transport/login_servicer.py, which Envoy asks (gateway/pod_login.py).

The flow, all on the pod's own host (so its cookies are host-only `__Host-` cookies):

1. A request with a valid session cookie for this host, or with an X-Tapis-Token of the
   pod's tenant, by a user in `tapis_auth_allowed_users`, goes through with the pod's
   `tapis_auth_response_headers` (user name, tenant and site substituted); our cookie and the
   token are removed first, so the pod never sees a credential. A user not allowed gets 403.
2. Otherwise a GET or HEAD is redirected to the identity's authorize page with a signed
   `state`, whose nonce is also put in a short-lived state cookie; other methods get 401.
3. The identity sends the browser back to `/.pods-auth/callback?code=...&state=...` on the
   pod's host. The state must be genuine, unexpired, for this host and match the browser's
   state cookie (so nobody can log a browser in with their own code); the code is exchanged
   for the user, who must be of the pod's tenant and allowed. The reply sets the session
   cookie and redirects to `https://<pod host>` + `tapis_auth_return_path`: never elsewhere.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlencode, urlsplit

from services.api.domain.http_check import (
    Allow,
    HttpRequest,
    Reply,
    clear_cookie,
    redirect,
    set_cookie,
    text_reply,
    without_cookies,
)
from services.api.domain.login_ports import CodeExchange, LoggedIn, PodReader, TokenUsers
from services.api.domain.login_session import LoginState, Session, Signer
from services.api.errors import ApiError
from services.common.pod_auth_model import LOGIN_CALLBACK_PATH, TapisAuth
from services.common.runtime.types import PodKey

SESSION_COOKIE = "__Host-pods-session"
STATE_COOKIE = "__Host-pods-login"
OUR_COOKIES = frozenset({SESSION_COOKIE, STATE_COOKIE})
STATE_TTL = timedelta(minutes=10)
MAX_SESSION = timedelta(hours=12)
LOGIN_METHODS = frozenset({"GET", "HEAD"})


@dataclass(frozen=True)
class PodPort:
    """What the gateway says the request is for (its route's context, not the client's)."""

    tenant_id: str
    pod_id: str
    stanza: str
    host: str


@dataclass(frozen=True)
class LoginEndpoints:
    """Where browsers log in: the identity's authorize page and this gateway's client id."""

    authorize_url: str
    client_id: str
    site_id: str


class PodLogin:
    """Answers the gateway's check for pod ports behind a login."""

    def __init__(
        self,
        *,
        pods: PodReader,
        codes: CodeExchange,
        tokens: TokenUsers,
        signer: Signer,
        endpoints: LoginEndpoints,
        clock: Callable[[], datetime],
    ) -> None:
        self._pods = pods
        self._codes = codes
        self._tokens = tokens
        self._signer = signer
        self._endpoints = endpoints
        self._clock = clock

    async def check(self, port: PodPort, request: HttpRequest) -> Allow | Reply:
        if _hostname(request.host) != port.host:
            return text_reply(421, f"this connection serves {port.host} only")
        record = await self._pods.get_pod(PodKey(port.tenant_id, port.pod_id))
        stanza = record.spec.networking.get(port.stanza) if record is not None else None
        if record is None or record.deletion_requested or stanza is None:
            return text_reply(404, f"pod '{port.pod_id}' does not exist")
        auth = stanza.auth
        if not auth.enabled:
            return Allow()  # the owner turned the login off; the route follows shortly
        if request.route == LOGIN_CALLBACK_PATH:
            return await self._callback(port, auth, request)
        user = self._user(port, request)
        if user is None:
            return self._start_login(port, request)
        if not auth.allows(user.username):
            return _not_allowed(user.username, port)
        return self._allow(port, auth, user.username, request)

    def _user(self, port: PodPort, request: HttpRequest) -> LoggedIn | Session | None:
        session = self._signer.read_session(request.cookie(SESSION_COOKIE), self._clock())
        if session is not None and (session.host, session.tenant_id) == (
            port.host,
            port.tenant_id,
        ):
            return session
        token = request.headers.get("x-tapis-token", "").strip()
        if token:
            user = self._tokens.user_of(token)
            if user is not None and user.tenant_id == port.tenant_id:
                return user
        return None

    def _start_login(self, port: PodPort, request: HttpRequest) -> Reply:
        if request.headers.get("x-tapis-token"):
            return text_reply(401, "the X-Tapis-Token is not valid for this pod's tenant")
        if request.method not in LOGIN_METHODS:
            return text_reply(401, f"log in first: open https://{request.host}/ in a browser")
        nonce = secrets.token_urlsafe(18)
        expires = int((self._clock() + STATE_TTL).timestamp())
        state = self._signer.state(LoginState(port.host, nonce, expires))
        query = urlencode(
            {
                "response_type": "code",
                "client_id": self._endpoints.client_id,
                "redirect_uri": callback_url(request.host),
                "state": state,
            }
        )
        return redirect(
            f"{self._endpoints.authorize_url}?{query}",
            set_cookie(STATE_COOKIE, nonce, int(STATE_TTL.total_seconds())),
        )

    async def _callback(self, port: PodPort, auth: TapisAuth, request: HttpRequest) -> Reply:
        restart = f"start again at https://{request.host}{auth.return_path}"
        if request.query("error"):
            return text_reply(401, f"the login was not completed; {restart}")
        state = self._signer.read_state(request.query("state"), self._clock())
        nonce = request.cookie(STATE_COOKIE)
        if state is None or state.host != port.host or not nonce or state.nonce != nonce:
            return text_reply(400, f"this login does not match this browser's; {restart}")
        code = request.query("code")
        if not code:
            return text_reply(400, f"the identity sent no code; {restart}")
        try:
            user = await self._codes.exchange(code, callback_url(request.host))
        except ApiError as exc:
            return text_reply(400, f"the login code was refused ({exc}); {restart}")
        if user.tenant_id != port.tenant_id:
            return text_reply(403, f"user '{user.username}' is not of this pod's tenant")
        if not auth.allows(user.username):
            return _not_allowed(user.username, port)
        now = self._clock()
        expires = min(user.expires_at, now + MAX_SESSION)
        session = Session(user.tenant_id, user.username, port.host, int(expires.timestamp()))
        max_age = max(int((expires - now).total_seconds()), 1)
        return redirect(
            f"https://{request.host}{auth.return_path}",
            set_cookie(SESSION_COOKIE, self._signer.session(session), max_age),
            clear_cookie(STATE_COOKIE),
        )

    def _allow(self, port: PodPort, auth: TapisAuth, username: str, request: HttpRequest) -> Allow:
        headers = response_headers(
            auth.response_headers, username, port.tenant_id, self._endpoints.site_id
        )
        remove = ["x-tapis-token"] if "x-tapis-token" in request.headers else []
        cookie = request.headers.get("cookie", "")
        if cookie:
            kept = without_cookies(cookie, OUR_COOKIES)
            if kept:
                headers = {**headers, "cookie": kept}
            else:
                remove.append("cookie")
        return Allow(set_headers=headers, remove_headers=tuple(remove))


def response_headers(
    templates: Mapping[str, str], username: str, tenant_id: str, site_id: str
) -> dict[str, str]:
    """The headers a logged-in user's requests carry to the pod: `<<tapisusername>>`,
    `<<tapistenantid>>` and `<<tapissiteid>>` in values replaced, as Tapis does."""
    return {
        name: value.replace("<<tapisusername>>", username)
        .replace("<<tapistenantid>>", tenant_id)
        .replace("<<tapissiteid>>", site_id)
        for name, value in templates.items()
    }


def callback_url(host: str) -> str:
    """Where the identity sends the browser back: the callback on the pod's own host."""
    return f"https://{host}{LOGIN_CALLBACK_PATH}"


def _hostname(host: str) -> str:
    return (urlsplit(f"//{host}").hostname or "").rstrip(".")


def _not_allowed(username: str, port: PodPort) -> Reply:
    return text_reply(
        403,
        f"user '{username}' is logged in but not in the tapis_auth_allowed_users of "
        f"pod '{port.pod_id}'",
    )
