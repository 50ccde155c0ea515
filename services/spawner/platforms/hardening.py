"""The security baseline of every pod container, shared by the runtimes. Pure data.

Used by docker/translate.create_kwargs and, through kubernetes/config.SecurityDefaults, by
kubernetes/manifests.py. Every pod container runs with no new privileges, all capabilities
dropped but ROOT_STEP_DOWN_CAPABILITIES, a pids limit, never privileged, with no host path
and no engine socket mounted; its root filesystem is read-only when its template says the
image allows it (READ_ONLY_ROOT_TMPFS are then writable, in memory).
"""

from __future__ import annotations

# What an image that starts as root and steps down to its own user needs; measured with the
# pods-postgres entrypoint on Docker 20.10 (each one missing makes it fail as noted):
#   CHOWN         chown of the data directory to the service user (chown: not permitted)
#   DAC_OVERRIDE  root entering the user's 0700 data directory on a restart (find: denied)
#   FOWNER        chmod of a directory root does not own (chmod: not permitted)
#   SETGID        setgroups/setgid when stepping down (setpriv, gosu, su-exec)
#   SETUID        setuid when stepping down
#   KILL          the init process (root) forwarding SIGTERM to the stepped-down service;
#                 without it tini dies with EPERM and the service is killed, not stopped
# Dropped from Docker's default set: AUDIT_WRITE, FSETID, MKNOD, NET_RAW (raw sockets: ping,
# ARP spoofing of neighbours), SETFCAP, SETPCAP, SYS_CHROOT and NET_BIND_SERVICE (Docker
# 20.10+ sets net.ipv4.ip_unprivileged_port_start=0 in a container's own network namespace,
# so ports below 1024 need no capability there; Kubernetes adds it back, see its config).
ROOT_STEP_DOWN_CAPABILITIES: tuple[str, ...] = (
    "CHOWN",
    "DAC_OVERRIDE",
    "FOWNER",
    "KILL",
    "SETGID",
    "SETUID",
)

DEFAULT_PIDS_LIMIT = 1024  # processes and threads of one pod (PODS_POD_PIDS_LIMIT)

# Writable in-memory directories of a pod whose root filesystem is read-only, and their size.
READ_ONLY_ROOT_TMPFS: tuple[str, ...] = ("/tmp", "/run")  # noqa: S108 - in the container
TMPFS_SIZE_MIB = 64
