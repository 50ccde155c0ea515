"""Unit tests of the runtime seam: the fake, translations, wire mappings, and the Docker and
Kubernetes adapters against in-memory doubles."""
