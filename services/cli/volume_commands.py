"""`pods volume ...`: ls (your volumes, or a volume's files), create, upload and download with
byte progress bars. Registered on the root app by services/cli/app.py as the `volume` group;
calls the REST client (services/cli/client.py) through services/cli/context.py."""

from __future__ import annotations

from pathlib import Path, PurePosixPath
from typing import Annotated

import typer
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TextColumn,
    TransferSpeedColumn,
)

from services.cli import context
from services.cli.context import JsonOpt, api_command, emit_json, err, out
from services.cli.errors import ApiError

app = typer.Typer(help="Volumes and their files.", no_args_is_help=True)

VolumeId = Annotated[str, typer.Argument(help="The volume's id.", show_default=False)]


def _bar() -> Progress:
    """A byte progress bar on stderr (hidden when stderr is not a terminal)."""
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        console=err,
        transient=False,
    )


@app.command("ls")
@api_command
def list_volumes(
    volume_id: Annotated[
        str | None, typer.Argument(help="List this volume's files.", show_default=False)
    ] = None,
    path: Annotated[str, typer.Option(help="A directory in the volume.")] = "",
    json_output: JsonOpt = False,
) -> None:
    """List your volumes, or the files of one (recursively)."""
    api = context.client()
    if volume_id is None:
        volumes = api.list_volumes()
        if json_output:
            emit_json(volumes)
            return
        table = context.table("VOLUME", "STATUS", "SIZE MiB", "LIMIT MiB", "DESCRIPTION")
        for v in volumes:
            table.add_row(
                *(str(v.get(k, "")) for k in ("volume_id", "status", "size", "size_limit")),
                str(v.get("description") or ""),
            )
        out.print(table)
        return
    files = api.list_files(volume_id, path)
    if json_output:
        emit_json(files)
        return
    table = context.table("PATH", "TYPE", "BYTES", "MODIFIED")
    for f in files:
        row = (f.get("path", ""), f.get("type", ""), f.get("size", 0), f.get("lastModified", ""))
        table.add_row(*(str(x) for x in row))
    out.print(table)


@app.command()
@api_command
def create(
    volume_id: VolumeId,
    description: Annotated[str, typer.Option(help="Free text.")] = "",
    json_output: JsonOpt = False,
) -> None:
    """Create a volume."""
    volume = context.client().create_volume(volume_id, description)
    if json_output:
        emit_json(volume)
    else:
        out.print(f"{volume_id}: {volume.get('status', '')}")


@app.command()
@api_command
def upload(
    volume_id: VolumeId,
    local: Annotated[Path, typer.Argument(help="The file to send.", exists=True, dir_okay=False)],
    remote: Annotated[
        str | None, typer.Argument(help="Its path in the volume (default: its name).")
    ] = None,
    json_output: JsonOpt = False,
) -> None:
    """Upload a file into a volume."""
    target = remote or local.name
    size = local.stat().st_size
    api = context.client()
    with local.open("rb") as source, _bar() as bar:
        task = bar.add_task(f"{local.name} → {volume_id}:{target}", total=size)
        result = api.upload(volume_id, target, source, size, lambda n: bar.advance(task, n))
    if json_output:
        emit_json(result)
    else:
        out.print(f"{volume_id}:{target}: {size} bytes uploaded")


@app.command()
@api_command
def download(
    volume_id: VolumeId,
    remote: Annotated[str, typer.Argument(help="The file's path in the volume.")],
    local: Annotated[
        Path | None, typer.Argument(help="Where to write it (default: its name here).")
    ] = None,
    json_output: JsonOpt = False,
) -> None:
    """Download a file from a volume."""
    target = local or Path(PurePosixPath(remote).name)
    api = context.client()
    total = _size(api.list_files(volume_id, remote), remote)
    partial = target.with_name(target.name + ".part")
    try:
        with partial.open("wb") as sink, _bar() as bar:
            task = bar.add_task(f"{volume_id}:{remote} → {target}", total=total)
            written = api.download(volume_id, remote, sink, lambda n: bar.advance(task, n))
        partial.replace(target)
    finally:
        partial.unlink(missing_ok=True)
    if json_output:
        emit_json({"volume_id": volume_id, "path": remote, "file": str(target), "bytes": written})
    else:
        out.print(f"{target}: {written} bytes")


def _size(listing: list[dict[str, object]], remote: str) -> int | None:
    """The file's size from its listing (None if the listing does not say: no total)."""
    for entry in listing:
        if entry.get("type") == "dir":
            raise ApiError(f"{remote} is a directory")
        size = entry.get("size")
        if isinstance(size, int | str) and str(size).isdigit():
            return int(size)
    return None
