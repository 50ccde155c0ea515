"""The built-in identity's authorize page (`/v3/oauth2/authorize`) as the gateway's check
answers it (gateway/pod_login.py routes it here): GET shows the login form, the form's POST
is redirected back to the pod's login callback with a code, or shown again with the reason.
Requests it cannot serve (a redirect_uri that is not a pod's callback, ...) get plain text,
which the gateway turns into the API's JSON error with that message.
Called by login_servicer.py; the grant itself is domain/authorize.py.
"""

from __future__ import annotations

from urllib.parse import parse_qs, urlencode, urlsplit

from services.api.domain.authorize import AuthorizationCodes, AuthorizeRequest
from services.api.domain.http_check import HttpRequest, Reply, first, redirect, text_reply
from services.api.errors import (
    InvalidArgumentError,
    NotFoundError,
    ResourceExhaustedError,
    UnauthenticatedError,
)
from services.api.transport.login_page import login_page

AUTHORIZE_PATH = "/v3/oauth2/authorize"
FORM_TYPE = "application/x-www-form-urlencoded"


class AuthorizePage:
    """Answers the authorize route for one tenant's built-in identity."""

    def __init__(self, codes: AuthorizationCodes, tenant_id: str) -> None:
        self._codes = codes
        self._tenant_id = tenant_id

    def answer(self, request: HttpRequest) -> Reply:
        if request.method == "GET":
            params = parse_qs(urlsplit(request.path).query)
        elif request.method == "POST":
            if not request.headers.get("content-type", "").startswith(FORM_TYPE):
                return text_reply(415, f"the login form is sent as {FORM_TYPE}")
            params = parse_qs(request.body, keep_blank_values=True)
        else:
            return text_reply(405, "use GET to see the login form")
        asked = AuthorizeRequest(
            response_type=first(params, "response_type"),
            client_id=first(params, "client_id"),
            redirect_uri=first(params, "redirect_uri"),
            state=first(params, "state"),
        )
        try:
            self._codes.check(asked)
        except InvalidArgumentError as exc:
            return text_reply(400, str(exc))
        if request.method == "GET":
            return self._form(asked)
        username = first(params, "username")
        try:
            code = self._codes.grant(
                asked, username, first(params, "password"), request.client_address
            )
        except UnauthenticatedError:
            return self._form(asked, username, "Invalid username or password.")
        except InvalidArgumentError as exc:
            return self._form(asked, username, str(exc))
        except ResourceExhaustedError as exc:
            return text_reply(429, str(exc))
        except NotFoundError as exc:
            return text_reply(404, str(exc))
        query = urlencode({"code": code, "state": asked.state})
        return redirect(f"{asked.redirect_uri}?{query}")

    def _form(self, asked: AuthorizeRequest, username: str = "", error: str = "") -> Reply:
        return login_page(
            action=AUTHORIZE_PATH,
            target=urlsplit(asked.redirect_uri).hostname or "",
            tenant=self._tenant_id,
            hidden={
                "response_type": asked.response_type,
                "client_id": asked.client_id,
                "redirect_uri": asked.redirect_uri,
                "state": asked.state,
            },
            username=username,
            error=error,
        )
