"""The repositories and migrations against real SQLite and PostgreSQL."""
