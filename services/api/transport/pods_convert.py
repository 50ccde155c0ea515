"""Converts between the PodsService messages (pods, exec, quotas) and domain records. Pure
functions, called by pods_servicer.py."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar, cast

from google.protobuf import json_format

from services.api.domain.execution import CommandOutput, ExecReport, ExecRequest
from services.api.domain.pod_template import fold_pod_template, pod_template_of, template_name
from services.api.domain.quotas import QUOTA_FIELDS
from services.api.domain.validation import MountRequest, PodRequest, PodUpdate
from services.api.transport.convert import timestamp
from services.api.transport.networking_convert import stanza_inputs, stanza_message
from services.common.generated.pods.v1 import pod_pb2, pods_service_pb2
from services.common.pods_model import ContainerStatus, PodRecord, pod_host
from services.common.quotas_model import Quota, QuotaView


def pod_request(pod: pod_pb2.Pod) -> PodRequest:
    """The create request in domain terms. Output-only fields are ignored."""
    return PodRequest(
        pod_id=pod.pod_id,
        image=pod.image,
        template=pod.template,
        description=pod.description,
        command=list(pod.command),
        arguments=list(pod.arguments),
        environment_variables=dict(pod.environment_variables),
        status_requested=pod.status_requested,
        networking=stanza_inputs(pod.networking),
        resources={field.name: value for field, value in pod.resources.ListFields()}
        if pod.HasField("resources")
        else {},
        time_to_stop_default=pod.time_to_stop_default,
        time_to_stop_instance=pod.time_to_stop_instance,
        compute_queue=pod.compute_queue,
        volume_mounts=mount_requests(pod),
        pod_template=pod.pod_template,
    )


def mount_requests(pod: pod_pb2.Pod) -> dict[str, MountRequest]:
    """The pod's `volume_mounts` in domain terms."""
    return {
        object_id: MountRequest(m.type, m.mount_path, m.sub_path, m.read_only)
        for object_id, m in pod.volume_mounts.items()
    }


def pod_update(pod: pod_pb2.Pod, pod_id: str, mask: Sequence[str]) -> PodUpdate:
    """The fields an update gives: those named in `mask` when there is one, else those
    present (optional scalars, the resources message) or not empty (lists and maps)."""

    def given(name: str) -> bool:
        if mask:
            return name in mask
        if name in _OPTIONAL_FIELDS:
            return pod.HasField(name)
        return bool(getattr(pod, name))

    def pick(name: str, value: _V) -> _V | None:
        return value if given(name) else None

    image, template = pick("image", pod.image), pick("template", pod.template)
    if given("pod_template"):  # Tapis's alias of both (domain/pod_template.py)
        folded = fold_pod_template(image or "", template or "", pod.pod_template)
        image, template = folded[0] or None, folded[1] or None
    elif template:
        template = template_name(template)
    return PodUpdate(
        pod_id=pod_id,
        image=image,
        template=template,
        description=pick("description", pod.description),
        command=pick("command", list(pod.command)),
        arguments=pick("arguments", list(pod.arguments)),
        environment_variables=pick("environment_variables", dict(pod.environment_variables)),
        status_requested=pick("status_requested", pod.status_requested),
        networking=pick("networking", stanza_inputs(pod.networking)),
        resources=pick("resources", {f.name: v for f, v in pod.resources.ListFields()}),
        time_to_stop_default=pick("time_to_stop_default", pod.time_to_stop_default),
        time_to_stop_instance=pick("time_to_stop_instance", pod.time_to_stop_instance),
        compute_queue=pick("compute_queue", pod.compute_queue),
        volume_mounts=pick("volume_mounts", mount_requests(pod)),
    )


_OPTIONAL_FIELDS = frozenset(
    {
        "description",
        "status_requested",
        "time_to_stop_default",
        "time_to_stop_instance",
        "compute_queue",
        "resources",
        "pod_template",
    }
)
_V = TypeVar("_V")


ExecMessage = pods_service_pb2.ExecPodRequest | pods_service_pb2.ExecPodCommandsRequest


def exec_request(request: ExecMessage) -> ExecRequest:
    """The exec request with Tapis's defaults for fields not given; the deprecated ExecPod's
    request reads each item of `commands` as one command."""
    return ExecRequest(
        # MessageToDict of a ListValue is a list, whatever its stubs say.
        commands=cast(Sequence[object], json_format.MessageToDict(request.commands)),
        total_timeout=request.total_timeout if request.HasField("total_timeout") else 300,
        command_timeout=request.command_timeout if request.HasField("command_timeout") else 60,
        fail_on_non_success=request.fail_on_non_success
        if request.HasField("fail_on_non_success")
        else True,
        each_item_is_a_command=isinstance(request, pods_service_pb2.ExecPodRequest),
    )


