"""Unit tests of the gateway: Envoy configuration, routes, the route keeper, the STARTTLS router's
parsing."""
