"""A private PostgreSQL server for the test session, and a fresh database per test.

The server is the real one (Debian's ``postgresql`` package: ``scripts/ensure-system-deps.sh
postgresql``), never the one this machine may already run on 5432: ``initdb`` makes a new
cluster in a temporary folder once per test session, ``postgres`` listens on a free loopback
port and on a unix socket in that folder, and each test gets a database copied from a
template (``CREATE DATABASE … TEMPLATE``), dropped again after it. The cluster is stopped and
its folder removed at session end, after a failure too (the fixture's finaliser, and an
``atexit`` hook should the session die before it).

Authentication is ``trust``: the server accepts only 127.0.0.1 and its own socket folder, lives
for one test session and holds nothing but test data.

``postgres`` is started directly (not through ``pg_ctl``, which detaches it): the postmaster is
then this process's child, listed in :data:`tests.harness.processes.SESSION_OWNED` like other
session-wide servers, and stopped by its pid.
"""

from __future__ import annotations

import atexit
import contextlib
import itertools
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import psycopg

from provisioning.mosquitto import free_port
from tests.harness.processes import SESSION_OWNED

SUPERUSER = "citywatch"
TEMPLATE = "citywatch_template"
#: Fast and disposable: test data need not survive a crash of the machine.
SERVER_OPTIONS = {
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "shared_buffers": "32MB",
    "max_connections": "60",
    "log_min_messages": "warning",
}
#: The user the server runs as when the tests run as root (initdb and postgres refuse root).
UNPRIVILEGED_USERS = ("postgres", "nobody")


class PostgresUnavailable(RuntimeError):
    """The server binaries are missing or the server did not start (the message says why)."""


def find_bindir() -> Path:
    """The folder holding ``initdb`` and ``postgres``: ``pg_config --bindir``, then Debian's
    versioned folders (newest first), then wherever ``initdb`` is on PATH."""
    candidates: list[Path] = []
    if pg_config := shutil.which("pg_config"):
        with contextlib.suppress(OSError, subprocess.CalledProcessError):
            out = subprocess.run(
                [pg_config, "--bindir"], capture_output=True, text=True, check=True
            )
            candidates.append(Path(out.stdout.strip()))
    versions = Path("/usr/lib/postgresql").glob("*/bin")
    candidates += sorted(versions, key=lambda p: _version(p.parent.name), reverse=True)
    if initdb := shutil.which("initdb"):
        candidates.append(Path(initdb).resolve().parent)
    for bindir in candidates:
        if all(os.access(bindir / exe, os.X_OK) for exe in ("initdb", "postgres")):
            return bindir
    raise PostgresUnavailable(
        "no PostgreSQL server binaries (initdb, postgres) found: install them with "
        "`scripts/ensure-system-deps.sh postgresql` (Debian's postgresql package)"
    )


def _version(name: str) -> tuple[int, ...]:
    return tuple(int(p) for p in name.split(".") if p.isdigit())


def _run_as() -> pwd.struct_passwd | None:
    """Who runs the server: nobody else when the tests are not root; as root, an
    unprivileged system account (``postgres`` when Debian's package made it, else
    ``nobody``), because initdb and postgres refuse to run as root. The temporary folder is
    then handed to that account, which needs it as its own (postgres checks the data
    folder's owner and 0700 mode)."""
    if os.geteuid() != 0:
        return None
    for name in UNPRIVILEGED_USERS:
        with contextlib.suppress(KeyError):
            return pwd.getpwnam(name)
    raise PostgresUnavailable(f"running as root, and none of {UNPRIVILEGED_USERS} exists")


