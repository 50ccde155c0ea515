"""SQLAlchemy table definitions. Changed only together with a migration in migrations/."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    """Base of every table."""


class PodRow(Base):
    """One pod: the desired spec (written by the API) and what was observed (health)."""

    __tablename__ = "pods"
    __table_args__ = (UniqueConstraint("tenant_id", "pod_id", name="uq_pods_tenant_pod"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    tenant_id: Mapped[str] = mapped_column(String(64), index=True)
    pod_id: Mapped[str] = mapped_column(String(64))
    owner: Mapped[str] = mapped_column(String(128))
    spec: Mapped[dict[str, Any]] = mapped_column(JSON)
    status_requested: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(32))
    status_container: Mapped[dict[str, Any]] = mapped_column(JSON)
    generation: Mapped[int] = mapped_column(Integer, default=1)
    observed_generation: Mapped[int] = mapped_column(Integer, default=0)
    deletion_requested: Mapped[bool] = mapped_column(Boolean, default=False)
    credentials_encrypted: Mapped[str | None] = mapped_column(Text, nullable=True)
    action_logs: Mapped[list[str]] = mapped_column(JSON)
    log_cursor: Mapped[str] = mapped_column(String(64), default="")
    log_run: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    creation_ts: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    update_ts: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    status_changed_ts: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    start_instance_ts: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    time_to_stop_ts: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Automatic restarts (services/common/restarts.py): restarts made, ends in a row, why
    # the last run ended, which run (log_run) that was (None: the current run has not
    # ended), and when the next container is due (None: no restart pending).
    restart_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    crash_streak: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    last_exit_reason: Mapped[str] = mapped_column(String(255), default="", server_default="")
    ended_run: Mapped[int | None] = mapped_column(Integer, nullable=True)
    restart_due_ts: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    trace_parent: Mapped[str] = mapped_column(String(128), default="", server_default="")


class PodLogChunk(Base):
    """A piece of a pod's container output; the newest chunks up to the log limit are kept."""

    __tablename__ = "pod_log_chunks"
    __table_args__ = (Index("ix_pod_log_chunks_pod", "tenant_id", "pod_id", "id"),)

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    tenant_id: Mapped[str] = mapped_column(String(64))
    pod_id: Mapped[str] = mapped_column(String(64))
    run: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    size: Mapped[int] = mapped_column(Integer)
    data: Mapped[str] = mapped_column(Text)


