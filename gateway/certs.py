"""TLS material for the pods port and the REST/gRPC port: a development CA with a wildcard
certificate for `*.<pod_domain>` and one for the public URL's host, or the operator's own
certificates and keys in production.

Called by `python -m gateway` (Envoy's TLS listeners), gateway/cluster.py and the pod router
(STARTTLS for classic PostgreSQL clients). Keys are written with mode 0600 and never logged.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

VALIDITY = dt.timedelta(days=825)


@dataclass(frozen=True)
class TlsFiles:
    """Paths of the PEM certificate chain and key served for pods, and of the CA that
    clients should trust ("" when the operator's certificate comes from a public CA)."""

    cert: Path
    key: Path
    ca: Path | None


def tls_files(
    directory: Path, pod_domain: str, cert_file: str = "", key_file: str = ""
) -> TlsFiles:
    """The operator's files when both are given, else the development CA's (created once)."""
    if cert_file or key_file:
        if not (cert_file and key_file):
            raise ValueError("PODS_TLS_CERT_FILE and PODS_TLS_KEY_FILE must be set together")
        return TlsFiles(cert=Path(cert_file), key=Path(key_file), ca=None)
    return ensure_dev_certificates(directory, pod_domain)


def ensure_dev_certificates(directory: Path, pod_domain: str) -> TlsFiles:
    """A development CA and a wildcard certificate for `*.<pod_domain>` under `directory`;
    reused while they exist and match the domain."""
    return _dev_leaf(directory, "pods", (f"*.{pod_domain}", pod_domain))


def api_tls_files(
    directory: Path, public_host: str, cert_file: str = "", key_file: str = ""
) -> TlsFiles:
    """The REST/gRPC port's certificate: the operator's files when both are given, else one
    the development CA issues for `public_host` (and localhost, 127.0.0.1, ::1)."""
    if cert_file or key_file:
        if not (cert_file and key_file):
            raise ValueError(
                "the gateway's TLS certificate and key must be set together "
                "(PODS_GATEWAY_TLS_CERT_FILE and PODS_GATEWAY_TLS_KEY_FILE)"
            )
        return TlsFiles(cert=Path(cert_file), key=Path(key_file), ca=None)
    names = dict.fromkeys((public_host, "localhost", "127.0.0.1", "::1"))
    return _dev_leaf(directory, "api", tuple(names))


def certificate_names(cert_path: Path) -> list[str]:
    """The DNS names and IP addresses a PEM certificate is valid for."""
    cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
    try:
        sans = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return []
    ips = [str(ip) for ip in sans.get_values_for_type(x509.IPAddress)]
    return [*sans.get_values_for_type(x509.DNSName), *ips]


def names_host(names: Sequence[str], host: str) -> bool:
    """True if a certificate naming `names` is valid for `host` (a `*.` wildcard covers one
    label)."""
    host = host.lower().rstrip(".")
    for name in (n.lower() for n in names):
        if name == host:
            return True
        if name.startswith("*.") and "." in host and host.split(".", 1)[1] == name[2:]:
            return True
    return False


def _dev_leaf(directory: Path, stem: str, names: Sequence[str]) -> TlsFiles:
    """`<stem>.pem` and `<stem>-key.pem` issued by the development CA for `names`, made once
    and remade when they no longer name the first of `names` or expire within a month."""
    directory.mkdir(parents=True, exist_ok=True)
    ca_cert_path, ca_key_path = directory / "ca.pem", directory / "ca-key.pem"
    cert_path, key_path = directory / f"{stem}.pem", directory / f"{stem}-key.pem"
    if not (ca_cert_path.exists() and ca_key_path.exists()):
        new_ca_key = ec.generate_private_key(ec.SECP256R1())
        _write_key(ca_key_path, new_ca_key)
        _write(ca_cert_path, _ca_certificate(new_ca_key).public_bytes(serialization.Encoding.PEM))
    if not _covers(cert_path, names[0]):
        loaded = serialization.load_pem_private_key(ca_key_path.read_bytes(), password=None)
        if not isinstance(loaded, ec.EllipticCurvePrivateKey):
            raise ValueError(f"{ca_key_path} is not an EC private key")
        ca_key = loaded
        ca_cert = x509.load_pem_x509_certificate(ca_cert_path.read_bytes())
        key = ec.generate_private_key(ec.SECP256R1())
        cert = _leaf_certificate(key, ca_key, ca_cert, names)
        _write_key(key_path, key)
        _write(cert_path, cert.public_bytes(serialization.Encoding.PEM))
    return TlsFiles(cert=cert_path, key=key_path, ca=ca_cert_path)


def _ca_certificate(key: ec.EllipticCurvePrivateKey) -> x509.Certificate:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Pods service development CA")])
    now = dt.datetime.now(dt.UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + VALIDITY)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )


def _leaf_certificate(
    key: ec.EllipticCurvePrivateKey,
    ca_key: ec.EllipticCurvePrivateKey,
    ca_cert: x509.Certificate,
    names: Sequence[str],
) -> x509.Certificate:
    now = dt.datetime.now(dt.UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0])]))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + VALIDITY)
        .add_extension(
            x509.SubjectAlternativeName([_general_name(name) for name in names]), critical=False
        )
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )


def _general_name(name: str) -> x509.GeneralName:
    try:
        return x509.IPAddress(ipaddress.ip_address(name))
    except ValueError:
        return x509.DNSName(name)


def _covers(cert_path: Path, name: str) -> bool:
    """True if the certificate exists, names `name` and is valid for a month more."""
    if not cert_path.exists():
        return False
    cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
    remaining = cert.not_valid_after_utc - dt.datetime.now(dt.UTC)
    return name in certificate_names(cert_path) and remaining.days > 30


def _write_key(path: Path, key: ec.EllipticCurvePrivateKey) -> None:
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    _write(path, pem, mode=0o600)


def _write(path: Path, data: bytes, mode: int = 0o644) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    os.replace(tmp, path)
