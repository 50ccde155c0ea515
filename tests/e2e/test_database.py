"""The stack really keeps its state in the database its run is named after: a pod created
through the API is a row in the PostgreSQL database made for the [postgres] stack, and in the
SQLite file of the [sqlite] stack (and not in the other)."""

from __future__ import annotations

import json
import sqlite3

import psycopg2
import pytest

from tests.e2e.conftest import Cleanup, Unique
from tests.e2e.harness import Stack

pytestmark = [pytest.mark.docker, pytest.mark.stack]


def rows_in_postgres(stack: Stack, pod_id: str) -> int:
    url = stack.env["PODS_DATABASE_URL"].replace("postgresql+asyncpg://", "postgresql://")
    with psycopg2.connect(url, connect_timeout=10) as conn, conn.cursor() as cur:
        cur.execute("select count(*) from pods where pod_id = %s", (pod_id,))
        (count,) = cur.fetchone() or (0,)
    conn.close()
    return int(count)


def rows_in_sqlite(stack: Stack, pod_id: str) -> int:
    path = stack.data_dir / "pods.db"
    if not path.exists():
        return 0
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as conn:
        (count,) = conn.execute("select count(*) from pods where pod_id = ?", (pod_id,)).fetchone()
    return int(count)


def test_the_stack_keeps_its_state_in_its_own_database(
    stack: Stack, database: str, unique: Unique, cleanup: Cleanup
) -> None:
    assert stack.database == database
    pod_id = cleanup.pod(unique("dbpod"))
    body = json.dumps({"pod_id": pod_id, "image": "pods-http:latest"}).encode()
    status, _, data = stack.request("POST", "/v3/pods", body, token=stack.token())
    assert status == 200, data
    if database == "postgres":
        assert rows_in_postgres(stack, pod_id) == 1
        assert rows_in_sqlite(stack, pod_id) == 0
    else:
        assert "PODS_DATABASE_URL" not in stack.env
        assert rows_in_sqlite(stack, pod_id) == 1
