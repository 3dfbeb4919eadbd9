# ruff: noqa: E501, ASYNC251, ASYNC220, SIM115
"""Fan-out of the live stream: N websocket clients, K changes/s through the public PUT.

Starts its own Valkey and the service (`capacity serve --workers P`, P = 1 then 2 processes on
one port), connects N clients to ``/ws/regions/zuidwest`` spread by the kernel over the
processes, PUTs K changes per second for D seconds as ``admin``, and measures for every client
and change the time from the PUT's response (accepted) to the message's arrival. The peer,
python-socketio with its Redis manager (bench/peers/sio_server.py, P processes on their own
ports), runs the same workload. Loopback only; everything it starts is stopped at the end.

    .venv/bin/python -m bench.fanout --clients 1000 5000 --processes 1 2 --rate 10 --seconds 10
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import orjson
import psutil
import socketio
import websockets

from bench._service import ROOT, free_port, percentile, service, token
from capacity.storage.redis import EmbeddedValkey

FACILITY = "erasmus-mc-rotterdam"
REGION = "zuidwest"


def raise_file_limit() -> int:
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return hard


def server_processes(pid: int) -> list[psutil.Process]:
    """The service's Python processes (uvicorn master and workers), without Valkey."""
    root = psutil.Process(pid)
    return [p for p in [root, *root.children(recursive=True)] if "valkey" not in p.name()]


def usage(procs: list[psutil.Process]) -> tuple[float, float]:
    """(CPU seconds, RSS bytes) summed over the processes."""
    cpu = rss = 0.0
    for p in procs:
        with contextlib.suppress(psutil.NoSuchProcess):
            t = p.cpu_times()
            cpu += t.user + t.system
            rss += p.memory_info().rss
    return cpu, rss


class Recorder:
    def __init__(self) -> None:
        self.arrivals: list[tuple[int, float]] = []  # (version, monotonic) of every delivery


async def drive(
    put: Callable[[int], Awaitable[int]], rate: float, seconds: float
) -> dict[int, float]:
    """Call ``put`` K times a second; returns version -> time the PUT was sent.

    Measured from the send, not the response: the message often reaches clients before the
    response reaches the caller, so this is the honest upper bound of "accepted to arrival".
    """
    accepted: dict[int, float] = {}
    start = time.monotonic()
    for i in range(int(rate * seconds)):
        await asyncio.sleep(max(0.0, start + i / rate - time.monotonic()))
        sent = time.monotonic()
        accepted[await put(i)] = sent
    return accepted


def summarise(
    name: str,
    clients: int,
    recorders: list[Recorder],
    accepted: dict[int, float],
    cpu: float,
    rss_per_client: float,
    seconds: float,
) -> dict[str, Any]:
    latencies = [
        max(0.0, t - accepted[v]) for r in recorders for v, t in r.arrivals if v in accepted
    ]
    expected = clients * len(accepted)
    return {
        "server": name,
        "clients": clients,
        "changes": len(accepted),
        "delivered": f"{len(latencies)}/{expected} ({100 * len(latencies) / max(expected, 1):.1f}%)",
        "msg/s": round(len(latencies) / seconds),
        "p50 ms": round(1000 * percentile(latencies, 0.50), 1),
        "p99 ms": round(1000 * percentile(latencies, 0.99), 1),
        "max ms": round(1000 * max(latencies, default=float("nan")), 1),
        "CPU us/msg": round(1e6 * cpu / max(len(latencies), 1), 1),
        "KB/client": round(rss_per_client / 1024, 1),
    }


async def run_capacity(
    processes: int, clients: int, rate: float, seconds: float, redis_url: str
) -> dict[str, Any]:
    env = {"CAPACITY_REDIS_URL": redis_url, "CAPACITY_WS_PING_SECONDS": "25"}
    with service(workers=processes, env=env) as (url, pid):
        time.sleep(1.0)  # let the workers finish starting
        procs = server_processes(pid)
        midwife, admin = token(url, "midwife"), token(url, "admin")
        ws_url = url.replace("http://", "ws://") + f"/ws/regions/{REGION}?token={midwife}"
        _, rss0 = usage(procs)
        recorders = [Recorder() for _ in range(clients)]
        sockets = []
        for i in range(0, clients, 50):
            sockets += await asyncio.gather(
                *(
                    websockets.connect(ws_url, compression=None, open_timeout=60, max_queue=None)
                    for _ in range(i, min(i + 50, clients))
                )
            )
        for ws in sockets:
            await ws.recv()  # the snapshot
        _, rss1 = usage(procs)

        async def listen(ws: Any, rec: Recorder) -> None:
            with contextlib.suppress(websockets.ConnectionClosed):
                async for raw in ws:
                    m = orjson.loads(raw)
                    if m["type"] == "facility":
                        rec.arrivals.append((m["facility"]["version"], time.monotonic()))

        listeners = [
            asyncio.create_task(listen(ws, r)) for ws, r in zip(sockets, recorders, strict=True)
        ]
        async with httpx.AsyncClient(base_url=url, timeout=30) as http:
            headers = {"Authorization": f"Bearer {admin}"}

            async def put(i: int) -> int:
                body = {"categories": {"delivery_room": {"available": i % 9, "staffed": 9}}}
                r = await http.put(
                    f"/api/v1/facilities/{FACILITY}/capacity", json=body, headers=headers
                )
                r.raise_for_status()
                return int(r.json()["version"])

            cpu0, _ = usage(procs)
            accepted = await drive(put, rate, seconds)
            await asyncio.sleep(3.0)  # let the last changes arrive
            cpu1, _ = usage(procs)
        for task in listeners:
            task.cancel()
        await asyncio.gather(*(ws.close() for ws in sockets), return_exceptions=True)
        return summarise(
            f"capacity x{processes}",
            clients,
            recorders,
            accepted,
            cpu1 - cpu0,
            (rss1 - rss0) / clients,
            seconds,
        )


