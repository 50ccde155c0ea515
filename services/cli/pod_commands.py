"""The pod commands of `pods`: create (with `--wait`, a live progress line), ls, get, logs
(`-f` follows), exec, connect, start, stop, restart, rm and share. Registered on the root app by
services/cli/app.py; each calls the REST client (services/cli/client.py) through
services/cli/context.py, and the watch code for `--wait` and `logs -f`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from enum import StrEnum
from typing import Annotated, Any

import typer
from rich.markup import escape

from services.cli import config, context
from services.cli.client import PodsClient
from services.cli.connect import connect_lines, is_loopback
from services.cli.context import JsonOpt, api_command, emit_json, err, out
from services.cli.errors import ApiError
from services.cli.watch import PodState, follow_logs, pod_states

app = typer.Typer()

FAILED = ("ERROR", "COMPLETE", "STOPPED", "DELETING", "DELETED")
PodId = Annotated[str, typer.Argument(help="The pod's id.", show_default=False)]


class Level(StrEnum):
    """A permission level on a pod."""

    READ = "READ"
    USER = "USER"
    ADMIN = "ADMIN"


def _spec(
    pod_id: str,
    template: str | None,
    image: str | None,
    description: str,
    env: list[str],
) -> dict[str, Any]:
    if (template is None) == (image is None):
        raise typer.BadParameter("give exactly one of --template and --image")
    spec: dict[str, Any] = {"pod_id": pod_id, "description": description}
    spec.update({"template": template} if template else {"image": image})
    variables = {}
    for item in env:
        name, sep, value = item.partition("=")
        if not sep or not name:
            raise typer.BadParameter(f"{item!r} is not NAME=VALUE", param_hint="--env")
        variables[name] = value
    if variables:
        spec["environment_variables"] = variables
    return spec


@app.command()
@api_command
def create(
    pod_id: PodId,
    template: Annotated[str | None, typer.Option(help="A template, e.g. postgres.")] = None,
    image: Annotated[str | None, typer.Option(help="An image serving HTTP on port 5000.")] = None,
    description: Annotated[str, typer.Option(help="Free text.")] = "",
    env: Annotated[
        list[str] | None, typer.Option("--env", "-e", help="NAME=VALUE, repeatable.")
    ] = None,
    wait: Annotated[bool, typer.Option(help="Show progress until the pod is AVAILABLE.")] = False,
    timeout: Annotated[float, typer.Option(help="Seconds --wait waits.")] = 600,
    json_output: JsonOpt = False,
) -> None:
    """Create a pod from a template or an image."""
    spec = _spec(pod_id, template, image, description, env or [])
    api = context.client()
    pod = api.create_pod(spec)
    if wait:
        _wait_available(api, pod_id, str(pod.get("status", "")), timeout)
        pod = api.get_pod(pod_id)
    if json_output:
        emit_json(pod)
        return
    urls = [str(n.get("url")) for n in (pod.get("networking") or {}).values() if n.get("url")]
    out.print(f"{pod_id}: {pod.get('status', '')}" + (f"  {', '.join(urls)}" if wait else ""))


def _wait_available(api: PodsClient, pod_id: str, first: str, timeout: float) -> PodState:
    """Shows each state the pod goes through (a line each, and a live line with the path so
    far) until it is AVAILABLE; an ApiError with the reason if it fails or time runs out."""
    started = time.monotonic()
    seen = [first] if first else []
    if first:
        err.print(f"{pod_id}: {first}")
    with err.status(_path(seen)) as status:
        for state in pod_states(api, pod_id, interval=config.poll_interval()):
            elapsed = time.monotonic() - started
            if not seen or state.status != seen[-1]:
                seen.append(state.status)
                reason = f"  {escape(state.reason())}" if state.reason() else ""
                err.print(f"{pod_id}: {state.status} ({elapsed:.0f} s){reason}")
                status.update(_path(seen))
            if state.status == "AVAILABLE":
                return state
            if state.status in FAILED:
                raise ApiError(f"pod {pod_id} is {state.status}: {state.reason() or 'no reason'}")
            if elapsed > timeout:
                raise ApiError(f"pod {pod_id} is still {state.status} after {timeout:.0f} s")
    raise ApiError(f"the watch of pod {pod_id} ended before it was AVAILABLE")


def _path(seen: list[str]) -> str:
    return " → ".join(seen) + " …"


@app.command("ls")
@api_command
def list_pods(json_output: JsonOpt = False) -> None:
    """List the pods you can see."""
    pods = context.client().list_pods()
    if json_output:
        emit_json(pods)
        return
    table = context.table("POD", "STATUS", "FROM", "ADDRESS", "CREATED")
    for pod in pods:
        urls = ", ".join(str(n.get("url", "")) for n in (pod.get("networking") or {}).values())
        table.add_row(
            str(pod.get("pod_id", "")),
            str(pod.get("status", "")),
            str(pod.get("template") or pod.get("image") or ""),
            urls,
            str(pod.get("creation_ts", ""))[:19],
        )
    out.print(table)


@app.command()
@api_command
def get(pod_id: PodId, json_output: JsonOpt = False) -> None:
    """Show a pod."""
    pod = context.client().get_pod(pod_id)
    if json_output:
        emit_json(pod)
        return
    container = pod.get("status_container") or {}
    rows = {
        "pod": pod.get("pod_id"),
        "status": pod.get("status"),
        "requested": pod.get("status_requested"),
        "from": pod.get("template") or pod.get("image"),
        "container": " ".join(
            str(v) for v in (container.get("phase"), container.get("message")) if v
        ),
        "addresses": ", ".join(
            f"{name}: {n.get('url', '')} ({n.get('protocol', 'http')})"
            for name, n in sorted((pod.get("networking") or {}).items())
        ),
        "owner": pod.get("owner"),
        "created": pod.get("creation_ts"),
        "restarts": pod.get("restart_count"),
        "last exit": pod.get("last_exit_reason"),
        "description": pod.get("description"),
    }
    table = context.table()
    table.add_column(style="bold")
    table.add_column(overflow="fold")
    for key, value in rows.items():
        if value not in (None, ""):
            table.add_row(key, escape(str(value)))
    out.print(table)


@app.command()
@api_command
def logs(
    pod_id: PodId,
    follow: Annotated[bool, typer.Option("--follow", "-f", help="Keep printing output.")] = False,
    previous: Annotated[int, typer.Option(help="1 or 2: an earlier run's output.")] = 0,
    json_output: JsonOpt = False,
) -> None:
    """Print a pod's output (the current run's, or an earlier one's)."""
    api = context.client()
    if not follow:
        result = api.pod_logs(pod_id, previous)
        if json_output:
            emit_json(result)
        else:
            sys.stdout.write(str(result.get("logs") or ""))
        return
    for chunk in follow_logs(api, pod_id, interval=config.poll_interval()):
        if json_output:
            line = {"run": chunk.run, "new_run": chunk.new_run, "text": chunk.text}
            typer.echo(json.dumps(line))  # one JSON object per line
        elif chunk.new_run:
            err.print(f"--- run {chunk.run} ---")
        else:
            sys.stdout.write(chunk.text)
        sys.stdout.flush()


