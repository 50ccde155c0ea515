"""Entry point: `python -m services.health`."""

from services.health.server import main

main()
