"""Entry point: `python -m services.api`."""

from services.api.server import main

main()
