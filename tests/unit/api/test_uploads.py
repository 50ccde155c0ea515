"""UploadToVolume bodies: tapipy's multipart form, JSON with base64, or the raw file."""

from __future__ import annotations

import base64

import pytest
import requests

from services.api.errors import InvalidArgumentError
from services.api.transport.uploads import uploaded_file

BINARY = bytes(range(256)) + b"\r\n--\r\n\r\n--boundary\r\nend"


def multipart(files: dict[str, bytes | tuple[str, bytes]]) -> tuple[str, bytes]:
    """What tapipy sends: requests' encoding of `files=...`."""
    prepared = requests.Request("POST", "http://x/", files=files).prepare()
    content_type = prepared.headers["Content-Type"]
    assert isinstance(content_type, str)
    assert isinstance(prepared.body, bytes)
    return content_type, prepared.body


def test_the_file_part_of_a_multipart_form_is_taken_byte_for_byte() -> None:
    content_type, body = multipart({"file": BINARY})
    assert uploaded_file(content_type, body) == BINARY


def test_other_parts_and_the_part_file_name_do_not_matter() -> None:
    content_type, body = multipart({"note": b"ignored", "file": ("../../etc/x", b"data")})
    assert uploaded_file(content_type, body) == b"data"


def test_an_empty_file_is_a_file() -> None:
    content_type, body = multipart({"file": b""})
    assert uploaded_file(content_type, body) == b""


def test_a_quoted_boundary_and_a_part_without_other_headers() -> None:
    body = b'--a b\r\nContent-Disposition: form-data; name="file"\r\n\r\nhello\r\n--a b--\r\n'
    assert uploaded_file('multipart/form-data; boundary="a b"', body) == b"hello"


@pytest.mark.parametrize(
    ("content_type", "body", "message"),
    [
        ("multipart/form-data", b"x", "boundary"),
        ("multipart/form-data; boundary=b", b"no parts here", "no parts"),
        (
            "multipart/form-data; boundary=b",
            b'--b\r\nContent-Disposition: form-data; name="other"\r\n\r\nx\r\n--b--\r\n',
            "no part named 'file'",
        ),
        ("multipart/form-data; boundary=b", b"--b\r\nno end of headers\r\n--b--", "end of"),
        ("application/json", b"{not json", "not valid JSON"),
        ("application/json", b'{"data": "aGk="}', "content"),
        ("application/json", b'["aGk="]', "content"),
        ("application/json", b'{"content": "not base64!"}', "base64"),
    ],
)
def test_malformed_bodies_are_refused_naming_the_file(
    content_type: str, body: bytes, message: str
) -> None:
    with pytest.raises(InvalidArgumentError, match=message) as info:
        uploaded_file(content_type, body)
    assert info.value.field == "file"


def test_json_carries_the_file_in_base64() -> None:
    body = b'{"content": "' + base64.b64encode(BINARY) + b'"}'
    assert uploaded_file("application/json; charset=utf-8", body) == BINARY


@pytest.mark.parametrize("content_type", ["", "application/octet-stream", "text/plain"])
def test_any_other_body_is_the_file_itself(content_type: str) -> None:
    assert uploaded_file(content_type, BINARY) == BINARY