async def run_peer(
    processes: int, clients: int, rate: float, seconds: float, redis_url: str
) -> dict[str, Any]:
    ports = [free_port() for _ in range(processes)]
    log = tempfile.TemporaryFile()
    servers = [
        subprocess.Popen(
            [
                sys.executable,
                str(ROOT / "bench/peers/sio_server.py"),
                "--port",
                str(p),
                "--redis",
                redis_url,
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        for p in ports
    ]
    try:
        for p in ports:
            for _ in range(100):
                with contextlib.suppress(OSError), socketio_probe(p):
                    break
                time.sleep(0.1)
        procs = [psutil.Process(s.pid) for s in servers]
        _, rss0 = usage(procs)
        recorders = [Recorder() for _ in range(clients)]
        sios = []

        async def join(i: int, rec: Recorder) -> socketio.AsyncClient:
            sio = socketio.AsyncClient(reconnection=False)

            @sio.on("facility")
            async def on_facility(data: Any) -> None:
                rec.arrivals.append((data["facility"]["version"], time.monotonic()))

            await sio.connect(
                f"http://127.0.0.1:{ports[i % processes]}?region={REGION}",
                transports=["websocket"],
                wait_timeout=60,
            )
            return sio

        for i in range(0, clients, 50):
            sios += await asyncio.gather(
                *(join(j, recorders[j]) for j in range(i, min(i + 50, clients)))
            )
        await asyncio.sleep(1.0)
        _, rss1 = usage(procs)
        async with httpx.AsyncClient(timeout=30) as http:

            async def put(i: int) -> int:
                message = {
                    "type": "facility",
                    "region": REGION,
                    "seq": i,
                    "facility": {"facility_id": FACILITY, "version": i},
                }
                r = await http.post(
                    f"http://127.0.0.1:{ports[i % processes]}/change/{REGION}",
                    content=orjson.dumps(message),
                )
                r.raise_for_status()
                return i

            cpu0, _ = usage(procs)
            accepted = await drive(put, rate, seconds)
            await asyncio.sleep(3.0)
            cpu1, _ = usage(procs)
        await asyncio.gather(*(s.disconnect() for s in sios), return_exceptions=True)
        return summarise(
            f"python-socketio x{processes}",
            clients,
            recorders,
            accepted,
            cpu1 - cpu0,
            (rss1 - rss0) / clients,
            seconds,
        )
    finally:
        for s in servers:
            s.terminate()
        for s in servers:
            s.wait(10)


@contextlib.contextmanager
def socketio_probe(port: int) -> Any:
    import socket

    with socket.create_connection(("127.0.0.1", port), timeout=0.5) as sock:
        yield sock


def table(rows: list[dict[str, Any]]) -> str:
    head = list(rows[0])
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(str(r[h]) for h in head) + " |" for r in rows]
    return "\n".join(lines)


async def main(args: argparse.Namespace) -> None:
    limit = raise_file_limit()
    print(f"file limit {limit}; {os.cpu_count()} CPUs", flush=True)
    with tempfile.TemporaryDirectory(prefix="fanout-valkey-") as data:
        valkey = EmbeddedValkey(Path(data), appendonly=False).start()
        try:
            rows = []
            for clients in args.clients:
                for processes in args.processes:
                    for runner in (run_capacity, run_peer) if not args.no_peer else (run_capacity,):
                        row = await runner(processes, clients, args.rate, args.seconds, valkey.url)
                        print(row, flush=True)
                        rows.append(row)
            print(table(rows))
        finally:
            valkey.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clients", type=int, nargs="+", default=[1000, 5000])
    parser.add_argument("--processes", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--rate", type=float, default=10.0, help="changes per second")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--no-peer", action="store_true", help="skip python-socketio")
    try:
        import uvloop

        uvloop.run(main(parser.parse_args()))
    except ImportError:
        asyncio.run(main(parser.parse_args()))
