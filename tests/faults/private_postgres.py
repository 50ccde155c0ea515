"""A private PostgreSQL 15 cluster for the fault tests: initdb in a temporary directory (run as
the `postgres` OS user, since initdb refuses root), started and stopped with pg_ctl on a free
port, so a test can take its database down without touching the machine's shared server."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

BIN = Path("/usr/lib/postgresql/15/bin")


def available() -> str | None:
    """None when a private cluster can be made here, else the reason it cannot."""
    if not (BIN / "initdb").exists():
        return f"{BIN}/initdb is missing"
    if shutil.which("runuser") is None:
        return "runuser is missing"
    return None


@dataclass
class PrivatePostgres:
    """One cluster: `start()`, `stop()`, and `url` for SQLAlchemy's asyncpg driver."""

    root: Path
    port: int

    @property
    def data(self) -> Path:
        return self.root / "data"

    @property
    def url(self) -> str:
        return f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/postgres"

    @classmethod
    def create(cls, port: int) -> PrivatePostgres:
        """A new cluster in its own directory under the system temp dir (pytest's tmp dirs are
        closed to other users), initialised but not started."""
        root = Path(tempfile.mkdtemp(prefix="pods-faults-pg-"))
        shutil.chown(root, "postgres", "postgres")
        root.chmod(0o700)
        cluster = cls(root, port)
        cluster._as_postgres(
            str(BIN / "initdb"), "-A", "trust", "-U", "postgres", str(cluster.data)
        )
        return cluster

    def _as_postgres(self, *argv: str) -> None:
        result = subprocess.run(
            ["runuser", "-u", "postgres", "--", *argv],
            capture_output=True,
            timeout=120,
            check=False,
        )
        if result.returncode != 0:
            raise RuntimeError(f"{argv[0]} failed: {result.stdout!r} {result.stderr!r}")

    def destroy(self) -> None:
        """Stops the server if it runs and removes its files."""
        if self.running():
            self.stop("immediate")
        shutil.rmtree(self.root, ignore_errors=True)

    def start(self) -> None:
        options = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._as_postgres(
            str(BIN / "pg_ctl"), "-D", str(self.data), "-o", options,
            "-l", str(self.root / "postgres.log"), "-w", "start",
        )  # fmt: skip

    def stop(self, mode: str = "fast") -> None:
        self._as_postgres(str(BIN / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop")

    def running(self) -> bool:
        result = subprocess.run(
            ["runuser", "-u", "postgres", "--", str(BIN / "pg_ctl"), "-D", str(self.data),
             "status"],
            capture_output=True, check=False,
        )  # fmt: skip
        return result.returncode == 0
