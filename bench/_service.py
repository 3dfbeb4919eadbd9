"""Start a throwaway `capacity serve` on a free loopback port for a benchmark (bounded, local)."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import psutil

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def service(workers: int = 1, env: dict[str, str] | None = None) -> Iterator[tuple[str, int]]:
    """Yields (base url, pid) of a fresh service with its own data dir; stops it afterwards."""
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="capacity-bench-") as data:
        full_env = {
            **os.environ,
            "CAPACITY_DATA_DIR": data,
            "CAPACITY_PORT": str(port),
            "CAPACITY_DEMO_DATA": "false",
            **(env or {}),
        }
        log = open(Path(data) / "serve.log", "wb")  # noqa: SIM115
        proc = subprocess.Popen(
            [str(Path(sys.executable).parent / "capacity"), "serve", "--workers", str(workers)],
            env=full_env,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=ROOT,
            start_new_session=True,
        )
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 90
            while time.monotonic() < deadline:
                if proc.poll() is not None:
                    raise RuntimeError((Path(data) / "serve.log").read_text()[-3000:])
                with contextlib.suppress(httpx.HTTPError):
                    if httpx.get(f"{url}/readyz", timeout=1).status_code == 200:
                        break
                time.sleep(0.2)
            else:
                raise RuntimeError("service did not become ready")
            yield url, proc.pid
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
            log.close()


def token(url: str, username: str, password: str = "demo") -> str:
    response = httpx.post(
        f"{url}/api/v1/auth/token", data={"username": username, "password": password}, timeout=10
    )
    response.raise_for_status()
    return str(response.json()["access_token"])


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def process_tree(pid: int, *, valkey: bool = False) -> list[psutil.Process]:
    """The service's processes (uvicorn master and workers), with its embedded Valkey or not."""
    root = psutil.Process(pid)
    tree = [root, *root.children(recursive=True)]
    return tree if valkey else [p for p in tree if "valkey" not in p.name()]


def usage(procs: list[psutil.Process]) -> tuple[float, float]:
    """(CPU seconds, RSS bytes) summed over the processes."""
    cpu = rss = 0.0
    for p in procs:
        with contextlib.suppress(psutil.NoSuchProcess):
            t = p.cpu_times()
            cpu += t.user + t.system
            rss += p.memory_info().rss
    return cpu, rss
