"""The Kubernetes manifests rendered for each overlay and checked offline (RBAC, settings, images)."""
