"""The gateway: Envoy in front of the API and the pods, and the pod router that keeps its routes.

Two processes live here. `python -m gateway` (gateway/__main__.py) builds the descriptor set,
the TLS files, an empty route snapshot and the Envoy bootstrap under `<data_dir>/gateway/`,
validates them and execs Envoy: REST transcoded to gRPC and native gRPC on one port
(gateway/envoy_config.py, rest_listener.py, rest_routes.py; the public services are listed in
gateway/public_api.py) with the web console's static files (gateway/console/, served by Envoy
itself: gateway/console_routes.py), and every pod by name on the TLS pods port
(gateway/pods_listener.py, published as LDS/CDS files by gateway/xds_files.py). `python -m
gateway.pod_router` (gateway/pod_router.py, the process wiring) keeps the routes current from
the database and pod events (gateway/route_keeper.py, behind the Protocols of gateway/ports.py)
and runs the STARTTLS router for classic PostgreSQL clients (gateway/starttls_router.py).
Everything that builds Envoy configuration is pure (dicts, no I/O but reading the console's
files). See gateway/README.md for the behaviour clients observe.
"""
