"""PodFilesService over gRPC: files written into a pod's running container (Tapis's
upload_to_pod). Runs domain.pod_files; enveloped.py authenticates the call and wraps the
reply in the Tapis envelope. Registered by services/api/server.py."""

from __future__ import annotations

from services.api.domain.pod_files import PodFiles
from services.api.domain.principal import Principal
from services.api.transport.auth import Authenticator
from services.api.transport.enveloped import Authenticated, Reply, enveloped
from services.api.transport.uploads import pod_upload
from services.common.generated.pods.v1 import pod_files_service_pb2 as pb
from services.common.generated.pods.v1 import pod_files_service_pb2_grpc as pb_grpc


class PodFilesServicer(Authenticated, pb_grpc.PodFilesServiceServicer):
    """Thin transport over domain.pod_files.PodFiles."""

    def __init__(self, files: PodFiles, auth: Authenticator) -> None:
        super().__init__(auth)
        self._files = files

    @enveloped(pb.UploadToPodResponse)
    async def UploadToPod(self, request: pb.UploadToPodRequest, who: Principal) -> Reply:
        data, dest_path = pod_upload(
            request.file.content_type, request.file.data, request.dest_path
        )
        done = await self._files.upload(who, request.pod_id, dest_path, data)
        result = pb.PodUpload(uploaded=done.dest_path, pod_name=done.pod_id, size=done.size)
        return Reply(
            result, f"Uploaded {done.size} bytes to '{done.dest_path}' in pod '{done.pod_id}'."
        )
