"""A networking stanza's login settings are stored with Tapis's defaults, or refused with an
error naming the field and the rule."""

from __future__ import annotations

import pytest

from services.api.domain.validation import Limits, PodRequest, validate_new_pod
from services.api.errors import InvalidArgumentError
from services.common.pod_auth_model import TapisAuth
from services.common.pods_model import NetworkStanza, PodSpec


def spec_with(auth: TapisAuth, protocol: str = "http") -> PodSpec:
    request = PodRequest(
        pod_id="web1",
        image="pods-http:latest",
        networking={"default": NetworkStanza(protocol, 5000, auth)},
    )
    return validate_new_pod(request, {}, Limits())


def refused(auth: TapisAuth, protocol: str = "http") -> InvalidArgumentError:
    with pytest.raises(InvalidArgumentError) as info:
        spec_with(auth, protocol)
    return info.value


def test_a_login_is_off_by_default_with_tapis_defaults() -> None:
    auth = spec_with(TapisAuth()).networking["default"].auth
    assert auth == TapisAuth(enabled=False, allowed_users=("*",), return_path="/")


def test_empty_allowed_users_and_return_path_mean_the_defaults() -> None:
    auth = (
        spec_with(TapisAuth(enabled=True, allowed_users=(), return_path=""))
        .networking["default"]
        .auth
    )
    assert auth.allowed_users == ("*",)
    assert auth.return_path == "/"


def test_a_full_login_is_kept_as_given() -> None:
    given = TapisAuth(
        enabled=True,
        response_headers={"X-Tapis-Username": "<<tapisusername>>@example.org"},
        allowed_users=("alice", "Bob"),
        return_path="/app/index.html",
    )
    assert spec_with(given).networking["default"].auth == given


def test_a_login_needs_an_http_port() -> None:
    error = refused(TapisAuth(enabled=True), protocol="tcp")
    assert error.field == "networking.default.tapis_auth"
    assert "http" in str(error)


@pytest.mark.parametrize("path", ["app", "//evil.example.org/", "/a b", "/x?y=1", "/" + "a" * 180])
def test_unsafe_return_paths_are_refused(path: str) -> None:
    error = refused(TapisAuth(enabled=True, return_path=path))
    assert error.field == "networking.default.tapis_auth_return_path"


@pytest.mark.parametrize(
    "headers",
    [
        {"Bad Name": "x"},
        {"X-User": "a\r\nSet-Cookie: x=1"},
        {"Host": "evil.example.org"},
        {"Cookie": "a=b"},
        {"x-envoy-original-path": "/"},
        {f"X-H{i}": "v" for i in range(33)},
    ],
)
def test_unsafe_response_headers_are_refused(headers: dict[str, str]) -> None:
    error = refused(TapisAuth(enabled=True, response_headers=headers))
    assert error.field.startswith("networking.default.tapis_auth_response_headers")


def test_blank_allowed_users_are_refused() -> None:
    error = refused(TapisAuth(enabled=True, allowed_users=("alice", " ")))
    assert error.field == "networking.default.tapis_auth_allowed_users"


def test_allowed_users_compare_case_insensitively_and_star_lets_everyone_in() -> None:
    listed = TapisAuth(enabled=True, allowed_users=("Alice",))
    assert listed.allows("alice") and listed.allows("ALICE")
    assert not listed.allows("bob")
    assert TapisAuth(enabled=True).allows("anyone")