@dataclass
class PostgresServer:
    """One running cluster: its folder, port and postmaster process."""

    bindir: Path
    root: Path
    port: int
    proc: subprocess.Popen[bytes]
    _names: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    @property
    def socket_dir(self) -> Path:
        """The folder of the server's unix socket."""
        return self.root

    def dsn(self, dbname: str = "postgres") -> str:
        """A libpq URI of ``dbname`` over loopback TCP."""
        return f"postgresql://{SUPERUSER}@127.0.0.1:{self.port}/{dbname}"

    def admin(self) -> psycopg.Connection:
        """An autocommit connection to the maintenance database (CREATE/DROP DATABASE)."""
        return psycopg.connect(self.dsn(), autocommit=True, connect_timeout=10)

    def create_database(self, template: str = TEMPLATE) -> str:
        """A fresh database copied from ``template`` (no one may be connected to it);
        returns its name."""
        name = f"cw_test_{os.getpid()}_{next(self._names)}"
        with self.admin() as conn:
            conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
        return name

    def drop_database(self, name: str) -> None:
        """Drop ``name``, disconnecting whatever a test left connected to it."""
        with self.admin() as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def stop(self) -> None:
        """Fast shutdown (SIGINT: roll back open transactions, then exit), then remove the
        cluster's folder. Safe to call twice."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        SESSION_OWNED.discard(self.proc.pid)
        shutil.rmtree(self.root, ignore_errors=True)


def start_postgres() -> PostgresServer:
    """initdb a new cluster in a temporary folder and start it on a free loopback port."""
    bindir = find_bindir()
    user = _run_as()
    root = Path(tempfile.mkdtemp(prefix="citywatch-pg-"))
    try:
        if user is not None:
            os.chown(root, user.pw_uid, user.pw_gid)
        _initdb(bindir, root, user)
        server = _start(bindir, root, user)
        atexit.register(server.stop)
        _make_template(server)
        return server
    except BaseException:
        shutil.rmtree(root, ignore_errors=True)
        raise


def _as_user(user: pwd.struct_passwd | None) -> dict:
    """Popen arguments that drop to ``user`` (no supplementary groups) before exec."""
    if user is None:
        return {}
    return {"user": user.pw_uid, "group": user.pw_gid, "extra_groups": []}


def _initdb(bindir: Path, root: Path, user: pwd.struct_passwd | None) -> None:
    cmd = [
        str(bindir / "initdb"),
        "--pgdata", str(root / "data"),
        "--username", SUPERUSER,
        "--auth", "trust",
        "--encoding", "UTF8",
        "--no-locale",
        "--no-sync",
        "--no-instructions",
    ]  # fmt: skip
    done = subprocess.run(cmd, cwd=root, capture_output=True, text=True, **_as_user(user))
    if done.returncode != 0:
        raise PostgresUnavailable(f"initdb failed ({done.returncode}): {done.stderr.strip()}")


def _start(bindir: Path, root: Path, user: pwd.struct_passwd | None) -> PostgresServer:
    """Start the postmaster; a port taken between choosing and binding is tried again."""
    last = ""
    for _ in range(3):
        port = free_port()
        opts = {**SERVER_OPTIONS, "listen_addresses": "127.0.0.1", "port": str(port)}
        opts["unix_socket_directories"] = str(root)
        cmd = [str(bindir / "postgres"), "-D", str(root / "data")]
        cmd += [arg for k, v in opts.items() for arg in ("-c", f"{k}={v}")]
        log = root / f"server-{port}.log"
        with open(log, "wb") as out:
            if user is not None:
                os.chown(log, user.pw_uid, user.pw_gid)
            proc = subprocess.Popen(
                cmd, cwd=root, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                **_as_user(user),
            )  # fmt: skip
        SESSION_OWNED.add(proc.pid)
        server = PostgresServer(bindir, root, port, proc)
        if _wait_ready(server, timeout=30):
            return server
        _kill(proc)
        last = log.read_text(errors="replace")[-2000:]
    raise PostgresUnavailable(f"postgres did not start: {last}")


def _kill(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.kill()
    proc.wait(timeout=10)
    SESSION_OWNED.discard(proc.pid)


def _wait_ready(server: PostgresServer, *, timeout: float) -> bool:
    """Wait until the server accepts connections; False when it exited (or never did)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.proc.poll() is not None:
            return False
        try:
            with server.admin() as conn:
                conn.execute("select 1")
            return True
        except psycopg.OperationalError:
            time.sleep(0.05)
    return False


def _make_template(server: PostgresServer) -> None:
    """The template every test's database is copied from, with the extensions the
    coordinator's search will use (pg_trgm) when the server has them."""
    with server.admin() as conn:
        conn.execute(f'CREATE DATABASE "{TEMPLATE}"')
    with psycopg.connect(server.dsn(TEMPLATE), autocommit=True) as conn:
        have = conn.execute(
            "select 1 from pg_available_extensions where name = 'pg_trgm'"
        ).fetchone()
        if have:
            conn.execute("CREATE EXTENSION pg_trgm")
