"""The gateway against a real Envoy: transcoding, hardening, pod routes, the STARTTLS router."""
