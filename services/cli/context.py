"""What every `pods` command shares: the REST client made from the saved login
(services/cli/config.py), the two consoles (results on stdout, progress and errors on stderr),
`--json` output, and the translation of failures into exit codes (1 for an API error, with the
API's message; typer itself exits 2 for a usage error). Used by services/cli/app.py,
pod_commands.py and volume_commands.py."""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, ParamSpec, TypeVar

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from services.cli import config
from services.cli.client import PodsClient
from services.cli.connect import is_loopback
from services.cli.errors import ApiError

out = Console(highlight=False, soft_wrap=False)
err = Console(stderr=True, highlight=False)

JsonOpt = Annotated[bool, typer.Option("--json", help="Print the API's answer as JSON.")]

P = ParamSpec("P")
R = TypeVar("R")


def client() -> PodsClient:
    """A client for the saved login (or PODS_URL / PODS_TOKEN / PODS_CA)."""
    profile = config.load()
    if not profile.token:
        raise ApiError(f"not logged in to {profile.url}: run `pods login` or set PODS_TOKEN")
    return PodsClient(profile.url, profile.token, profile.ca)


def ca_file() -> str:
    """The CA file of the saved login (empty: none)."""
    return config.load().ca


def base_url() -> str:
    return config.load().url


def dev_ca(url: str) -> str:
    """The development stack's CA (data/gateway/tls/ca.pem under the current directory, where
    scripts/up writes it) when `url` is on this machine and the file exists; else empty."""
    candidate = Path("data/gateway/tls/ca.pem")
    return str(candidate.resolve()) if is_loopback(url) and candidate.is_file() else ""


def table(*headers: str) -> Table:
    """A plain table whose cells fold rather than lose characters in a narrow terminal."""
    grid = Table(box=None, pad_edge=False, show_header=bool(headers))
    for header in headers:
        grid.add_column(header, overflow="fold")
    return grid


def emit_json(data: Any) -> None:
    """`data` as JSON on stdout (no colours, no wrapping: for scripts)."""
    typer.echo(json.dumps(data, indent=2, sort_keys=True))


def api_command(function: Callable[P, R]) -> Callable[P, R]:
    """Wraps a command: an ApiError is printed as `error: <message>` and exits 1; Ctrl-C (the
    way to leave `logs -f`) exits 130 quietly."""

    @functools.wraps(function)
    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return function(*args, **kwargs)
        except ApiError as error:
            err.print(f"[red]error:[/red] {escape(error.message)}")
            raise typer.Exit(1) from error
        except KeyboardInterrupt:
            raise typer.Exit(130) from None

    return run
