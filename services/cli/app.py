"""The root of the `pods` command (`[project.scripts] pods = "services.cli.app:app"`): `pods
login` and the command groups of services/cli/pod_commands.py and volume_commands.py. Exit
codes: 0 done, 1 the API refused or failed (its message on stderr), 2 a usage error."""

from __future__ import annotations

from typing import Annotated

import typer

from services.cli import config, context, pod_commands, volume_commands
from services.cli.client import PodsClient
from services.cli.context import JsonOpt, api_command, emit_json, out

app = typer.Typer(
    name="pods",
    help="Pods as a service from the terminal: create, watch, connect to and share pods.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.command()
@api_command
def login(
    url: Annotated[
        str | None, typer.Option(help="The API's base URL (default: the saved one).")
    ] = None,
    username: Annotated[str | None, typer.Option(help="A user of the identity service.")] = None,
    password: Annotated[
        str | None, typer.Option(help="The password (asked when not given).", hidden=True)
    ] = None,
    token: Annotated[str | None, typer.Option(help="Use this token instead.")] = None,
    ca: Annotated[
        str | None, typer.Option(help="A CA file for an https gateway and the pods.")
    ] = None,
    json_output: JsonOpt = False,
) -> None:
    """Log in with a password (the identity service's password grant) or save a token."""
    saved = config.load()
    base = (url or saved.url).rstrip("/")
    ca_path = ca if ca is not None else (saved.ca or context.dev_ca(base))
    if token is None:
        user = username or typer.prompt("username")
        secret = password or typer.prompt("password", hide_input=True)
        token = PodsClient(base, ca=ca_path).password_token(user, secret)
    PodsClient(base, token, ca_path).list_pods()  # the token works here
    path = config.save(config.Profile(url=base, token=token, ca=ca_path))
    if json_output:
        emit_json({"url": base, "ca": ca_path, "config": str(path)})
    else:
        out.print(f"logged in to {base}; saved in {path}")


app.registered_commands += pod_commands.app.registered_commands
app.add_typer(volume_commands.app, name="volume")
