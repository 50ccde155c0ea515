"""The ready-to-paste connect lines of `pods connect`, without I/O: from a pod as GetPod returns
it (each networking stanza's protocol and public `url`, "host" or "host:port"), the CA that
verifies the pods' certificates and the pod's credentials, one command per exposed port: `curl`
for http, `psql` for postgres, `openssl s_client` for tcp. For a gateway on this machine
(a loopback base URL) the pod's name is pinned to 127.0.0.1 (`--resolve`, `hostaddr`), as the
README's examples do. Called by services/cli/pod_commands.py."""

from __future__ import annotations

import shlex
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

LOOPBACK = ("localhost", "127.0.0.1", "::1")


@dataclass(frozen=True)
class ConnectLine:
    """How to reach one port of a pod: `argv` runs it, `env` is what it needs besides (a
    password, kept out of the printed line)."""

    stanza: str
    protocol: str
    argv: list[str]
    env: dict[str, str] = field(default_factory=dict)

    def text(self) -> str:
        """The line to paste into a shell."""
        return shlex.join(self.argv)


def is_loopback(base_url: str) -> bool:
    """True when the API's base URL names this machine."""
    return (urlsplit(base_url).hostname or "") in LOOPBACK


def connect_lines(
    pod: Mapping[str, Any],
    ca: str = "",
    credentials: Mapping[str, Any] | None = None,
    local: bool = False,
) -> list[ConnectLine]:
    """One line per networking stanza that has a public address, in stanza order."""
    lines = []
    for stanza, net in sorted((pod.get("networking") or {}).items()):
        address = str(net.get("url") or "")
        protocol = str(net.get("protocol") or "http")
        if not address or protocol == "local_only":
            continue
        line = _line(stanza, protocol, address, ca, credentials or {}, local)
        if line is not None:
            lines.append(line)
    return lines


def _line(
    stanza: str,
    protocol: str,
    address: str,
    ca: str,
    credentials: Mapping[str, Any],
    local: bool,
) -> ConnectLine | None:
    host, _, port_text = address.removeprefix("https://").partition(":")
    port = int(port_text) if port_text else 443
    if protocol == "http":
        argv = ["curl"]
        if ca:
            argv += ["--cacert", ca]
        if local:
            argv += ["--resolve", f"{host}:{port}:127.0.0.1"]
        return ConnectLine(stanza, protocol, [*argv, f"https://{address}/"])
    if protocol == "postgres":
        user = str(credentials.get("user_username") or "postgres")
        parts = [f"host={host}"]
        if local:
            parts.append("hostaddr=127.0.0.1")
        parts += [f"port={port}", "dbname=postgres", f"user={user}"]
        parts += [f"sslmode=verify-full sslrootcert={ca}"] if ca else ["sslmode=verify-full"]
        password = str(credentials.get("user_password") or "")
        env = {"PGPASSWORD": password} if password else {}
        return ConnectLine(stanza, protocol, ["psql", " ".join(parts)], env)
    if protocol == "tcp":
        target = f"127.0.0.1:{port}" if local else f"{host}:{port}"
        argv = ["openssl", "s_client", "-quiet", "-connect", target, "-servername", host]
        if ca:
            argv += ["-CAfile", ca, "-verify_return_error"]
        return ConnectLine(stanza, protocol, argv)
    return None
