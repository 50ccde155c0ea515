"""Builds the protobuf descriptor set Envoy's gRPC-JSON transcoder reads.

Called by `python -m gateway` (gateway/__main__.py) at start-up and by the gateway tests. The
set is compiled from every .proto under protos/ with `--include_imports
--include_source_info`, so the `google.api.http` annotations and everything they import are
in it. `google/rpc/error_details.proto` is added too: with `convert_grpc_status` Envoy can only
print rich error details (BadRequest, ErrorInfo, ...) whose types are in the set. The file is
written atomically, so a reader never sees half of it.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from services.common.protoc import PROTO_ROOT, proto_files, run_protoc

# Well-known files compiled in addition to ours (resolved on protoc's include path).
EXTRA_PROTOS: tuple[str, ...] = ("google/rpc/status.proto", "google/rpc/error_details.proto")


def build_descriptor_set(target: Path) -> Path:
    """Compiles protos/ into a FileDescriptorSet at `target` and returns `target`.

    Raises services.common.protoc.ProtocError when protoc fails.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        run_protoc(
            [
                "--include_imports",
                "--include_source_info",
                f"--descriptor_set_out={tmp}",
                *(str(p.relative_to(PROTO_ROOT)) for p in proto_files()),
                *EXTRA_PROTOS,
            ]
        )
        tmp.chmod(0o644)  # mkstemp makes it private; Envoy may run as another user
        tmp.replace(target)
    finally:
        tmp.unlink(missing_ok=True)
    return target
