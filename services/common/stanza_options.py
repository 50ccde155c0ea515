"""A networking stanza's access options: the client addresses allowed, its CORS policy, and the
Tapis UI hints stored with it. A frozen record, with its JSON form for the `pods.spec` column.

Validated by services/api/domain/stanza_options.py; stored by services/common/db/codec.py;
rendered into Envoy's RBAC and CORS configuration by gateway/pod_policies.py (through the
route the gateway builds for each stanza, gateway/routes.py).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any

DEFAULT_CORS_MAX_AGE = 100  # seconds, as Tapis


@dataclass(frozen=True, order=True)
class StanzaOptions:
    """Options of one networking stanza; the defaults are Tapis's (nothing restricted, no
    CORS, no UI hints)."""

    ip_allow_list: tuple[str, ...] = ()
    cors_allow_origins: tuple[str, ...] = ()
    cors_allow_methods: tuple[str, ...] = ()
    cors_allow_headers: tuple[str, ...] = ()
    cors_allow_credentials: bool = False
    cors_max_age: int = DEFAULT_CORS_MAX_AGE
    tapis_ui_uri: str = ""
    tapis_ui_uri_redirect: bool = False
    tapis_ui_uri_description: str = ""

    @property
    def cors(self) -> bool:
        """True when the gateway answers CORS for this stanza (some origin is allowed)."""
        return bool(self.cors_allow_origins)

    def to_json(self) -> dict[str, Any]:
        """The options as a JSON-ready dict (lists for the tuples)."""
        return {
            name: list(value) if isinstance(value, tuple) else value
            for name, value in asdict(self).items()
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> StanzaOptions:
        """The inverse of to_json; keys that are missing (stanzas stored before the options
        existed) keep their defaults, unknown keys are ignored."""
        values: dict[str, Any] = {}
        for f in fields(cls):
            if f.name in data:
                value = data[f.name]
                values[f.name] = tuple(value) if isinstance(value, list) else value
        return cls(**values)
