"""What the repositories hand the domain besides pod, volume and template records: the errors
they raise, image rules, the key of a template's grants, and a revocation's reason.

Pure data (no SQLAlchemy), so domain code (services/api/domain) and the repositories in
services/common/db/repositories both import it without reaching the database driver.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from services.common.outcomes import PodsError
from services.common.storage.types import SnapshotKey, VolumeKey

EVERYONE = "*"  # a grant to every user of the tenant


class AlreadyExistsError(PodsError):
    """A pod, volume, snapshot, template or image rule with that id already exists."""


class LastAdminError(PodsError):
    """The change would leave a pod, volume, snapshot or template without an ADMIN."""


@dataclass(frozen=True)
class ImageRule:
    """An allow-list entry."""

    image: str
    description: str
    added_by: str
    creation_ts: datetime


@dataclass(frozen=True, order=True)
class TemplateKey:
    """A template, as the grants table keys it."""

    tenant_id: str
    template_id: str


# Objects with READ/USER/ADMIN grants in the storage_permissions table (besides pods).
StorageKey = VolumeKey | SnapshotKey
StorageObjectKey = VolumeKey | SnapshotKey | TemplateKey


@dataclass(frozen=True)
class Revocation:
    """A grant change that may take away a user's right to mount a volume or snapshot: their
    pods mounting it are asked to be OFF at `now`, `why` in their action_logs."""

    now: datetime
    why: str
