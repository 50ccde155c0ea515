"""Every public REST call of PodsService, with the permission it needs, as data for the
permission matrix (test_permission_matrix.py).

A path holds `{id}` for the object under test and `{me}` for the caller's own name; a body may hold
`{id}` and `{fresh}` (a new, unique id). `needs` is the least standing that succeeds:
READ / USER / ADMIN on the object, TENANT_ADMIN for tenant-wide changes, ANY for any
authenticated user, PUBLIC for everyone (even without a token).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class Kind(Enum):
    """The object a call acts on."""

    POD = "pod"
    EXEC_POD = "exec-pod"  # a pod with a running container
    TEMPLATE = "template"
    VOLUME = "volume"
    SNAPSHOT = "snapshot"
    IMAGE_RULE = "image-rule"  # an entry of the image allow-list
    TENANT = "tenant"  # no object: lists, creates, the image allow-list


class Needs(Enum):
    """The least standing for which a call succeeds."""

    PUBLIC = 0
    ANY = 1
    READ = 2
    USER = 3
    ADMIN = 4
    TENANT_ADMIN = 5


@dataclass(frozen=True)
class Call:
    """One REST call of the matrix."""

    rpc: str
    kind: Kind
    method: str
    path: str
    needs: Needs
    body: str | None = None
    content_type: str = "application/json"
    consumes: bool = False  # a success removes the object: each success gets a fresh one
    grants_dummy: bool = False  # removes the dummy user's grant: give it one first
    creates: str = ""  # the collection a success adds `{fresh}` to

    def __str__(self) -> str:
        return self.rpc


DUMMY = "secdummy"  # a grantee that permission calls add and remove

CALLS = [
    # Identity (public; tokens are covered by tests of their own)
    Call("ListSites", Kind.TENANT, "GET", "/v3/sites", Needs.PUBLIC),
    Call("ListTenants", Kind.TENANT, "GET", "/v3/tenants", Needs.PUBLIC),
    # Pods
    Call(
        "CreatePod",
        Kind.TENANT,
        "POST",
        "/v3/pods",
        Needs.ANY,
        '{"pod_id": "{fresh}", "image": "nosuchimage:1"}',
        creates="/v3/pods",
    ),
    Call("ListPods", Kind.TENANT, "GET", "/v3/pods", Needs.ANY),
    Call("GetPod", Kind.POD, "GET", "/v3/pods/{id}", Needs.READ),
    Call("GetPodLogs", Kind.POD, "GET", "/v3/pods/{id}/logs", Needs.READ),
    Call("GetPodCredentials", Kind.POD, "GET", "/v3/pods/{id}/credentials", Needs.USER),
    Call(
        "UpdatePod",
        Kind.POD,
        "PUT",
        "/v3/pods/{id}",
        Needs.ADMIN,
        '{"time_to_stop_default": 43200}',
    ),
    Call("StartPod", Kind.POD, "GET", "/v3/pods/{id}/start", Needs.USER),
    Call("StopPod", Kind.POD, "GET", "/v3/pods/{id}/stop", Needs.USER),
    Call("RestartPod", Kind.POD, "GET", "/v3/pods/{id}/restart", Needs.USER),
    Call("StartPodVerb", Kind.POD, "POST", "/v3/pods/{id}:start", Needs.USER, "{}"),
    Call(
        "ExecPod",
        Kind.EXEC_POD,
        "POST",
        "/v3/pods/{id}/exec",
        Needs.USER,
        '{"commands": ["true"]}',
    ),
    Call("GetPodPermissions", Kind.POD, "GET", "/v3/pods/{id}/permissions", Needs.READ),
    Call(
        "SetPodPermission",
        Kind.POD,
        "POST",
        "/v3/pods/{id}/permissions",
        Needs.ADMIN,
        '{"user": "' + DUMMY + '", "level": "READ"}',
    ),
    Call(
        "DeletePodPermission",
        Kind.POD,
        "DELETE",
        "/v3/pods/{id}/permissions/" + DUMMY,
        Needs.ADMIN,
        grants_dummy=True,
    ),
    Call("DeletePod", Kind.POD, "DELETE", "/v3/pods/{id}", Needs.ADMIN, consumes=True),
    # Templates and the image allow-list
    Call("ListTemplates", Kind.TENANT, "GET", "/v3/pods/templates", Needs.ANY),
    Call(
        "CreateTemplate",
        Kind.TENANT,
        "POST",
        "/v3/pods/templates",
        Needs.TENANT_ADMIN,
        '{"template_id": "{fresh}", "image": "pods-http:latest"}',
        creates="/v3/pods/templates",
    ),
    Call("GetTemplate", Kind.TEMPLATE, "GET", "/v3/pods/templates/{id}", Needs.READ),
    Call(
        "UpdateTemplate",
        Kind.TEMPLATE,
        "PUT",
        "/v3/pods/templates/{id}",
        Needs.ADMIN,
        '{"image": "pods-http:latest"}',
    ),
    Call(
        "GetTemplatePermissions",
        Kind.TEMPLATE,
        "GET",
        "/v3/pods/templates/{id}/permissions",
        Needs.READ,
    ),
    Call(
        "SetTemplatePermission",
        Kind.TEMPLATE,
        "POST",
        "/v3/pods/templates/{id}/permissions",
        Needs.ADMIN,
        '{"user": "' + DUMMY + '", "level": "READ"}',
    ),
    Call(
        "DeleteTemplatePermission",
        Kind.TEMPLATE,
        "DELETE",
        "/v3/pods/templates/{id}/permissions/" + DUMMY,
        Needs.ADMIN,
        grants_dummy=True,
    ),
    Call(
        "DeleteTemplate",
        Kind.TEMPLATE,
        "DELETE",
        "/v3/pods/templates/{id}",
        Needs.ADMIN,
        consumes=True,
    ),
    Call("ListImages", Kind.TENANT, "GET", "/v3/pods/images", Needs.ANY),
    Call(
        "AddImage",
        Kind.TENANT,
        "POST",
        "/v3/pods/images",
        Needs.TENANT_ADMIN,
        '{"image": "{fresh}*", "description": "matrix"}',
        creates="/v3/pods/images",
    ),
    Call(
        "DeleteImage",
        Kind.IMAGE_RULE,
        "DELETE",
        "/v3/pods/images/{id}",
        Needs.TENANT_ADMIN,
        consumes=True,
    ),
    # Quotas (not in Tapis): one's own, anyone's for tenant admins
    Call("GetQuota", Kind.TENANT, "GET", "/v3/pods/quotas/{me}", Needs.ANY),
    Call(
        "GetQuotaOfAnotherUser", Kind.TENANT, "GET", "/v3/pods/quotas/" + DUMMY, Needs.TENANT_ADMIN
    ),
    Call(
        "SetQuota",
        Kind.TENANT,
        "PUT",
        "/v3/pods/quotas/" + DUMMY,
        Needs.TENANT_ADMIN,
        '{"pods": 5}',
    ),
    # Volumes
    Call(
        "CreateVolume",
        Kind.TENANT,
        "POST",
        "/v3/pods/volumes",
        Needs.ANY,
        '{"volume_id": "{fresh}", "size_limit": 16}',
        creates="/v3/pods/volumes",
    ),
    Call("ListVolumes", Kind.TENANT, "GET", "/v3/pods/volumes", Needs.ANY),
    Call("GetVolume", Kind.VOLUME, "GET", "/v3/pods/volumes/{id}", Needs.READ),
    Call(
        "UpdateVolume",
        Kind.VOLUME,
        "PUT",
        "/v3/pods/volumes/{id}",
        Needs.ADMIN,
        '{"description": "changed by the matrix"}',
    ),
    Call("ListVolumeFiles", Kind.VOLUME, "GET", "/v3/pods/volumes/{id}/list", Needs.READ),
    Call(
        "UploadToVolume",
        Kind.VOLUME,
        "POST",
        "/v3/pods/volumes/{id}/upload/up-{fresh}.txt",
        Needs.USER,
        "uploaded by the matrix",
        content_type="application/octet-stream",
    ),
    Call(
        "GetVolumeContents",
        Kind.VOLUME,
        "GET",
        "/v3/pods/volumes/{id}/contents/secret.txt",
        Needs.READ,
    ),
    Call(
        "GetVolumePermissions", Kind.VOLUME, "GET", "/v3/pods/volumes/{id}/permissions", Needs.READ
    ),
    Call(
        "SetVolumePermission",
        Kind.VOLUME,
        "POST",
        "/v3/pods/volumes/{id}/permissions",
        Needs.ADMIN,
        '{"user": "' + DUMMY + '", "level": "READ"}',
    ),
    Call(
        "DeleteVolumePermission",
        Kind.VOLUME,
        "DELETE",
        "/v3/pods/volumes/{id}/permissions/" + DUMMY,
        Needs.ADMIN,
        grants_dummy=True,
    ),
    Call(
        "DeleteVolume", Kind.VOLUME, "DELETE", "/v3/pods/volumes/{id}", Needs.ADMIN, consumes=True
    ),
    # Snapshots (taking one needs READ on the source volume)
    Call(
        "CreateSnapshot",
        Kind.VOLUME,
        "POST",
        "/v3/pods/snapshots",
        Needs.READ,
        '{"snapshot_id": "{fresh}", "source_volume_id": "{id}", "source_volume_path": "/"}',
        creates="/v3/pods/snapshots",
    ),
    Call("ListSnapshots", Kind.TENANT, "GET", "/v3/pods/snapshots", Needs.ANY),
    Call("GetSnapshot", Kind.SNAPSHOT, "GET", "/v3/pods/snapshots/{id}", Needs.READ),
    Call(
        "UpdateSnapshot",
        Kind.SNAPSHOT,
        "PUT",
        "/v3/pods/snapshots/{id}",
        Needs.ADMIN,
        '{"description": "changed by the matrix"}',
    ),
    Call("ListSnapshotFiles", Kind.SNAPSHOT, "GET", "/v3/pods/snapshots/{id}/list", Needs.READ),
    Call(
        "GetSnapshotContents",
        Kind.SNAPSHOT,
        "GET",
        "/v3/pods/snapshots/{id}/contents/secret.txt",
        Needs.READ,
    ),
    Call(
        "GetSnapshotPermissions",
        Kind.SNAPSHOT,
        "GET",
        "/v3/pods/snapshots/{id}/permissions",
        Needs.READ,
    ),
    Call(
        "SetSnapshotPermission",
        Kind.SNAPSHOT,
        "POST",
        "/v3/pods/snapshots/{id}/permissions",
        Needs.ADMIN,
        '{"user": "' + DUMMY + '", "level": "READ"}',
    ),
    Call(
        "DeleteSnapshotPermission",
        Kind.SNAPSHOT,
        "DELETE",
        "/v3/pods/snapshots/{id}/permissions/" + DUMMY,
        Needs.ADMIN,
        grants_dummy=True,
    ),
    Call(
        "DeleteSnapshot",
        Kind.SNAPSHOT,
        "DELETE",
        "/v3/pods/snapshots/{id}",
        Needs.ADMIN,
        consumes=True,
    ),
]
