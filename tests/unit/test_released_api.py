"""The REST surface of the released API (protos/releases/) is unchanged: every RPC the
released image binds to a REST path still exists, under the same full name, with the same
request and response types and the same google.api.http bindings. `buf breaking` in
scripts/check guards the wire (fields, types, names); it does not compare google.api.http
options, which are what tapipy and curl see.

The one deliberate exception is listed in MOVED with its reason: the same REST binding is
served by a successor RPC (Tapis's shape), while the released RPC stays for gRPC clients."""

from __future__ import annotations

from pathlib import Path

from google.api import annotations_pb2
from google.protobuf import descriptor_pb2

from gateway.descriptor import build_descriptor_set

REPO = Path(__file__).resolve().parents[2]
BASELINE = REPO / "protos" / "releases" / "v1-baseline.binpb"

Bindings = dict[str, tuple[str, str, bool, str]]

# Released bindings now served by another RPC: released RPC -> (successor, why).
MOVED = {
    "pods.v1.PodsService.ExecPod": (
        "pods.v1.PodsService.ExecPodCommands",
        "Tapis compatibility (issue 13): a flat list of strings is one command and the result "
        "is {execution_results, total_commands, successful_commands}; ExecPod, deprecated, "
        "keeps its shapes over gRPC",
    ),
}


def rest_bindings(files: descriptor_pb2.FileDescriptorSet) -> Bindings:
    """RPC full name -> (request, response, server streaming, its http rule) for each RPC
    with a REST binding."""
    found: Bindings = {}
    for file in files.file:
        for service in file.service:
            for method in service.method:
                if not method.options.HasExtension(annotations_pb2.http):
                    continue
                rule = method.options.Extensions[annotations_pb2.http]
                name = f"{file.package}.{service.name}.{method.name}"
                found[name] = (
                    method.input_type,
                    method.output_type,
                    method.server_streaming,
                    str(rule),
                )
    return found


def test_the_released_rest_bindings_are_all_still_served(tmp_path: Path) -> None:
    # A buf image is a FileDescriptorSet with extra fields of buf's own.
    released = rest_bindings(descriptor_pb2.FileDescriptorSet.FromString(BASELINE.read_bytes()))
    current_set = build_descriptor_set(tmp_path / "current.pb")
    current = rest_bindings(descriptor_pb2.FileDescriptorSet.FromString(current_set.read_bytes()))
    assert len(released) > 40  # the image was read, extensions and all
    changed = {
        name: (was, current.get(name))
        for name, was in released.items()
        if current.get(name) != was and name not in MOVED
    }
    assert not changed, f"released REST bindings changed or removed: {changed}"
    for name, (successor, _) in MOVED.items():
        assert current[successor][3] == released[name][3], f"{successor} serves {name}'s binding"
        assert name not in current, f"{name} and {successor} would both bind one path"
