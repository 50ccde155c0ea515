"""Checks a networking stanza's access options (ip_allow_list, cors_*, tapis_ui_uri*) and
returns them normalized, or raises InvalidArgumentError naming the field and the rule. Pure;
called by domain/validation.py's `validate_networking` for pods and templates.

The rules follow the Tapis service where it has them (cors_max_age 0-100, tapis_ui_uri's
characters and length, an ASCII description of at most 255 characters, no "*" in the allow
list, CORS for http only), and are stricter where Envoy must be given a value it accepts:
addresses are parsed as IPv4 or IPv6 addresses or CIDR ranges, origins as
`scheme://host[:port]` or "*", methods and headers as HTTP tokens.

A templated pod keeps its template's stanzas (names, protocols, ports) but takes the options
given for them (`with_template`); an update may change only those (`check_template_ports`).
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace

from services.api.errors import InvalidArgumentError
from services.common.pods_model import NetworkStanza
from services.common.stanza_options import StanzaOptions

MAX_ENTRIES = 32
MAX_CORS_AGE = 100
MAX_UI_URI = 128
MAX_UI_DESCRIPTION = 255
ORIGIN_RE = re.compile(r"^https?://[a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?(:[0-9]{1,5})?$")
TOKEN_RE = re.compile(r"^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,64}$")
UI_URI_RE = re.compile(r"^/+[a-z][a-z0-9./-]*$")


def validate_options(prefix: str, protocol: str, options: StanzaOptions) -> StanzaOptions:
    """`options` of the stanza `prefix` ("networking.web") of `protocol`, checked."""
    if options.ip_allow_list and protocol == "local_only":
        raise InvalidArgumentError(
            f"{prefix}.ip_allow_list", "is for routed ports; a local_only port has no route"
        )
    cors_given = (
        options.cors_allow_origins
        or options.cors_allow_methods
        or options.cors_allow_headers
        or options.cors_allow_credentials
    )
    if cors_given and protocol != "http":
        raise InvalidArgumentError(
            f"{prefix}.cors_allow_origins",
            f"CORS fields are for protocol http only (this port is {protocol})",
        )
    return StanzaOptions(
        ip_allow_list=_addresses(f"{prefix}.ip_allow_list", options.ip_allow_list),
        cors_allow_origins=_entries(
            f"{prefix}.cors_allow_origins", options.cors_allow_origins, _origin
        ),
        cors_allow_methods=_entries(
            f"{prefix}.cors_allow_methods", options.cors_allow_methods, _token
        ),
        cors_allow_headers=_entries(
            f"{prefix}.cors_allow_headers", options.cors_allow_headers, _token
        ),
        cors_allow_credentials=options.cors_allow_credentials,
        cors_max_age=_max_age(f"{prefix}.cors_max_age", options.cors_max_age),
        tapis_ui_uri=_ui_uri(f"{prefix}.tapis_ui_uri", options.tapis_ui_uri),
        tapis_ui_uri_redirect=options.tapis_ui_uri_redirect,
        tapis_ui_uri_description=_description(
            f"{prefix}.tapis_ui_uri_description", options.tapis_ui_uri_description
        ),
    )


def _addresses(name: str, values: Sequence[str]) -> tuple[str, ...]:
    if len(values) > MAX_ENTRIES:
        raise InvalidArgumentError(name, f"must have at most {MAX_ENTRIES} entries")
    for value in values:
        if value.strip() == "*":
            raise InvalidArgumentError(
                name, "cannot contain '*': leave the list empty to allow every address"
            )
        try:
            ipaddress.ip_network(value, strict=False)
        except ValueError:
            raise InvalidArgumentError(
                name,
                f"entry {value[:64]!r} is not an IP address or CIDR range "
                "(like '192.168.1.7' or '10.0.0.0/8')",
            ) from None
    return tuple(values)


def _entries(name: str, values: Sequence[str], check: Callable[[str], str]) -> tuple[str, ...]:
    """`values` unless one breaks `check` (which returns the rule broken, or "")."""
    if len(values) > MAX_ENTRIES:
        raise InvalidArgumentError(name, f"must have at most {MAX_ENTRIES} entries")
    for value in values:
        rule = check(value)
        if rule:
            raise InvalidArgumentError(name, f"entry {value[:64]!r} {rule}")
    return tuple(values)


def _origin(value: str) -> str:
    if value == "*" or ORIGIN_RE.fullmatch(value):
        return ""
    return "must be '*' or an origin like 'https://app.example.org' (lowercase, no path)"


def _token(value: str) -> str:
    return "" if TOKEN_RE.fullmatch(value) else "must be an HTTP token (like 'GET' or 'X-Token')"


def _max_age(name: str, value: int) -> int:
    if not 0 <= value <= MAX_CORS_AGE:
        raise InvalidArgumentError(name, f"must be between 0 and {MAX_CORS_AGE} seconds")
    return value


def _ui_uri(name: str, value: str) -> str:
    if not value:
        return value
    if len(value) > MAX_UI_URI:
        raise InvalidArgumentError(name, f"must be at most {MAX_UI_URI} characters")
    if not UI_URI_RE.fullmatch(value):
        raise InvalidArgumentError(
            name,
            "must start with '/' followed by a lowercase letter, then lowercase letters, "
            "digits, '.', '-' and '/'",
        )
    return value


def _description(name: str, value: str) -> str:
    if not value.isascii():
        raise InvalidArgumentError(name, "may only contain ASCII characters")
    if len(value) > MAX_UI_DESCRIPTION:
        raise InvalidArgumentError(name, f"must be at most {MAX_UI_DESCRIPTION} characters")
    return value


def with_template(
    fixed: Mapping[str, NetworkStanza], requested: Mapping[str, NetworkStanza]
) -> dict[str, NetworkStanza]:
    """A templated pod's stanzas: the template's names, protocols and ports (what a create
    request says of them is ignored, as Tapis does), with the options the request gives for
    a stanza of the template (else the template's own)."""
    result: dict[str, NetworkStanza] = {}
    for name, stanza in fixed.items():
        given = requested.get(name)
        if given is not None:
            options = validate_options(f"networking.{name}", stanza.protocol, given.options)
            stanza = replace(stanza, options=options)
        result[name] = stanza
    return result


def check_template_ports(
    fixed: Mapping[str, NetworkStanza], requested: Mapping[str, NetworkStanza]
) -> None:
    """InvalidArgumentError unless an update of a templated pod's networking keeps the
    template's stanza names, protocols and ports (empty ones count as kept): only the
    options may change."""
    for name, given in requested.items():
        protocol, port = given.protocol, given.port
        stanza = fixed.get(name)
        if stanza is None or protocol not in ("", stanza.protocol) or port not in (0, stanza.port):
            raise InvalidArgumentError(
                f"networking.{name}",
                "is fixed by the pod's template: only its options (ip_allow_list, cors_*, "
                "tapis_ui_uri*) may change",
            )


def ports_changed(before: Mapping[str, NetworkStanza], after: Mapping[str, NetworkStanza]) -> bool:
    """True when stanzas come or go or change protocol or port: only then does the container
    change; options are the gateway's alone (applied at its next route refresh)."""
    return {n: (s.protocol, s.port) for n, s in before.items()} != {
        n: (s.protocol, s.port) for n, s in after.items()
    }
