"""The REST client against canned answers: the envelope unwrapped, errors carrying the API's
message, uploads and downloads counting bytes, streams read line by line or refused."""

from __future__ import annotations

import io

import pytest

from services.cli.errors import ApiError
from services.cli.sse import Event
from tests.unit.cli.fake_http import Answer, FakeApi, client_for, error, ok, sse


def test_a_call_returns_the_envelopes_result_and_sends_the_token() -> None:
    api = FakeApi({"GET /v3/pods/web1": ok({"pod_id": "web1", "status": "AVAILABLE"})})

    pod = client_for(api, token="jwt").get_pod("web1")

    assert pod == {"pod_id": "web1", "status": "AVAILABLE"}
    assert api.headers_of("GET /v3/pods/web1")["X-Tapis-Token"] == "jwt"


def test_an_error_answer_raises_the_apis_message() -> None:
    api = FakeApi({"GET /v3/pods/nope": error(404, "pod nope not found")})

    with pytest.raises(ApiError) as raised:
        client_for(api).get_pod("nope")

    assert (raised.value.status, raised.value.message) == (404, "pod nope not found")


def test_an_error_without_json_names_the_status() -> None:
    with pytest.raises(ApiError, match="HTTP 404"):
        client_for(FakeApi()).list_pods()


def test_the_password_grant_returns_the_access_token() -> None:
    token = {"access_token": {"access_token": "abc", "expires_in": 3600}}
    api = FakeApi({"POST /v3/oauth2/tokens": ok(token)})

    assert client_for(api, token="").password_token("testuser", "testpass") == "abc"
    assert b'"grant_type": "password"' in api.bodies[0]


def test_upload_sends_the_bytes_and_reports_progress() -> None:
    api = FakeApi({"POST /v3/pods/volumes/data1/upload/in/a.csv": ok({})})
    moved: list[int] = []

    client_for(api).upload("data1", "in/a.csv", io.BytesIO(b"x" * 1000), 1000, moved.append)

    assert api.bodies == [b"x" * 1000]
    assert sum(moved) == 1000
    assert api.seen[0].headers["Content-Length"] == "1000"


def test_download_writes_the_file_and_reports_progress() -> None:
    content = bytes(range(256)) * 10
    api = FakeApi(
        {
            "GET /v3/pods/volumes/data1/contents/a.bin": Answer(
                200, content, "application/octet-stream"
            )
        }
    )
    sink = io.BytesIO()
    moved: list[int] = []

    written = client_for(api).download("data1", "a.bin", sink, moved.append)

    assert (written, sink.getvalue(), sum(moved)) == (len(content), content, len(content))


def test_a_stream_yields_events_and_sends_the_cursor() -> None:
    api = FakeApi(
        {"GET /v3/pods/web1/events": sse('id: 7\nevent: pod\ndata: {"status": "CREATING"}\n\n')}
    )

    events = client_for(api).stream("/v3/pods/web1/events", last_event_id="6")

    assert events is not None
    assert list(events) == [Event("pod", '{"status": "CREATING"}', "7")]
    assert api.headers_of("GET /v3/pods/web1/events")["Last-Event-ID"] == "6"


@pytest.mark.parametrize("answer", [Answer(404, b"", "text/plain"), ok({"logs": "hi"})])
def test_a_path_that_is_not_streamed_gives_none(answer: Answer) -> None:
    api = FakeApi({"GET /v3/pods/web1/logs": answer})

    assert client_for(api).stream("/v3/pods/web1/logs", {"follow": "true"}) is None


def test_a_stream_refused_for_another_reason_raises() -> None:
    api = FakeApi({"GET /v3/pods/web1/events": error(401, "no token")})

    with pytest.raises(ApiError, match="no token"):
        client_for(api).stream("/v3/pods/web1/events")
