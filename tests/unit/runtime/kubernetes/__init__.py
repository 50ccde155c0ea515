"""Unit tests of the Kubernetes platform against an in-memory double of our KubeApi wrapper."""
