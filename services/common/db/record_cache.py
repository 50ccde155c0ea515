"""Every pod as records, decoding only the rows that changed since the previous read: the
route keeper (gateway/route_keeper.py) and health's full sweep read all pods again and again,
and decoding each row's JSON columns into a PodRecord was most of that read (0.29 of 0.52 s at
3,000 pods). Nothing is trusted from memory: each read fetches every row with its JSON
columns as text, and a row whose columns are all equal to the previous read's (compared as
fetched) gets the record decoded then; records are immutable, so sharing them is safe.

Used by repositories/pods.py (PodRepository.list_all_pods).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from types import SimpleNamespace
from typing import Any, cast

from sqlalchemy import Text, select
from sqlalchemy import cast as sql_cast

from services.common.db.mapping import pod_record
from services.common.db.models import PodRow
from services.common.pods_model import PodRecord
from services.common.runtime.types import PodKey

_PODS = PodRow.__table__
JSON_COLUMNS = ("spec", "status_container", "action_logs")
ALL_PODS_RAW = select(
    *(
        sql_cast(column, Text).label(column.name) if column.name in JSON_COLUMNS else column
        for column in _PODS.columns
    )
).order_by(_PODS.c.id)


def decoded(row: Any) -> PodRecord:
    """The record of a row of ALL_PODS_RAW (its JSON columns as text)."""
    values = dict(row._mapping)
    for name in JSON_COLUMNS:
        values[name] = json.loads(values[name])
    return pod_record(cast(PodRow, SimpleNamespace(**values)))


class PodRecordCache:
    """The records of the last read, by pod, with the row they were decoded from."""

    def __init__(self) -> None:
        self._known: dict[PodKey, tuple[tuple[Any, ...], PodRecord]] = {}

    def records(self, rows: Sequence[Any]) -> list[PodRecord]:
        """The records of `rows` (ALL_PODS_RAW's, in order); forgets pods not among them."""
        known: dict[PodKey, tuple[tuple[Any, ...], PodRecord]] = {}
        records = []
        for row in rows:
            raw = tuple(row)
            key = PodKey(row.tenant_id, row.pod_id)
            seen = self._known.get(key)
            record = seen[1] if seen is not None and seen[0] == raw else decoded(row)
            known[key] = (raw, record)
            records.append(record)
        self._known = known
        return records
