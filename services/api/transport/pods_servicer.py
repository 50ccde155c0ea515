"""PodsService over gRPC: pods, their logs, credentials, exec and permissions, and users'
quotas. Each method runs one use case of domain.pods (or domain.quotas); enveloped.py
authenticates the call and wraps the reply in the Tapis envelope. The streams (WatchPod,
WatchPods, FollowPodLogs) come from watch_servicer.WatchCalls. Registered by
services/api/server.py."""

from __future__ import annotations

from services.api.domain.pods import Changed, Pods
from services.api.domain.principal import Principal
from services.api.domain.quotas import Quotas
from services.api.domain.watch import PodWatch
from services.api.errors import InvalidArgumentError
from services.api.transport.auth import Authenticator
from services.api.transport.enveloped import GrantCalls, Reply, enveloped
from services.api.transport.pods_convert import (
    exec_output,
    exec_request,
    execution_results,
    pod_message,
    pod_request,
    pod_update,
    quota_message,
    quota_overrides,
)
from services.api.transport.watch_servicer import WatchCalls
from services.common.generated.pods.v1 import pod_pb2
from services.common.generated.pods.v1 import pods_service_pb2 as pb
from services.common.generated.pods.v1 import pods_service_pb2_grpc as pb_grpc


class PodsServicer(WatchCalls, pb_grpc.PodsServiceServicer):
    """Thin transport over domain.pods.Pods, domain.quotas.Quotas and domain.watch.PodWatch."""

    def __init__(
        self,
        pods: Pods,
        auth: Authenticator,
        pod_domain: str,
        pods_port: int,
        quotas: Quotas,
        watch: PodWatch,
    ) -> None:
        super().__init__(auth, watch)
        self._pods = pods
        self._quotas = quotas
        self._domain = pod_domain
        self._port = pods_port
        grants = (pods.permissions, pods.set_permission, pods.delete_permission)
        self._grants = GrantCalls("pod", *grants, pod_pb2.PodPermissions)

    def _pod(self, changed: Changed) -> Reply:
        return Reply(pod_message(changed.record, self._domain, self._port), changed.message)

    @enveloped(pb.CreatePodResponse)
    async def CreatePod(self, request: pb.CreatePodRequest, who: Principal) -> Reply:
        record = await self._pods.create(who, pod_request(request.pod))
        started = "it is being started" if record.status_requested.value == "ON" else "it is OFF"
        return Reply(
            pod_message(record, self._domain, self._port),
            f"Pod '{record.key.pod_id}' created; {started}.",
        )

    @enveloped(pb.ListPodsResponse)
    async def ListPods(self, request: pb.ListPodsRequest, who: Principal) -> Reply:
        records, next_token = await self._pods.list_page(who, request.page_size, request.page_token)
        pods = [pod_message(r, self._domain, self._port) for r in records]
        return Reply(pods, f"{len(records)} pods found.", {"next_page_token": next_token})

    @enveloped(pb.GetPodResponse)
    async def GetPod(self, request: pb.GetPodRequest, who: Principal) -> Reply:
        record = await self._pods.get(who, request.pod_id)
        message = f"Pod '{record.key.pod_id}' is {record.status.value}."
        return Reply(pod_message(record, self._domain, self._port), message)

    @enveloped(pb.DeletePodResponse)
    async def DeletePod(self, request: pb.DeletePodRequest, who: Principal) -> Reply:
        record = await self._pods.delete(who, request.pod_id)
        return Reply("", f"Pod '{record.key.pod_id}' is being deleted.")

    @enveloped(pb.GetPodLogsResponse)
    async def GetPodLogs(self, request: pb.GetPodLogsRequest, who: Principal) -> Reply:
        view = await self._pods.logs(who, request.pod_id, request.previous)
        logs = pod_pb2.PodLogs(logs=view.logs, action_logs=list(view.action_logs))
        return Reply(logs, f"Logs of pod '{request.pod_id}'.")

    @enveloped(pb.GetPodCredentialsResponse)
    async def GetPodCredentials(
        self, request: pb.GetPodCredentialsRequest, who: Principal
    ) -> Reply:
        found = await self._pods.credentials(who, request.pod_id)
        credentials = pod_pb2.PodCredentials(
            user_username=found.username, user_password=found.password
        )
        return Reply(credentials, f"Credentials of pod '{request.pod_id}'.")

    @enveloped(pb.UpdatePodResponse)
    async def UpdatePod(self, request: pb.UpdatePodRequest, who: Principal) -> Reply:
        mask = list(request.update_mask.paths)
        return self._pod(
            await self._pods.update(who, pod_update(request.pod, request.pod_id, mask))
        )

    @enveloped(pb.StartPodResponse)
    async def StartPod(self, request: pb.StartPodRequest, who: Principal) -> Reply:
        return self._pod(
            await self._pods.start(who, request.pod_id, request.grab_latest_template_tag)
        )

    @enveloped(pb.StopPodResponse)
    async def StopPod(self, request: pb.StopPodRequest, who: Principal) -> Reply:
        return self._pod(await self._pods.stop(who, request.pod_id))

    @enveloped(pb.RestartPodResponse)
    async def RestartPod(self, request: pb.RestartPodRequest, who: Principal) -> Reply:
        return self._pod(
            await self._pods.restart(who, request.pod_id, request.grab_latest_template_tag)
        )

    @enveloped(pb.GetPodPermissionsResponse)
    async def GetPodPermissions(
        self, request: pb.GetPodPermissionsRequest, who: Principal
    ) -> Reply:
        return await self._grants.listed(who, request.pod_id)

    @enveloped(pb.SetPodPermissionResponse)
    async def SetPodPermission(self, request: pb.SetPodPermissionRequest, who: Principal) -> Reply:
        return await self._grants.granted(who, request.pod_id, request.user, request.level)

    @enveloped(pb.DeletePodPermissionResponse)
    async def DeletePodPermission(
        self, request: pb.DeletePodPermissionRequest, who: Principal
    ) -> Reply:
        return await self._grants.revoked(who, request.pod_id, request.user)

    @enveloped(pb.ExecPodCommandsResponse)
    async def ExecPodCommands(self, request: pb.ExecPodCommandsRequest, who: Principal) -> Reply:
        report = await self._pods.exec(who, request.pod_id, exec_request(request))
        return Reply(execution_results(report), f"Pod '{request.pod_id}': {report.message}")

    @enveloped(pb.ExecPodResponse)
    async def ExecPod(self, request: pb.ExecPodRequest, who: Principal) -> Reply:
        """Deprecated: ExecPodCommands' twin with the earlier shapes."""
        report = await self._pods.exec(who, request.pod_id, exec_request(request))
        outputs = [exec_output(o) for o in report.outputs]
        return Reply(outputs, f"Pod '{request.pod_id}': {report.message}")

    # -- quotas: a user's limits over pods and storage alike ------------------------------

    @enveloped(pb.GetQuotaResponse)
    async def GetQuota(self, request: pb.GetQuotaRequest, who: Principal) -> Reply:
        view = await self._quotas.get(who, request.username)
        return Reply(quota_message(view), f"Quota of '{view.username}'.")

    @enveloped(pb.SetQuotaResponse)
    async def SetQuota(self, request: pb.SetQuotaRequest, who: Principal) -> Reply:
        if not request.username:
            raise InvalidArgumentError("username", "is required")
        view = await self._quotas.set(who, request.username, quota_overrides(request.limits))
        return Reply(quota_message(view), f"Quota of '{view.username}' set.")