@app.command("exec", context_settings={"allow_interspersed_args": False})
@api_command
def exec_command(
    pod_id: PodId,
    command: Annotated[list[str], typer.Argument(help="The command and its arguments.")],
    timeout: Annotated[int, typer.Option(help="Seconds the command may run.")] = 60,
    json_output: JsonOpt = False,
) -> None:
    """Run a command in a pod (without a shell): `pods exec POD -- ls -l /`."""
    command = command[1:] if command[:1] == ["--"] else command  # past the pod id, `--` is kept
    if not command:
        raise typer.BadParameter("give the command to run", param_hint="COMMAND")
    results = context.client().exec(pod_id, [command], timeout)
    if json_output:
        emit_json(results)
    else:
        for result in results:
            sys.stdout.write(str(result.get("stdout") or ""))
            sys.stderr.write(str(result.get("stderr") or ""))
    for result in results:
        if not result.get("success", True):  # exit_code and timed_out are ours, not Tapis's
            code = result.get("exit_code")
            what = "timed out" if result.get("timed_out") else f"exited with code {code}"
            raise ApiError(f"{' '.join(command)} {what}")


@app.command()
@api_command
def connect(
    pod_id: PodId,
    open_it: Annotated[bool, typer.Option("--open", help="Run the line.")] = False,
    stanza: Annotated[str | None, typer.Option(help="Only this networking stanza.")] = None,
    ca: Annotated[str | None, typer.Option(help="The CA file (default: the login's).")] = None,
    json_output: JsonOpt = False,
) -> None:
    """Print the command that connects to a pod (curl, psql, openssl), with the CA."""
    api = context.client()
    pod = api.get_pod(pod_id)
    credentials: dict[str, Any] = {}
    protocols = {str(n.get("protocol")) for n in (pod.get("networking") or {}).values()}
    if "postgres" in protocols:
        try:
            credentials = api.pod_credentials(pod_id)
        except ApiError:
            credentials = {}  # READ alone does not show credentials: psql will ask
    ca_path = ca if ca is not None else context.ca_file()
    lines = connect_lines(pod, ca_path, credentials, local=is_loopback(api.url))
    lines = [line for line in lines if stanza in (None, line.stanza)]
    if not lines:
        named = f" named {stanza}" if stanza else ""
        raise ApiError(f"pod {pod_id} has no public address{named}")
    if json_output:
        emit_json(
            [{"stanza": x.stanza, "protocol": x.protocol, "command": x.text()} for x in lines]
        )
    elif not open_it:
        for line in lines:
            out.print(escape(line.text()), soft_wrap=True)
    if open_it:
        line = lines[0]
        code = subprocess.run(line.argv, env={**os.environ, **line.env}, check=False).returncode
        if code:
            raise ApiError(f"{line.argv[0]} exited with code {code}")