def exec_output(output: CommandOutput) -> pods_service_pb2.ExecOutput:
    """One command's result for the deprecated ExecPod."""
    result = output.result
    return pods_service_pb2.ExecOutput(
        command=list(output.argv),
        exit_code=_exit_code(output),
        stdout=result.stdout,
        stderr=result.stderr,
        timed_out=result.timed_out,
    )


def execution_results(report: ExecReport) -> pods_service_pb2.ExecutionResults:
    """ExecPodCommands' result, in Tapis's shape."""
    return pods_service_pb2.ExecutionResults(
        execution_results=[
            pods_service_pb2.ExecutionResult(
                command=list(output.argv),
                stdout=output.result.stdout,
                stderr=output.result.stderr,
                success=output.success,
                duration_sec=output.duration_sec,
                timestamp=timestamp(output.finished),
                exit_code=_exit_code(output),
                timed_out=output.result.timed_out,
            )
            for output in report.outputs
        ],
        total_commands=report.total_commands,
        successful_commands=report.successful_commands,
    )


def _exit_code(output: CommandOutput) -> int:
    return -1 if output.result.exit_code is None else output.result.exit_code


def pod_url(pod_id: str, stanza: str, pod_domain: str, pods_port: int) -> str:
    """The pod port's public address: its name, with the port unless it is 443."""
    host = pod_host(pod_id, stanza, pod_domain)
    return host if pods_port == 443 else f"{host}:{pods_port}"


def status_container_message(container: ContainerStatus) -> pod_pb2.StatusContainer:
    """What health last observed of the pod's container (Pod.status_container)."""
    return pod_pb2.StatusContainer(
        phase=container.phase,
        message=container.message,
        start_time=timestamp(container.start_time),
        exit_code=container.exit_code or 0,
        ready=container.ready,
    )


def pod_message(record: PodRecord, pod_domain: str, pods_port: int) -> pod_pb2.Pod:
    """The Pod resource as callers see it."""
    spec = record.spec
    message = pod_pb2.Pod(
        pod_id=record.key.pod_id,
        image=spec.image,
        template=spec.template,
        pod_template=pod_template_of(spec.image, spec.template),
        description=spec.description,
        command=list(spec.command),
        arguments=list(spec.arguments),
        environment_variables=dict(spec.environment_variables),
        status_requested=record.status_requested.value,
        time_to_stop_default=spec.time_to_stop_default,
        time_to_stop_instance=spec.time_to_stop_instance or 0,
        resources=pod_pb2.Resources(**vars(spec.resources)),
        compute_queue=spec.compute_queue,
        volume_mounts={
            object_id: pod_pb2.VolumeMount(
                type=m.type.value,
                mount_path=m.mount_path,
                sub_path=m.sub_path,
                read_only=m.read_only,
            )
            for object_id, m in spec.volume_mounts.items()
        },
        status=record.status.value,
        status_container=status_container_message(record.status_container),
        time_to_stop_ts=timestamp(record.time_to_stop_ts),
        creation_ts=timestamp(record.creation_ts),
        update_ts=timestamp(record.update_ts),
        start_instance_ts=timestamp(record.start_instance_ts),
        tenant_id=record.key.tenant_id,
        owner=record.owner,
        generation=record.generation,
        observed_generation=record.observed_generation,
        reconciling=record.observed_generation < record.generation
        or record.restart_pending
        or record.status.value not in ("AVAILABLE", "ERROR", "COMPLETE", "STOPPED"),
        restart_count=record.restart_count,
        last_exit_reason=record.last_exit_reason,
        next_restart_ts=timestamp(record.restart_due_ts) if record.restart_pending else "",
    )
    for name, stanza in spec.networking.items():
        url = (
            ""
            if stanza.protocol == "local_only"
            else pod_url(record.key.pod_id, name, pod_domain, pods_port)
        )
        message.networking[name].CopyFrom(stanza_message(stanza, url))
    return message


def _limits_message(quota: Quota) -> pods_service_pb2.QuotaLimits:
    return pods_service_pb2.QuotaLimits(**{name: getattr(quota, name) for name in QUOTA_FIELDS})


def quota_message(view: QuotaView) -> pods_service_pb2.Quota:
    return pods_service_pb2.Quota(
        username=view.username,
        limits=_limits_message(view.limits),
        use=_limits_message(view.use),
        overridden=sorted(view.overridden),
    )


def quota_overrides(limits: pods_service_pb2.QuotaLimits) -> dict[str, int | None]:
    """The limits a SetQuota gives: only the fields present; -1 means the tenant default."""
    return {
        name: None if getattr(limits, name) == -1 else int(getattr(limits, name))
        for name in QUOTA_FIELDS
        if limits.HasField(name)
    }
