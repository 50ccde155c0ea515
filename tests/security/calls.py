"""Every public REST call of the public services (PodsService, TemplatesService,
TemplateTagsService, VolumesService, SnapshotsService, IdentityService, PodFilesService,
MiscService, PodAuthService), keyed by the RPC's full name, with the permission it needs, as
data for the permission matrix (test_permission_matrix.py).

A path holds `{id}` for the object under test, `{me}` for the caller's own name and `{pod}` for
the shared pod; a body may hold
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

    rpc: str  # the RPC's full name, e.g. pods.v1.PodsService.CreatePod
    kind: Kind
    method: str
    path: str
    needs: Needs
    body: str | None = None
    content_type: str = "application/json"
    consumes: bool = False  # a success removes the object: each success gets a fresh one
    grants_dummy: bool = False  # removes the dummy user's grant: give it one first
    creates: str = ""  # the collection a success adds `{fresh}` to
    variant: str = ""  # tells apart two rows of one RPC (another binding, another target)
    stream: bool = False  # a Server-Sent Events stream: only its first event is read

    def __str__(self) -> str:
        return self.rpc.rpartition(".")[2] + self.variant


PODS = "pods.v1.PodsService."
TEMPLATES = "pods.v1.TemplatesService."
TAGS = "pods.v1.TemplateTagsService."
VOLUMES = "pods.v1.VolumesService."
SNAPSHOTS = "pods.v1.SnapshotsService."
IDENTITY = "pods.v1.IdentityService."
POD_FILES = "pods.v1.PodFilesService."
MISC = "pods.v1.MiscService."
POD_AUTH = "pods.v1.PodAuthService."
DUMMY = "secdummy"  # a grantee that permission calls add and remove

CALLS = [
    # Identity (public; tokens are covered by tests of their own)
    Call(IDENTITY + "ListSites", Kind.TENANT, "GET", "/v3/sites", Needs.PUBLIC),
    Call(IDENTITY + "ListTenants", Kind.TENANT, "GET", "/v3/tenants", Needs.PUBLIC),
    # Pods
    Call(
        PODS + "CreatePod",
        Kind.TENANT,
        "POST",
        "/v3/pods",
        Needs.ANY,
        '{"pod_id": "{fresh}", "image": "nosuchimage:1"}',
        creates="/v3/pods",
    ),
    Call(PODS + "ListPods", Kind.TENANT, "GET", "/v3/pods", Needs.ANY),
    Call(PODS + "GetPod", Kind.POD, "GET", "/v3/pods/{id}", Needs.READ),
    Call(PODS + "GetPodLogs", Kind.POD, "GET", "/v3/pods/{id}/logs", Needs.READ),
    Call(PODS + "GetPodCredentials", Kind.POD, "GET", "/v3/pods/{id}/credentials", Needs.USER),
    # The typed streams have no REST binding: their rows call their Server-Sent Events twins
    # (PodStreamsService, the same domain calls and the same authorization).
    Call(PODS + "WatchPod", Kind.POD, "GET", "/v3/pods/{id}/events", Needs.READ, stream=True),
    Call(PODS + "WatchPods", Kind.TENANT, "GET", "/v3/pods?watch=true", Needs.ANY, stream=True),
    Call(
        PODS + "FollowPodLogs",
        Kind.POD,
        "GET",
        "/v3/pods/{id}/logs?follow=true",
        Needs.READ,
        stream=True,
    ),
    Call(
        PODS + "UpdatePod",
        Kind.POD,
        "PUT",
        "/v3/pods/{id}",
        Needs.USER,
        '{"time_to_stop_default": 43200}',
    ),
    Call(PODS + "StartPod", Kind.POD, "GET", "/v3/pods/{id}/start", Needs.ADMIN),
    Call(PODS + "StopPod", Kind.POD, "GET", "/v3/pods/{id}/stop", Needs.ADMIN),
    Call(PODS + "RestartPod", Kind.POD, "GET", "/v3/pods/{id}/restart", Needs.ADMIN),
    Call(
        PODS + "StartPod",
        Kind.POD,
        "POST",
        "/v3/pods/{id}:start",
        Needs.ADMIN,
        "{}",
        variant="Verb",
    ),
    Call(
        PODS + "ExecPodCommands",
        Kind.EXEC_POD,
        "POST",
        "/v3/pods/{id}/exec",
        Needs.ADMIN,
        '{"commands": ["true"]}',
    ),
    Call(PODS + "GetPodPermissions", Kind.POD, "GET", "/v3/pods/{id}/permissions", Needs.USER),
    Call(
        PODS + "SetPodPermission",
        Kind.POD,
        "POST",
        "/v3/pods/{id}/permissions",
        Needs.ADMIN,
        '{"user": "' + DUMMY + '", "level": "READ"}',
    ),
    Call(
        PODS + "DeletePodPermission",
        Kind.POD,
        "DELETE",
        "/v3/pods/{id}/permissions/" + DUMMY,
        Needs.ADMIN,
        grants_dummy=True,
    ),
    Call(PODS + "DeletePod", Kind.POD, "DELETE", "/v3/pods/{id}", Needs.ADMIN, consumes=True),
    # Templates and the image allow-list
    Call(TEMPLATES + "ListTemplates", Kind.TENANT, "GET", "/v3/pods/templates", Needs.ANY),
    Call(
        TEMPLATES + "CreateTemplate",
        Kind.TENANT,
        "POST",
        "/v3/pods/templates",
        Needs.ANY,
        '{"template_id": "{fresh}", "image": "pods-http:latest"}',
        creates="/v3/pods/templates",
    ),
    Call(TEMPLATES + "GetTemplate", Kind.TEMPLATE, "GET", "/v3/pods/templates/{id}", Needs.READ),
    Call(
        TEMPLATES + "UpdateTemplate",
        Kind.TEMPLATE,
        "PUT",
        "/v3/pods/templates/{id}",
        Needs.ADMIN,
        '{"image": "pods-http:latest"}',
    ),
    Call(
        TEMPLATES + "GetTemplatePermissions",
        Kind.TEMPLATE,
        "GET",
        "/v3/pods/templates/{id}/permissions",
        Needs.USER,
    ),
    Call(
        TEMPLATES + "SetTemplatePermission",
        Kind.TEMPLATE,
        "POST",
        "/v3/pods/templates/{id}/permissions",
        Needs.ADMIN,
        '{"user": "' + DUMMY + '", "level": "READ"}',
    ),
    Call(
        TEMPLATES + "DeleteTemplatePermission",
        Kind.TEMPLATE,
        "DELETE",
        "/v3/pods/templates/{id}/permissions/" + DUMMY,
        Needs.ADMIN,
        grants_dummy=True,
    ),
    Call(
        TEMPLATES + "DeleteTemplate",
        Kind.TEMPLATE,
        "DELETE",
        "/v3/pods/templates/{id}",
        Needs.ADMIN,
        consumes=True,
    ),
    # Template versions (tags), a pod saved as one, a pod's derived definition
    Call(TAGS + "ListTemplatesAndTags", Kind.TENANT, "GET", "/v3/pods/templates/tags", Needs.ANY),
    Call(
        TAGS + "ListTemplateTags", Kind.TEMPLATE, "GET", "/v3/pods/templates/{id}/tags", Needs.READ
    ),
    Call(
        TAGS + "GetTemplateTag",
        Kind.TEMPLATE,
        "GET",
        "/v3/pods/templates/{id}/tags/latest",
        Needs.READ,
    ),
    Call(
        TAGS + "AddTemplateTag",
        Kind.TEMPLATE,
        "POST",
        "/v3/pods/templates/{id}/tags",
        Needs.ADMIN,
        '{"pod_definition": {"description": "matrix"}, "commit_message": "m", "tag": "{fresh}"}',
    ),
    # READ on the pod ({pod}: the shared pod, which every standing but the stranger may read)
    # and ADMIN on the template it is saved to.
    Call(
        TAGS + "SavePodAsTemplateTag",
        Kind.TEMPLATE,
        "POST",
        "/v3/pods/{pod}/save_pod_as_template_tag",
        Needs.ADMIN,
        '{"template_id": "{id}", "commit_message": "m", "tag": "{fresh}"}',
    ),
    Call(TAGS + "GetDerivedPod", Kind.POD, "GET", "/v3/pods/{id}/derived", Needs.READ),
    Call(TEMPLATES + "ListImages", Kind.TENANT, "GET", "/v3/pods/images", Needs.ANY),
    Call(
        TEMPLATES + "AddImage",
        Kind.TENANT,
        "POST",
        "/v3/pods/images",
        Needs.TENANT_ADMIN,
        '{"image": "{fresh}*", "description": "matrix"}',
        creates="/v3/pods/images",
    ),
    Call(
        TEMPLATES + "DeleteImage",
        Kind.IMAGE_RULE,
        "DELETE",
        "/v3/pods/images/{id}",
        Needs.TENANT_ADMIN,
        consumes=True,
    ),
    Call(
        TEMPLATES + "AddImages",
        Kind.TENANT,
        "POST",
        "/v3/pods/images/bulk",
        Needs.TENANT_ADMIN,
        '[{"image": "{fresh}*", "description": "matrix"}]',
        creates="/v3/pods/images",
    ),
    Call(TEMPLATES + "GetImage", Kind.IMAGE_RULE, "GET", "/v3/pods/images/{id}", Needs.ANY),
    # Files put into a pod's container: ADMIN, as in Tapis
    Call(
        POD_FILES + "UploadToPod",
        Kind.EXEC_POD,
        "POST",
        "/v3/pods/{id}/upload_to_pod?dest_path=/tmp/matrix-{fresh}.txt",
        Needs.ADMIN,
        "uploaded by the matrix",
        content_type="application/octet-stream",
    ),
    Call(MISC + "Healthcheck", Kind.TENANT, "GET", "/v3/healthcheck", Needs.PUBLIC),
    # Quotas (not in Tapis): one's own, anyone's for tenant admins
    Call(PODS + "GetQuota", Kind.TENANT, "GET", "/v3/pods/quotas/{me}", Needs.ANY),
    Call(
        PODS + "GetQuota",
        Kind.TENANT,
        "GET",
        "/v3/pods/quotas/" + DUMMY,
        Needs.TENANT_ADMIN,
        variant="OfAnotherUser",
    ),
    Call(
        PODS + "SetQuota",
        Kind.TENANT,
        "PUT",
        "/v3/pods/quotas/" + DUMMY,
        Needs.TENANT_ADMIN,
        '{"pods": 5}',
    ),
    # Volumes
    Call(
        VOLUMES + "CreateVolume",
        Kind.TENANT,
        "POST",
        "/v3/pods/volumes",
        Needs.ANY,
        '{"volume_id": "{fresh}", "size_limit": 16}',
        creates="/v3/pods/volumes",
    ),
    Call(VOLUMES + "ListVolumes", Kind.TENANT, "GET", "/v3/pods/volumes", Needs.ANY),
    Call(VOLUMES + "GetVolume", Kind.VOLUME, "GET", "/v3/pods/volumes/{id}", Needs.READ),
    Call(
        VOLUMES + "UpdateVolume",
        Kind.VOLUME,
        "PUT",
        "/v3/pods/volumes/{id}",
        Needs.USER,
        '{"description": "changed by the matrix"}',
    ),
    Call(VOLUMES + "ListVolumeFiles", Kind.VOLUME, "GET", "/v3/pods/volumes/{id}/list", Needs.READ),
    Call(
        VOLUMES + "UploadToVolume",
        Kind.VOLUME,
        "POST",
        "/v3/pods/volumes/{id}/upload/up-{fresh}.txt",
        Needs.USER,
        "uploaded by the matrix",
        content_type="application/octet-stream",
    ),
    Call(
        VOLUMES + "GetVolumeContents",
        Kind.VOLUME,
        "GET",
        "/v3/pods/volumes/{id}/contents/secret.txt",
        Needs.USER,
    ),
    Call(
        VOLUMES + "GetVolumePermissions",
        Kind.VOLUME,
        "GET",
        "/v3/pods/volumes/{id}/permissions",
        Needs.USER,
    ),
    Call(
        VOLUMES + "SetVolumePermission",
        Kind.VOLUME,
        "POST",
        "/v3/pods/volumes/{id}/permissions",
        Needs.ADMIN,
        '{"user": "' + DUMMY + '", "level": "READ"}',
    ),
    Call(
        VOLUMES + "DeleteVolumePermission",
        Kind.VOLUME,
        "DELETE",
        "/v3/pods/volumes/{id}/permissions/" + DUMMY,
        Needs.ADMIN,
        grants_dummy=True,
    ),
    Call(
        VOLUMES + "DeleteVolume",
        Kind.VOLUME,
        "DELETE",
        "/v3/pods/volumes/{id}",
        Needs.ADMIN,
        consumes=True,
    ),
    # Snapshots (taking one needs READ on the source volume)
    Call(
        SNAPSHOTS + "CreateSnapshot",
        Kind.VOLUME,
        "POST",
        "/v3/pods/snapshots",
        Needs.READ,
        '{"snapshot_id": "{fresh}", "source_volume_id": "{id}", "source_volume_path": "/"}',
        creates="/v3/pods/snapshots",
    ),
    Call(SNAPSHOTS + "ListSnapshots", Kind.TENANT, "GET", "/v3/pods/snapshots", Needs.ANY),
    Call(SNAPSHOTS + "GetSnapshot", Kind.SNAPSHOT, "GET", "/v3/pods/snapshots/{id}", Needs.READ),
    Call(
        SNAPSHOTS + "UpdateSnapshot",
        Kind.SNAPSHOT,
        "PUT",
        "/v3/pods/snapshots/{id}",
        Needs.USER,
        '{"description": "changed by the matrix"}',
    ),
    Call(
        SNAPSHOTS + "ListSnapshotFiles",
        Kind.SNAPSHOT,
        "GET",
        "/v3/pods/snapshots/{id}/list",
        Needs.READ,
    ),
    Call(
        SNAPSHOTS + "GetSnapshotContents",
        Kind.SNAPSHOT,
        "GET",
        "/v3/pods/snapshots/{id}/contents/secret.txt",
        Needs.USER,
    ),
    Call(
        SNAPSHOTS + "GetSnapshotPermissions",
        Kind.SNAPSHOT,
        "GET",
        "/v3/pods/snapshots/{id}/permissions",
        Needs.USER,
    ),
    Call(
        SNAPSHOTS + "SetSnapshotPermission",
        Kind.SNAPSHOT,
        "POST",
        "/v3/pods/snapshots/{id}/permissions",
        Needs.ADMIN,
        '{"user": "' + DUMMY + '", "level": "READ"}',
    ),
    Call(
        SNAPSHOTS + "DeleteSnapshotPermission",
        Kind.SNAPSHOT,
        "DELETE",
        "/v3/pods/snapshots/{id}/permissions/" + DUMMY,
        Needs.ADMIN,
        grants_dummy=True,
    ),
    Call(
        SNAPSHOTS + "DeleteSnapshot",
        Kind.SNAPSHOT,
        "DELETE",
        "/v3/pods/snapshots/{id}",
        Needs.ADMIN,
        consumes=True,
    ),
    # Pod login (Tapis's pod_auth): any user of the tenant may ask what a pod port's login does
    # for them (the matrix's pods have no tapis_auth: everybody passes).
    Call(POD_AUTH + "GetPodAuth", Kind.POD, "GET", "/v3/pods/{id}/auth", Needs.ANY),
]