def _act(pod_id: str, action: str, json_output: bool) -> None:
    result = context.client().act(pod_id, action)
    if json_output:
        emit_json(result)
    else:
        out.print(f"{pod_id}: {action} requested ({result.get('status_requested', '')})")


@app.command()
@api_command
def start(pod_id: PodId, json_output: JsonOpt = False) -> None:
    """Start a stopped pod."""
    _act(pod_id, "start", json_output)


@app.command()
@api_command
def stop(pod_id: PodId, json_output: JsonOpt = False) -> None:
    """Stop a pod (its record and credentials are kept)."""
    _act(pod_id, "stop", json_output)


@app.command()
@api_command
def restart(pod_id: PodId, json_output: JsonOpt = False) -> None:
    """Restart a pod in a fresh container."""
    _act(pod_id, "restart", json_output)


@app.command("rm")
@api_command
def remove(pod_id: PodId, json_output: JsonOpt = False) -> None:
    """Delete a pod."""
    result = context.client().delete_pod(pod_id)
    if json_output:
        emit_json(result)
    else:
        out.print(f"{pod_id}: deleted")


@app.command()
@api_command
def share(
    pod_id: PodId,
    user: Annotated[str, typer.Argument(help="The user to grant to.")],
    level: Annotated[Level, typer.Argument(help="READ, USER or ADMIN.", case_sensitive=False)],
    json_output: JsonOpt = False,
) -> None:
    """Grant a user a permission level on a pod."""
    result = context.client().set_pod_permission(pod_id, user, level.value)
    if json_output:
        emit_json(result)
    else:
        out.print(f"{pod_id}: {user} has {level.value}")
