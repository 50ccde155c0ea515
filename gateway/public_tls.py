"""TLS of the public REST/gRPC port from settings (PODS_GATEWAY_TLS and its certificate).

Called by `python -m gateway` (gateway/__main__.py) and the cluster gateway (gateway/
cluster.py). The certificate is the operator's (PODS_GATEWAY_TLS_CERT_FILE, else the pods'
PODS_TLS_CERT_FILE) or one the development CA issues for the public URL's host; either way it
must name that host, or the gateway refuses to start rather than serve a certificate every
client rejects.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

from gateway.certs import api_tls_files, certificate_names, names_host
from gateway.rest_listener import RestTls
from services.common.settings import Settings


def public_host(settings: Settings) -> str:
    """The host of PODS_PUBLIC_URL (what clients connect to and verify)."""
    host = urlsplit(settings.public_url).hostname
    if not host:
        raise ValueError(f"PODS_PUBLIC_URL has no host: {settings.public_url!r}")
    return host


def rest_tls(settings: Settings, tls_dir: Path) -> RestTls | None:
    """TLS for the REST/gRPC listener, or None when PODS_GATEWAY_TLS is off."""
    if not settings.gateway_tls:
        return None
    if not settings.public_url.startswith("https://"):
        raise ValueError(
            f"PODS_GATEWAY_TLS is on but PODS_PUBLIC_URL is {settings.public_url!r}: "
            "it must be an https:// URL"
        )
    host = public_host(settings)
    files = api_tls_files(
        tls_dir,
        host,
        settings.gateway_tls_cert_file or settings.tls_cert_file,
        settings.gateway_tls_key_file or settings.tls_key_file,
    )
    check_names_host(files.cert, host)
    return RestTls(files=files, public_url=settings.public_url)


def check_names_host(cert: Path, host: str) -> None:
    """Raises ValueError unless the PEM certificate at `cert` is valid for `host`."""
    try:
        names = certificate_names(cert)
    except (OSError, ValueError) as exc:
        raise ValueError(f"cannot read the gateway's TLS certificate {cert}: {exc}") from exc
    if not names_host(names, host):
        raise ValueError(
            f"the gateway's TLS certificate {cert} names {names}, not the public host {host!r} "
            "of PODS_PUBLIC_URL (set PODS_GATEWAY_TLS_CERT_FILE and PODS_GATEWAY_TLS_KEY_FILE)"
        )
