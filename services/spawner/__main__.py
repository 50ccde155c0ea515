"""Entry point: `python -m services.spawner`."""

from services.spawner.server import main

main()