class PodChangeRow(Base):
    """One change of what a pod watcher sees (status, requested status, container, latest
    action-log line), in commit order: written in the same transaction as the change by
    services/common/db/change_feed.py, read by the watch streams (repositories/pod_changes.py).
    Its id is the stream's cursor."""

    __tablename__ = "pod_changes"
    __table_args__ = (
        Index("ix_pod_changes_pod", "tenant_id", "pod_id", "id"),
        Index("ix_pod_changes_tenant", "tenant_id", "id"),
    )

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    tenant_id: Mapped[str] = mapped_column(String(64))
    pod_id: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(32))
    status_requested: Mapped[str] = mapped_column(String(16))
    status_container: Mapped[dict[str, Any]] = mapped_column(JSON)
    action_log: Mapped[str] = mapped_column(Text)
    change_ts: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class PodPermissionRow(Base):
    """A user's permission level (READ, USER, ADMIN) on a pod."""

    __tablename__ = "pod_permissions"
    __table_args__ = (
        UniqueConstraint("tenant_id", "pod_id", "username", name="uq_pod_permissions"),
        Index("ix_pod_permissions_user", "tenant_id", "username"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    tenant_id: Mapped[str] = mapped_column(String(64))
    pod_id: Mapped[str] = mapped_column(String(64))
    username: Mapped[str] = mapped_column(String(128))
    level: Mapped[str] = mapped_column(String(8))


class TemplateRow(Base):
    """A template's definition (image, networking, environment, credentials recipe)."""

    __tablename__ = "templates"
    __table_args__ = (UniqueConstraint("tenant_id", "template_id", name="uq_templates"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    tenant_id: Mapped[str] = mapped_column(String(64))
    template_id: Mapped[str] = mapped_column(String(64))
    definition: Mapped[dict[str, Any]] = mapped_column(JSON)
    owner: Mapped[str] = mapped_column(String(128))
    creation_ts: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    update_ts: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class TemplateTagRow(Base):
    """One version of a template: an immutable pod definition named `tag@timestamp`."""

    __tablename__ = "template_tags"
    __table_args__ = (
        UniqueConstraint("tenant_id", "template_id", "tag_timestamp", name="uq_template_tags"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    tenant_id: Mapped[str] = mapped_column(String(64))
    template_id: Mapped[str] = mapped_column(String(64))
    tag: Mapped[str] = mapped_column(String(80))
    tag_timestamp: Mapped[str] = mapped_column(String(128))
    pod_definition: Mapped[dict[str, Any]] = mapped_column(JSON)
    commit_message: Mapped[str] = mapped_column(String(255))
    added_by: Mapped[str] = mapped_column(String(128))
    creation_ts: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ImageRuleRow(Base):
    """One entry of a tenant's image allow-list: an exact reference or a prefix ending in *."""

    __tablename__ = "image_rules"
    __table_args__ = (UniqueConstraint("tenant_id", "image", name="uq_image_rules"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    tenant_id: Mapped[str] = mapped_column(String(64))
    image: Mapped[str] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(String(255))
    added_by: Mapped[str] = mapped_column(String(128))
    creation_ts: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class VolumeRow(Base):
    """A pod volume (Tapis "volume"): its owner, description and size limit; the files live
    in the storage behind services.common.storage."""

    __tablename__ = "volumes"
    __table_args__ = (UniqueConstraint("tenant_id", "volume_id", name="uq_volumes"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    tenant_id: Mapped[str] = mapped_column(String(64))
    volume_id: Mapped[str] = mapped_column(String(64))
    owner: Mapped[str] = mapped_column(String(128))
    description: Mapped[str] = mapped_column(String(255))
    size_limit_mib: Mapped[int] = mapped_column(Integer)
    size_bytes: Mapped[int | None] = mapped_column(BigInteger, nullable=True)  # last measured
    creation_ts: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    update_ts: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class SnapshotRow(Base):
    """A snapshot: a read-only copy of a volume (or of a path in it) taken at creation."""

    __tablename__ = "snapshots"
    __table_args__ = (UniqueConstraint("tenant_id", "snapshot_id", name="uq_snapshots"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    tenant_id: Mapped[str] = mapped_column(String(64))
    snapshot_id: Mapped[str] = mapped_column(String(64))
    owner: Mapped[str] = mapped_column(String(128))
    description: Mapped[str] = mapped_column(String(255))
    size_limit_mib: Mapped[int] = mapped_column(Integer)
    source_volume_id: Mapped[str] = mapped_column(String(64))
    source_volume_path: Mapped[str] = mapped_column(String(4096))
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    creation_ts: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    update_ts: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class StoragePermissionRow(Base):
    """A user's permission level (READ, USER, ADMIN) on a volume or snapshot (`kind`)."""

    __tablename__ = "storage_permissions"
    __table_args__ = (
        UniqueConstraint(
            "tenant_id", "kind", "object_id", "username", name="uq_storage_permissions"
        ),
        Index("ix_storage_permissions_user", "tenant_id", "kind", "username"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    tenant_id: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))  # volume | snapshot
    object_id: Mapped[str] = mapped_column(String(64))
    username: Mapped[str] = mapped_column(String(128))
    level: Mapped[str] = mapped_column(String(8))


class UserQuotaRow(Base):
    """One user's quota overrides (NULL: the tenant default) and the row that serialises the
    user's quota-consuming writes (`version` is bumped by each of them, under a row lock)."""

    __tablename__ = "user_quotas"
    __table_args__ = (UniqueConstraint("tenant_id", "username", name="uq_user_quotas"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    tenant_id: Mapped[str] = mapped_column(String(64))
    username: Mapped[str] = mapped_column(String(128))
    pods: Mapped[int | None] = mapped_column(Integer, nullable=True)
    volumes: Mapped[int | None] = mapped_column(Integer, nullable=True)
    cpu_millis: Mapped[int | None] = mapped_column(Integer, nullable=True)
    mem_mib: Mapped[int | None] = mapped_column(Integer, nullable=True)
    storage_mib: Mapped[int | None] = mapped_column(Integer, nullable=True)
    version: Mapped[int] = mapped_column(Integer, default=0)
