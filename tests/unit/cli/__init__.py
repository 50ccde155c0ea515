"""Unit tests of the `pods` command (services/cli): the SSE parser, the REST client, the watch
and connect logic, and the commands through typer's CliRunner, against canned HTTP answers."""
