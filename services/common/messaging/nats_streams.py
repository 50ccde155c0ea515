"""The JetStream topology of one deployment: its command and event streams and the spawners'
durable consumer, as nats-py configurations. Used by nats_bus.py (`MessageBus.ensure_streams`).
"""

from __future__ import annotations

from typing import Any

from nats.js.api import (
    AckPolicy,
    ConsumerConfig,
    DeliverPolicy,
    DiscardPolicy,
    RetentionPolicy,
    StorageType,
    StreamConfig,
)

from services.common.messaging.names import SPAWNER_CONSUMER, Names

COMMANDS_MAX_AGE = 24 * 3600.0  # seconds; health re-publishes commands for anything older
COMMANDS_MAX_PER_POD = 100  # backlog bound per pod subject (oldest dropped first)
COMMANDS_DUPLICATE_WINDOW = 120.0  # seconds; applies to publishes that carry a msg_id
COMMANDS_MAX_ACK_PENDING = 1000  # commands handed out and not yet settled, all spawners
EVENTS_MAX_AGE = 3600.0  # seconds

STREAM_NAME_IN_USE = 10058  # JetStream API error code: stream exists with another config


def commands_stream(names: Names, replicas: int) -> StreamConfig:
    """A work queue of pod commands, bounded per pod, deduplicated by msg_id."""
    return _stream(
        names.commands_stream,
        f"Pod commands of deployment {names.deployment_id}",
        names.commands_subjects,
        replicas,
        retention=RetentionPolicy.WORK_QUEUE,
        max_age=COMMANDS_MAX_AGE,
        max_msgs_per_subject=COMMANDS_MAX_PER_POD,
        duplicate_window=COMMANDS_DUPLICATE_WINDOW,
    )


def events_stream(names: Names, replicas: int) -> StreamConfig:
    """Pod events, kept for EVENTS_MAX_AGE."""
    return _stream(
        names.events_stream,
        f"Pod events of deployment {names.deployment_id}",
        names.events_subjects,
        replicas,
        retention=RetentionPolicy.LIMITS,
        max_age=EVENTS_MAX_AGE,
    )


def _stream(
    name: str, description: str, subjects: str, replicas: int, **limits: Any
) -> StreamConfig:
    """A file-backed stream that drops its oldest messages when a limit is reached."""
    return StreamConfig(
        name=name,
        description=description,
        subjects=[subjects],
        storage=StorageType.FILE,
        discard=DiscardPolicy.OLD,
        num_replicas=replicas,
        **limits,
    )


def spawner_consumer(names: Names, ack_wait: float) -> ConsumerConfig:
    """The spawners' shared pull consumer: explicit acks, unlimited redelivery after
    `ack_wait` seconds."""
    return ConsumerConfig(
        name=SPAWNER_CONSUMER,
        durable_name=SPAWNER_CONSUMER,
        description="The spawners' command queue",
        deliver_policy=DeliverPolicy.ALL,
        ack_policy=AckPolicy.EXPLICIT,
        ack_wait=ack_wait,
        max_deliver=-1,
        max_ack_pending=COMMANDS_MAX_ACK_PENDING,
        filter_subject=names.commands_subjects,
    )
