"""The Envoy gateway: REST-to-gRPC transcoding in front of the API (and, later, pod routing).

`python -m gateway` builds the protobuf descriptor set and the Envoy bootstrap under
`<data_dir>/gateway/`, validates it and runs Envoy in the foreground. The bootstrap itself is
built by the pure functions of `gateway.envoy_config`; see gateway/README.md for the
behaviour clients observe (status codes and bodies of rejected requests).
"""
