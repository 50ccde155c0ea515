"""The contract tests that need the whole local stack (test_tapipy_spec_contract.py) use the
end-to-end suite's session stacks (one on SQLite, one on PostgreSQL)."""

from tests.e2e.conftest import database, stack

__all__ = ["database", "stack"]
