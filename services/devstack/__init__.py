"""The local stack launcher: runs nats-server, api, spawner, health and the Envoy gateway on
one machine with embedded defaults, restarts any that dies, and stops them all on Ctrl-C.
Run by `scripts/up` (`python -m services.devstack`) and by the end-to-end tests."""
