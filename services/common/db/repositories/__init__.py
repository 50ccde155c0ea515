"""The repositories: one small class per aggregate over the process's shared `Sessions`
(pods, their applied and observed state, logs, grants, templates and image rules, volume and
snapshot records, quotas). Built once per process by services/common/db/database.py."""
