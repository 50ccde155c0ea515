"""The file carried by an UploadToVolume or UploadToPod request body. Pure; called by
volumes_servicer.py and pod_files_servicer.py.

The gateway hands the raw REST body over in a google.api.HttpBody (content type and bytes),
since its JSON transcoder cannot read multipart bodies. Three forms are accepted:
- multipart/form-data with a part named "file": what tapipy's upload_to_volume sends (the
  file's own name in the part is ignored; the URL path says where it goes);
- application/json `{"content": "<base64>"}`, for JSON-only clients;
- anything else (application/octet-stream, no content type): the body is the file.
gRPC callers set the bytes directly (`file.data`, content type empty).

UploadToPod's body also carries where the file goes (`pod_upload`): a multipart part
"dest_path" (tapipy's upload_to_pod), or `dest_path` next to `content` in a JSON body.
"""

from __future__ import annotations

import base64
import binascii
import json
from email.message import Message

from services.api.errors import InvalidArgumentError

FIELD = "file"
DEST_FIELD = "dest_path"
_CRLF = b"\r\n"


def uploaded_file(content_type: str, body: bytes) -> bytes:
    """The file's bytes, or InvalidArgumentError naming `file` and what is wrong."""
    media, boundary = _media_type(content_type)
    if media == "multipart/form-data":
        if not boundary:
            raise InvalidArgumentError(FIELD, "a multipart/form-data body needs a boundary")
        return multipart_part(body, boundary, FIELD)
    if media == "application/json":
        return _json_content(body)
    return body


def pod_upload(content_type: str, body: bytes, dest_path: str) -> tuple[bytes, str]:
    """The file's bytes and its destination in the pod: from the body's form part or JSON
    field "dest_path" if there is one, else `dest_path` (the query's); both given must agree."""
    media, boundary = _media_type(content_type)
    given = ""
    if media == "multipart/form-data":
        data = uploaded_file(content_type, body)
        if _has_part(body, boundary, DEST_FIELD):
            raw = multipart_part(body, boundary, DEST_FIELD)
            try:
                given = raw.decode()
            except UnicodeDecodeError:
                raise InvalidArgumentError(DEST_FIELD, "is not valid UTF-8") from None
    elif media == "application/json":
        data = _json_content(body)
        document = json.loads(body)
        value = document.get(DEST_FIELD, "")
        if not isinstance(value, str):
            raise InvalidArgumentError(DEST_FIELD, "must be a string")
        given = value
    else:
        data = body
    if given and dest_path and given != dest_path:
        raise InvalidArgumentError(DEST_FIELD, "the body and the query name different paths")
    return data, given or dest_path


def _has_part(body: bytes, boundary: str, name: str) -> bool:
    try:
        multipart_part(body, boundary, name)
    except InvalidArgumentError:
        return False
    return True


def _media_type(content_type: str) -> tuple[str, str]:
    """The lowercased media type and the boundary parameter ("" when absent)."""
    if not content_type:
        return "", ""
    header = Message()
    header["content-type"] = content_type
    boundary = header.get_param("boundary")
    return header.get_content_type(), boundary if isinstance(boundary, str) else ""


def _json_content(body: bytes) -> bytes:
    try:
        document = json.loads(body)
    except ValueError:
        raise InvalidArgumentError(FIELD, "the JSON body is not valid JSON") from None
    content = document.get("content") if isinstance(document, dict) else None
    if not isinstance(content, str):
        raise InvalidArgumentError(
            FIELD, 'a JSON body must be {"content": "<the file, base64-encoded>"}'
        )
    try:
        return base64.b64decode(content, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidArgumentError(FIELD, "content is not valid base64") from None


def multipart_part(body: bytes, boundary: str, name: str) -> bytes:
    """The content of the form-data part called `name` (RFC 7578), byte for byte."""
    delimiter = _CRLF + b"--" + boundary.encode("latin-1")
    sections = (_CRLF + body).split(delimiter)
    if len(sections) < 3:  # preamble, at least one part, the closing delimiter
        raise InvalidArgumentError(FIELD, "the multipart body is malformed (no parts)")
    for section in sections[1:]:
        if section.startswith(b"--"):  # the closing delimiter
            break
        line_end = section.find(_CRLF)
        if line_end < 0 or section[:line_end].strip(b" \t"):
            raise InvalidArgumentError(FIELD, "the multipart body is malformed")
        rest = section[line_end + 2 :]
        if rest.startswith(_CRLF):  # a part without headers
            headers, content = b"", rest[2:]
        else:
            headers, separator, content = rest.partition(_CRLF + _CRLF)
            if not separator:
                raise InvalidArgumentError(FIELD, "a multipart part has no end of headers")
        if _part_name(headers) == name:
            return content
    raise InvalidArgumentError(FIELD, f"the multipart body has no part named {name!r}")


def _part_name(headers: bytes) -> str | None:
    """The `name` of a part's Content-Disposition: form-data header."""
    for line in headers.split(_CRLF):
        field, _, value = line.decode("latin-1").partition(":")
        if field.strip().lower() == "content-disposition":
            header = Message()
            header["content-disposition"] = value.strip()
            part_name = header.get_param("name", header="content-disposition")
            return part_name if isinstance(part_name, str) else None
    return None
