"""Runs protoc (from grpcio-tools) with the include paths our protos need.

Used by scripts/gen_protos.py (Python code) and gateway/descriptor.py (the descriptor set
Envoy transcodes with).
"""

from __future__ import annotations

from pathlib import Path

import google.api
import grpc_tools
from grpc_tools import protoc

PROTO_ROOT = Path(__file__).resolve().parents[2] / "protos"
GOOGLEAPIS_ROOT = Path(google.api.__path__[0]).parent.parent
WELL_KNOWN_ROOT = Path(grpc_tools.__file__).parent / "_proto"


class ProtocError(RuntimeError):
    """protoc exited with a non-zero status."""


def proto_files() -> list[Path]:
    """Every .proto file of ours, in a stable order."""
    return sorted(PROTO_ROOT.rglob("*.proto"))


def run_protoc(args: list[str]) -> None:
    """Runs protoc with our include paths prepended to `args`."""
    argv = [
        "grpc_tools.protoc",
        f"-I{PROTO_ROOT}",
        f"-I{GOOGLEAPIS_ROOT}",
        f"-I{WELL_KNOWN_ROOT}",
        *args,
    ]
    status = protoc.main(argv)
    if status != 0:
        raise ProtocError(f"protoc failed with status {status}: {' '.join(args)}")
