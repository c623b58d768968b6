"""A real PostgreSQL server for the tests and the benchmarks, as server/internal/pgtest.

:func:`start` makes a short temporary directory (a unix socket path may have
at most 107 bytes), runs ``initdb`` into its ``data`` subdirectory
(``--auth=trust``, superuser ``postgres``, UTF8, locale C), then runs the
``postgres`` server itself (not ``pg_ctl``, so that the process held is the
postmaster) with an empty ``listen_addresses`` and the directory as its only
socket directory: nothing listens on TCP, so runs in parallel never collide.
``fsync`` is off, as nothing here must survive a crash of the machine; a
stop or a restart loses nothing that was committed.

:meth:`PostgreSQL.stop` stops it by process id: SIGINT, PostgreSQL's "fast"
shutdown, which ends the open sessions, then SIGKILL after
:data:`STOP_TIMEOUT` (its backends exit when it dies). The server gets
SIGQUIT, its immediate shutdown, if the thread that started it ends first
(``setpriv --pdeathsig``): start and restart it from the main thread.

The binaries come from ``$PG_BIN``, else ``pg_config --bindir``, else the
highest version under ``/usr/lib/postgresql/*/bin`` (Debian's layout), else
PATH. Without them :func:`start` raises :class:`PostgreSQLMissingError`,
which says that ``make postgres`` installs them: the tests fail, they are
not skipped.

initdb and postgres refuse to run as root. When this process is root both
run as the ``postgres`` system user, the directory chowned to it and left
readable by others so that this process and the server share the socket
(``setpriv --reuid``).

Connection strings are URLs that pgx (``-store``) accepts:
``postgres://postgres@/DB?host=DIR&port=5432&sslmode=disable``.
"""

from __future__ import annotations

import contextlib
import glob
import itertools
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlencode

__all__ = [
    "READY_TIMEOUT",
    "STOP_TIMEOUT",
    "PostgreSQL",
    "PostgreSQLMissingError",
    "bin_dir",
    "running",
    "start",
]

#: How long :func:`start` waits for the server to accept connections.
READY_TIMEOUT = 30.0
#: How long :meth:`PostgreSQL.stop` waits for a fast shutdown before SIGKILL.
STOP_TIMEOUT = 20.0
#: The port, which names the socket file (nothing listens on TCP).
PORT = "5432"


class PostgreSQLMissingError(RuntimeError):
    """No PostgreSQL server binaries were found, or they cannot run here."""


def bin_dir() -> Path:
    """The directory of the PostgreSQL server binaries, looked up as the module says."""

    def has(directory: str | Path) -> bool:
        return Path(directory, "initdb").is_file()

    env = os.environ.get("PG_BIN", "")
    if env:
        if has(env):
            return Path(env)
        raise PostgreSQLMissingError(f"PG_BIN={env} holds no initdb")
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        out = subprocess.run(
            ["pg_config", "--bindir"], capture_output=True, text=True, timeout=10, check=True
        ).stdout.strip()
        if out and has(out):
            return Path(out)

    def version(directory: str) -> float:
        try:
            return float(Path(directory).parent.name)
        except ValueError:
            return 0.0

    for directory in sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=version, reverse=True):
        if has(directory):
            return Path(directory)
    found = shutil.which("initdb")
    if found:
        return Path(found).parent
    raise PostgreSQLMissingError(
        "no PostgreSQL server binaries (initdb, postgres) in $PG_BIN, `pg_config --bindir`, "
        "/usr/lib/postgresql/*/bin or PATH: `make postgres` installs them"
    )


def _server_user() -> tuple[int, int] | None:
    """The uid and gid the server runs as: None for this process's user, else postgres's."""
    if os.geteuid() != 0:
        return None
    try:
        entry = pwd.getpwnam("postgres")
    except KeyError:
        raise PostgreSQLMissingError(
            "running as root, which initdb and postgres refuse, and no postgres user to run "
            "them as (Debian's postgresql package makes one; `make postgres` installs it)"
        ) from None
    return entry.pw_uid, entry.pw_gid


def _wrapper(user: tuple[int, int] | None) -> list[str]:
    """The setpriv command that runs a binary as the server's user, with SIGQUIT on our death.

    The processes are spawned without a fork (posix_spawn): a fork of a
    process with live gRPC channels runs gRPC's fork handlers in the child.
    """
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        raise PostgreSQLMissingError("no setpriv (util-linux) to run PostgreSQL's binaries with")
    command = [setpriv, "--pdeathsig", "QUIT"]
    if user is not None:
        command += [f"--reuid={user[0]}", f"--regid={user[1]}", "--clear-groups"]
    return [*command, "--"]


