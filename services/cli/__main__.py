"""`python -m services.cli`: the `pods` command, for a checkout where the script is not on PATH."""

from services.cli.app import app

app(prog_name="pods")
