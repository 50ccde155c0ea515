"""The commands through typer's CliRunner against canned answers: arguments, output (tables,
--json, the --wait progress lines) and exit codes (0 done, 1 API error with its message, 2
usage)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import requests
from typer.testing import CliRunner

from services.cli import app as app_module
from services.cli import context
from services.cli.app import app
from services.cli.client import PodsClient
from tests.unit.cli.fake_http import URL, Answer, FakeApi, client_for, error, ok

runner = CliRunner()
WEB = {
    "pod_id": "web1",
    "status": "AVAILABLE",
    "image": "pods-http:latest",
    "status_requested": "ON",
    "networking": {
        "default": {"protocol": "http", "port": 5000, "url": "web1.pods.localhost:8443"}
    },
    "creation_ts": "2026-12-06T21:00:00Z",
}


@pytest.fixture
def api(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> FakeApi:
    fake = FakeApi()
    monkeypatch.setenv("PODS_CONFIG", str(tmp_path / "config.json"))
    monkeypatch.setattr(context, "client", lambda: client_for(fake))
    monkeypatch.setattr(context, "ca_file", lambda: "/ca.pem")
    monkeypatch.setattr("services.cli.watch.time.sleep", lambda _: None)
    return fake


def run(*args: str) -> Any:
    return runner.invoke(app, list(args), env={"COLUMNS": "200"})


def test_ls_prints_a_table(api: FakeApi) -> None:
    api.routes["GET /v3/pods"] = ok([WEB])

    result = run("ls")

    assert result.exit_code == 0, result.output
    header, row = result.stdout.splitlines()[:2]
    assert header.split() == ["POD", "STATUS", "FROM", "ADDRESS", "CREATED"]
    assert row.split()[:4] == ["web1", "AVAILABLE", "pods-http:latest", "web1.pods.localhost:8443"]


def test_json_prints_the_apis_answer(api: FakeApi) -> None:
    api.routes["GET /v3/pods/web1"] = ok(WEB)

    result = run("get", "web1", "--json")

    assert result.exit_code == 0
    assert json.loads(result.stdout) == WEB


def test_an_api_error_exits_1_with_its_message(api: FakeApi) -> None:
    api.routes["GET /v3/pods/nope"] = error(404, "Pod nope not found.")

    result = run("get", "nope")

    assert result.exit_code == 1
    assert "error: Pod nope not found." in result.stderr


@pytest.mark.parametrize(
    "args",
    [
        ["create", "web1"],  # neither --template nor --image
        ["create", "web1", "--template", "postgres", "--image", "x"],
        ["create", "web1", "--image", "x", "--env", "NOVALUE"],
        ["share", "web1", "bob", "OWNER"],
        ["frobnicate"],
    ],
)
def test_usage_errors_exit_2(api: FakeApi, args: list[str]) -> None:
    assert run(*args).exit_code == 2
    assert api.seen == []


def test_create_sends_the_spec(api: FakeApi) -> None:
    api.routes["POST /v3/pods"] = ok({"pod_id": "web1", "status": "REQUESTED"})

    result = run("create", "web1", "--image", "pods-http:latest", "-e", "A=1", "-e", "B=x=y")

    assert result.exit_code == 0, result.output
    assert json.loads(api.bodies[0]) == {
        "pod_id": "web1",
        "image": "pods-http:latest",
        "description": "",
        "environment_variables": {"A": "1", "B": "x=y"},
    }
    assert result.stdout == "web1: REQUESTED\n"


def test_create_wait_shows_each_state_in_order(api: FakeApi) -> None:
    api.routes["POST /v3/pods"] = ok({"pod_id": "web1", "status": "REQUESTED"})
    states = ["REQUESTED", "CREATING", "CREATING", "AVAILABLE", "AVAILABLE"]
    api.routes["GET /v3/pods/web1"] = [ok({**WEB, "status": s}) for s in states]
    api.routes["GET /v3/pods/web1/logs"] = ok({"logs": "", "action_logs": []})

    result = run("create", "web1", "--image", "pods-http:latest", "--wait", "--json")

    assert result.exit_code == 0, result.output
    lines = [line.split()[1] for line in result.stderr.splitlines() if line.startswith("web1:")]
    assert lines == ["REQUESTED", "CREATING", "AVAILABLE"]
    assert json.loads(result.stdout)["status"] == "AVAILABLE"


def test_create_wait_fails_with_the_reason(api: FakeApi) -> None:
    api.routes["POST /v3/pods"] = ok({"pod_id": "web1", "status": "REQUESTED"})
    failed = {"status": "ERROR", "status_container": {"message": "image nope not found"}}
    api.routes["GET /v3/pods/web1"] = [ok({"status": "REQUESTED"}), ok(failed)]
    api.routes["GET /v3/pods/web1/logs"] = ok({"logs": "", "action_logs": []})

    result = run("create", "web1", "--image", "nope", "--wait")

    assert result.exit_code == 1
    assert "pod web1 is ERROR: image nope not found" in result.stderr


def test_logs_print_the_output(api: FakeApi) -> None:
    api.routes["GET /v3/pods/web1/logs"] = ok({"logs": "line 1\nline 2\n", "action_logs": []})

    result = run("logs", "web1")

    assert (result.exit_code, result.stdout) == (0, "line 1\nline 2\n")


def test_exec_prints_output_and_fails_on_a_failing_command(api: FakeApi) -> None:
    failed = {"command": ["ls", "/nope"], "success": False, "exit_code": 2, "stderr": "no\n"}
    outputs = {"execution_results": [failed], "total_commands": 1, "successful_commands": 0}
    api.routes["POST /v3/pods/web1/exec"] = ok(outputs)

    result = run("exec", "web1", "--", "ls", "/nope")

    assert result.exit_code == 1
    assert json.loads(api.bodies[0])["commands"] == [["ls", "/nope"]]
    assert "ls /nope exited with code 2" in result.stderr


def test_connect_prints_the_line(api: FakeApi) -> None:
    api.routes["GET /v3/pods/web1"] = ok(WEB)

    result = run("connect", "web1")

    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == "curl --cacert /ca.pem https://web1.pods.localhost:8443/"


def test_share_grants_the_level(api: FakeApi) -> None:
    api.routes["POST /v3/pods/web1/permissions"] = ok({"permissions": ["bob:READ"]})

    result = run("share", "web1", "bob", "read")

    assert result.exit_code == 0, result.output
    assert json.loads(api.bodies[0]) == {"user": "bob", "level": "READ"}


@pytest.mark.parametrize("action", ["start", "stop", "restart"])
def test_lifecycle_commands(api: FakeApi, action: str) -> None:
    api.routes[f"GET /v3/pods/web1/{action}"] = ok({**WEB, "status_requested": "ON"})

    result = run(action, "web1")

    assert result.exit_code == 0, result.output
    assert f"web1: {action} requested" in result.stdout


def test_volume_round_trip(api: FakeApi, tmp_path: Path) -> None:
    local = tmp_path / "in.bin"
    local.write_bytes(b"abc" * 1000)
    api.routes["POST /v3/pods/volumes/data1/upload/in.bin"] = ok({})
    api.routes["GET /v3/pods/volumes/data1/list"] = ok(
        [{"path": "in.bin", "type": "file", "size": 3000}]
    )
    api.routes["GET /v3/pods/volumes/data1/contents/in.bin"] = Answer(
        200, b"abc" * 1000, "application/octet-stream"
    )
    back = tmp_path / "back.bin"

    assert run("volume", "upload", "data1", str(local)).exit_code == 0
    result = run("volume", "download", "data1", "in.bin", str(back))

    assert result.exit_code == 0, result.output
    assert api.bodies[0] == b"abc" * 1000
    assert back.read_bytes() == b"abc" * 1000
    assert not (tmp_path / "back.bin.part").exists()


def test_login_with_a_password_saves_the_token_for_the_owner_only(
    api: FakeApi, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    api.routes["POST /v3/oauth2/tokens"] = ok({"access_token": {"access_token": "jwt1"}})
    api.routes["GET /v3/pods"] = ok([])

    def fake_client(url: str, token: str = "", ca: str = "") -> PodsClient:
        session = requests.Session()
        session.mount("http://", api)
        return PodsClient(url, token, ca, session=session)

    monkeypatch.setattr(app_module, "PodsClient", fake_client)

    result = run("login", "--url", URL, "--username", "testuser", "--password", "testpass")

    assert result.exit_code == 0, result.output
    saved = tmp_path / "config.json"
    assert json.loads(saved.read_text())["token"] == "jwt1"
    assert saved.stat().st_mode & 0o777 == 0o600
    assert api.headers_of("GET /v3/pods")["X-Tapis-Token"] == "jwt1"


def test_without_a_login_a_command_says_how_to_log_in(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PODS_CONFIG", str(tmp_path / "none.json"))
    monkeypatch.delenv("PODS_TOKEN", raising=False)

    result = run("ls")

    assert result.exit_code == 1
    assert "run `pods login`" in result.stderr


def test_the_dev_stacks_ca_is_found_for_a_local_url(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "data" / "gateway" / "tls").mkdir(parents=True)
    (tmp_path / "data" / "gateway" / "tls" / "ca.pem").write_text("pem")

    assert context.dev_ca("https://localhost:8080") == str(
        tmp_path / "data" / "gateway" / "tls" / "ca.pem"
    )
    assert context.dev_ca("https://tacc.tapis.io") == ""


def test_ctrl_c_while_following_exits_130_quietly(
    api: FakeApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    def interrupted(*args: object, **kwargs: object) -> object:
        raise KeyboardInterrupt

    monkeypatch.setattr("services.cli.pod_commands.follow_logs", interrupted)

    result = run("logs", "-f", "web1")

    assert (result.exit_code, result.stderr) == (130, "")
