"""Row → record mapping: turns the SQLAlchemy rows of services/common/db/models.py into the
plain records the domain sees (PodRecord, TemplateDef, ImageRule, VolumeRecord,
SnapshotRecord). Used by the repositories in services/common/db/repositories.
"""

from __future__ import annotations

from services.common.db.codec import aware, container_from_json, spec_from_json, template_from_json
from services.common.db.models import ImageRuleRow, PodRow, SnapshotRow, TemplateRow, VolumeRow
from services.common.pods_model import PodRecord, RequestedStatus, Status
from services.common.records import ImageRule
from services.common.runtime.types import PodKey
from services.common.storage.types import SnapshotKey, VolumeKey
from services.common.templates import TemplateDef
from services.common.volumes_model import SnapshotRecord, VolumeRecord


def pod_record(row: PodRow) -> PodRecord:
    creation = aware(row.creation_ts)
    update_ts = aware(row.update_ts)
    changed = aware(row.status_changed_ts)
    assert creation and update_ts and changed
    return PodRecord(
        key=PodKey(row.tenant_id, row.pod_id),
        owner=row.owner,
        spec=spec_from_json(row.spec),
        status_requested=RequestedStatus(row.status_requested),
        status=Status(row.status),
        status_container=container_from_json(row.status_container),
        generation=row.generation,
        observed_generation=row.observed_generation,
        deletion_requested=row.deletion_requested,
        has_credentials=row.credentials_encrypted is not None,
        action_logs=tuple(row.action_logs),
        creation_ts=creation,
        update_ts=update_ts,
        status_changed_ts=changed,
        start_instance_ts=aware(row.start_instance_ts),
        time_to_stop_ts=aware(row.time_to_stop_ts),
        run=row.log_run,
        ended_run=row.ended_run,
        restart_count=row.restart_count,
        crash_streak=row.crash_streak,
        last_exit_reason=row.last_exit_reason,
        restart_due_ts=aware(row.restart_due_ts),
        trace_parent=row.trace_parent or "",
    )


def template_def(row: TemplateRow) -> TemplateDef:
    return template_from_json(
        row.template_id, row.definition, row.owner, row.creation_ts, row.update_ts
    )


def image_rule(row: ImageRuleRow) -> ImageRule:
    created = aware(row.creation_ts)
    assert created is not None
    return ImageRule(
        image=row.image, description=row.description, added_by=row.added_by, creation_ts=created
    )


def volume_record(row: VolumeRow) -> VolumeRecord:
    creation, update_ts = aware(row.creation_ts), aware(row.update_ts)
    assert creation and update_ts
    return VolumeRecord(
        key=VolumeKey(row.tenant_id, row.volume_id),
        owner=row.owner,
        description=row.description,
        size_limit_mib=row.size_limit_mib,
        size_bytes=row.size_bytes,
        creation_ts=creation,
        update_ts=update_ts,
    )


def snapshot_record(row: SnapshotRow) -> SnapshotRecord:
    creation, update_ts = aware(row.creation_ts), aware(row.update_ts)
    assert creation and update_ts
    return SnapshotRecord(
        key=SnapshotKey(row.tenant_id, row.snapshot_id),
        owner=row.owner,
        description=row.description,
        size_limit_mib=row.size_limit_mib,
        source_volume_id=row.source_volume_id,
        source_volume_path=row.source_volume_path,
        size_bytes=row.size_bytes,
        creation_ts=creation,
        update_ts=update_ts,
    )
