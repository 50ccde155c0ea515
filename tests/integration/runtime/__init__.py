"""The Docker runtime against the real engine (and a Kubernetes cluster where KUBECONFIG is set)."""
