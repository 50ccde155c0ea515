"""The ready-to-paste connect lines, from pods shaped as GetPod returns them."""

from __future__ import annotations

from services.cli.connect import connect_lines, is_loopback


def pod(protocol: str, url: str) -> dict[str, object]:
    return {"pod_id": "p1", "networking": {"default": {"protocol": protocol, "url": url}}}


def test_http_is_curl_with_the_ca_and_the_name_pinned_locally() -> None:
    [line] = connect_lines(pod("http", "web1.pods.localhost:8443"), "/ca.pem", local=True)

    assert line.text() == (
        "curl --cacert /ca.pem --resolve web1.pods.localhost:8443:127.0.0.1 "
        "https://web1.pods.localhost:8443/"
    )


def test_postgres_is_psql_verifying_the_ca_with_the_password_kept_apart() -> None:
    credentials = {"user_username": "db1", "user_password": "s3cret"}

    [line] = connect_lines(pod("postgres", "db1.pods.localhost:8443"), "/ca.pem", credentials, True)

    assert line.argv == [
        "psql",
        "host=db1.pods.localhost hostaddr=127.0.0.1 port=8443 dbname=postgres user=db1 "
        "sslmode=verify-full sslrootcert=/ca.pem",
    ]
    assert line.env == {"PGPASSWORD": "s3cret"}
    assert "s3cret" not in line.text()


def test_a_remote_pod_on_443_needs_no_pinning_and_no_ca() -> None:
    [line] = connect_lines(pod("http", "web1.pods.example.org"))

    assert line.text() == "curl https://web1.pods.example.org/"


def test_tcp_is_openssl_and_local_only_has_no_line() -> None:
    [line] = connect_lines(pod("tcp", "n1.pods.localhost:8443"), "/ca.pem", local=True)

    assert line.argv[:5] == ["openssl", "s_client", "-quiet", "-connect", "127.0.0.1:8443"]
    assert connect_lines(pod("local_only", "")) == []


def test_loopback_urls() -> None:
    assert is_loopback("http://localhost:8080")
    assert is_loopback("https://127.0.0.1:1")
    assert not is_loopback("https://tacc.tapis.io")
