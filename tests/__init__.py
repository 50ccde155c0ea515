"""The test suite, mirroring the code: unit, contract, integration (real NATS, PostgreSQL, Docker,
Envoy), e2e (the whole stack), faults (processes killed, engines stopped) and security."""