class PostgreSQL:
    """A PostgreSQL server in a temporary directory; see the module's docstring.

    Attributes:
        directory: Its socket, its data (``data``) and its log (``postgres.log``).
    """

    def __init__(self, bindir: Path, directory: Path, user: tuple[int, int] | None) -> None:
        self._bin = bindir
        self.directory = directory
        self._user = user
        self._process: subprocess.Popen[bytes] | None = None
        self._databases = itertools.count(1)

    def __repr__(self) -> str:
        return f"<PostgreSQL dir={str(self.directory)!r} pid={self.pid}>"

    @property
    def pid(self) -> int:
        """The postmaster's process id, or 0 when it is stopped."""
        return self._process.pid if self._process is not None else 0

    @property
    def _log(self) -> Path:
        return self.directory / "postgres.log"

    def _env(self) -> dict[str, str]:
        """The environment of the binaries: no PG* or LC_* variables, which change what they do."""
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("PG", "LC_")) and k not in ("HOME", "PYTHONPATH")
        }
        env.update(LC_ALL="C", HOME=str(self.directory))
        return env

    def _run(self, name: str, *args: str) -> subprocess.CompletedProcess[str]:
        """Run one of the binaries to its end, as the server's user."""
        return subprocess.run(
            [*_wrapper(self._user), str(self._bin / name), *args],
            env=self._env(),
            capture_output=True,
            text=True,
            timeout=120,
            close_fds=False,
        )

    def log_tail(self, limit: int = 4000) -> str:
        """The end of the server's log."""
        try:
            text = self._log.read_text(errors="replace")
        except OSError as err:
            return f"(no log: {err})"
        return text[-limit:].strip()

    def initdb(self) -> None:
        """Make the data directory."""
        if self._user is not None:
            os.chown(self.directory, *self._user)
        os.chmod(self.directory, 0o755)
        done = self._run(
            "initdb",
            "--pgdata",
            str(self.directory / "data"),
            "--auth=trust",
            "--username=postgres",
            "--encoding=UTF8",
            "--locale=C",
            "--no-sync",
        )
        if done.returncode != 0:
            raise RuntimeError(f"initdb failed ({done.returncode}):\n{done.stdout}{done.stderr}")

    def start(self) -> None:
        """Run the postmaster and wait until it accepts connections."""
        if self._process is not None:
            raise RuntimeError("the server already runs")
        with open(self._log, "ab") as log:
            if self._user is not None:
                os.chown(self._log, *self._user)
            self._process = subprocess.Popen(
                [
                    *_wrapper(self._user),
                    str(self._bin / "postgres"),
                    "-D",
                    str(self.directory / "data"),
                    "-k",
                    str(self.directory),
                    "-p",
                    PORT,
                    "-c",
                    "listen_addresses=",
                    "-c",
                    "fsync=off",
                    "-c",
                    "max_connections=200",
                ],
                env=self._env(),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
                close_fds=False,
            )
        try:
            self._wait_ready()
        except BaseException:
            self.stop()
            raise

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + READY_TIMEOUT
        last = ""
        while time.monotonic() < deadline:
            assert self._process is not None
            if self._process.poll() is not None:
                raise RuntimeError(f"postgres exited while starting:\n{self.log_tail()}")
            done = self.psql("postgres", "SELECT 1", check=False)
            if done.returncode == 0:
                return
            last = done.stderr.strip()
            time.sleep(0.05)
        raise RuntimeError(
            f"postgres did not accept connections within {READY_TIMEOUT:g} s ({last}):\n"
            f"{self.log_tail()}"
        )

    def psql(
        self, database: str, sql: str, *, check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        """Run one SQL command with psql on a database; its output is unaligned tuples."""
        psql = self._bin / "psql"
        command = [
            str(psql) if psql.exists() else "psql",
            "-X",
            "-A",
            "-t",
            "-q",
            "-v",
            "ON_ERROR_STOP=1",
            "-h",
            str(self.directory),
            "-p",
            PORT,
            "-U",
            "postgres",
            "-d",
            database,
            "-c",
            sql,
        ]
        done = subprocess.run(
            command, env=self._env(), capture_output=True, text=True, timeout=60, close_fds=False
        )
        if check and done.returncode != 0:
            raise RuntimeError(f"psql {sql!r} failed ({done.returncode}): {done.stderr.strip()}")
        return done

    def stop(self) -> None:
        """Stop the server if it runs: SIGINT, then SIGKILL after STOP_TIMEOUT.

        Raises:
            RuntimeError: It ignored the fast shutdown and had to be killed.
        """
        process, self._process = self._process, None
        if process is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.kill(process.pid, signal.SIGINT)
        try:
            process.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.kill(process.pid, signal.SIGKILL)  # its backends exit when it dies
            process.wait()
            raise RuntimeError(
                f"postgres (pid {process.pid}) ignored a fast shutdown for {STOP_TIMEOUT:g} s "
                f"and was killed:\n{self.log_tail()}"
            ) from None

    def restart(self) -> None:
        """Stop the server if it runs and start it again on the same data."""
        self.stop()
        self.start()

    def dsn(self, database: str = "postgres") -> str:
        """The connection URL of a database of this server."""
        query = urlencode({"host": str(self.directory), "port": PORT, "sslmode": "disable"})
        return f"postgres://postgres@/{database}?{query}"

    def new_database(self) -> str:
        """Create an empty database; its URL. Users of one server then share nothing."""
        name = f"test_{next(self._databases)}"
        self.psql("postgres", f'CREATE DATABASE "{name}"')
        return self.dsn(name)

    def close(self) -> None:
        """Stop the server and remove its directory."""
        try:
            self.stop()
        finally:
            shutil.rmtree(self.directory, ignore_errors=True)


def start() -> PostgreSQL:
    """Start a fresh PostgreSQL server; close() it when done.

    Raises:
        PostgreSQLMissingError: No binaries, or root without a postgres user.
        RuntimeError: initdb or the server failed, with the server's log.
    """
    bindir = bin_dir()
    user = _server_user()
    directory = Path(tempfile.mkdtemp(prefix="pg", dir="/tmp" if os.path.isdir("/tmp") else None))
    server = PostgreSQL(bindir, directory, user)
    try:
        server.initdb()
        server.start()
    except BaseException:
        server.close()
        raise
    return server


@contextlib.contextmanager
def running() -> Iterator[PostgreSQL]:
    """A fresh PostgreSQL server for the block, stopped and removed after it."""
    server = start()
    try:
        yield server
    finally:
        server.close()
