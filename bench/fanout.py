# ruff: noqa: SIM115, ASYNC110
"""Fan-out of the live stream: N websocket clients, K changes/s through the public PUT.

Starts its own Valkey and the service (`capacity serve --workers P`, one port), spreads N
clients over W client processes (a minimal websocket client on a raw asyncio protocol, so the
load generator costs little CPU), PUTs K changes per second as ``admin`` and measures, for every
client and change, the time from the change being *accepted* (the ``at`` field the server puts
in each message) to its arrival. The peer, python-socketio with its Redis manager
(bench/peers/sio_server.py, P processes), runs the same workload through the same client.
Loopback only; everything it starts is stopped at the end.

    .venv/bin/python -m bench.fanout --clients 1000 5000 --processes 1 2 --rate 10 --seconds 10
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import multiprocessing as mp
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import psutil

from bench._service import ROOT, free_port, process_tree, service, token, usage
from capacity.storage.redis import EmbeddedValkey

FACILITY = "erasmus-mc-rotterdam"
REGION = "zuidwest"
RESOLUTION = 10_000  # latency histogram buckets per second (0.1 ms)
CAP = 10 * RESOLUTION  # everything above 10 s lands in the last bucket
HANDSHAKE = (
    "GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
    "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
    "Sec-WebSocket-Version: 13\r\n\r\n"
)


def raise_file_limit() -> int:
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return hard


# --- the load client: runs in W worker processes -------------------------------------------


class Tally:
    """What one worker saw: latency histograms per minute, counts, close codes."""

    def __init__(self) -> None:
        self.since_seq = 1 << 62  # count facility messages above this seq only
        self.t0 = 0.0
        self.minutes: dict[int, list[int]] = {}
        self.delivered = 0
        self.snapshots = 0
        self.closes: dict[int, int] = {}
        # accepted time by its text, parsed once per worker (not by seq: with clients in several
        # regions, seqs repeat)
        self.at: dict[bytes, float] = {}

    def message(self, payload: bytes, now: float) -> None:
        i = payload.find(b'"seq":')
        if i < 0:
            if b'"type":"snapshot"' in payload[:40]:
                self.snapshots += 1
            return
        if b'"type":"snapshot"' in payload[:40]:
            self.snapshots += 1
            return
        end = payload.find(b",", i)
        seq = int(payload[i + 6 : end])
        if seq <= self.since_seq:
            return
        j = payload.find(b'"at":"', end) + 6
        stamp = payload[j : payload.find(b'"', j)]
        at = self.at.get(stamp)
        if at is None:
            at = self.at[stamp] = datetime.fromisoformat(stamp.decode()).timestamp()
        self.delivered += 1
        hist = self.minutes.get(int((now - self.t0) // 60))
        if hist is None:
            hist = self.minutes[int((now - self.t0) // 60)] = [0] * (CAP + 1)
        hist[min(CAP, int((now - at) * RESOLUTION))] += 1


class Client(asyncio.Protocol):
    """A websocket client that only reads: parses unmasked server frames in place."""

    def __init__(self, tally: Tally, request: bytes, socketio: bool):
        self.tally, self.request, self.socketio = tally, request, socketio
        self.buffer = b""
        self.upgraded = False
        self.opened: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: Any) -> None:
        self.transport = transport
        transport.write(self.request)

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.opened.done():
            self.opened.set_exception(exc or ConnectionError("closed during the handshake"))
        elif self.transport is not None:
            self.tally.closes[1006] = self.tally.closes.get(1006, 0) + 1
        self.transport = None

    def send_text(self, text: bytes) -> None:
        # Clients must mask; a zero mask key leaves the payload as it is.
        assert len(text) < 126 and self.transport is not None
        self.transport.write(bytes((0x81, 0x80 | len(text))) + b"\0\0\0\0" + text)

    def data_received(self, data: bytes) -> None:
        now = time.time()
        buf = self.buffer + data if self.buffer else data
        if not self.upgraded:
            head = buf.find(b"\r\n\r\n")
            if head < 0:
                self.buffer = buf
                return
            if not buf.startswith(b"HTTP/1.1 101"):
                self.opened.set_exception(ConnectionError(buf[:60].decode(errors="replace")))
                self.transport.close()  # type: ignore[union-attr]
                return
            self.upgraded = True
            self.opened.set_result(None)
            buf = buf[head + 4 :]
        pos, size = 0, len(buf)
        while size - pos >= 2:
            opcode, length = buf[pos] & 0x0F, buf[pos + 1] & 0x7F
            start = pos + 2
            if length == 126:
                if size - pos < 4:
                    break
                length, start = int.from_bytes(buf[pos + 2 : pos + 4]), pos + 4
            elif length == 127:
                if size - pos < 10:
                    break
                length, start = int.from_bytes(buf[pos + 2 : pos + 10]), pos + 10
            if size - start < length:
                break
            payload = buf[start : start + length]
            pos = start + length
            if opcode == 1:
                if self.socketio:
                    self._socketio(payload, now)
                else:
                    self.tally.message(payload, now)
            elif opcode == 9:  # ping -> pong
                self.transport.write(bytes((0x8A, 0x80 | len(payload))) + b"\0\0\0\0" + payload)  # type: ignore[union-attr]
            elif opcode == 8:
                code = int.from_bytes(payload[:2]) if len(payload) >= 2 else 1005
                self.tally.closes[code] = self.tally.closes.get(code, 0) + 1
                transport, self.transport = self.transport, None
                if transport is not None:
                    transport.close()
                return
        self.buffer = buf[pos:]

    def _socketio(self, payload: bytes, now: float) -> None:
        if payload[:1] == b"4":  # a socket.io packet: 40 = connected, 42 = event
            if payload[:2] == b"40":
                self.tally.snapshots += 1
            else:
                self.tally.message(payload, now)
        elif payload == b"2":  # engine.io ping
            self.send_text(b"3")
        elif payload[:1] == b"0":  # engine.io open: join the default namespace
            self.send_text(b"40")


async def _connect(
    tally: Tally, port: int, path: str, socketio: bool, clients: list[Client]
) -> None:
    loop = asyncio.get_running_loop()
    request = HANDSHAKE.format(path=path, port=port).encode()
    for attempt in range(5):
        client = Client(tally, request, socketio)
        try:
            await loop.create_connection(lambda c=client: c, "127.0.0.1", port)  # type: ignore[misc]
            await asyncio.wait_for(client.opened, 60)
            clients.append(client)
            return
        except (OSError, TimeoutError, ConnectionError):
            await asyncio.sleep(0.2 * (attempt + 1))
    tally.closes[-1] = tally.closes.get(-1, 0) + 1  # could not connect


async def _gated(gate: asyncio.Semaphore, *args: Any) -> None:
    async with gate:
        await _connect(*args)


async def _worker(pipe: Any) -> None:
    loop = asyncio.get_running_loop()
    tally = Tally()
    clients: list[Client] = []
    while True:
        command, arg = await loop.run_in_executor(None, pipe.recv)
        if command == "connect":
            targets, socketio = arg
            gate = asyncio.Semaphore(64)
            await asyncio.gather(
                *(_gated(gate, tally, port, path, socketio, clients) for port, path in targets)
            )
            deadline = time.monotonic() + 60
            while tally.snapshots < len(clients) and time.monotonic() < deadline:
                await asyncio.sleep(0.1)
            pipe.send((len(clients), tally.snapshots, dict(tally.closes)))
        elif command == "measure":
            tally.since_seq, tally.t0 = arg
            tally.delivered, tally.minutes, tally.closes = 0, {}, {}
            pipe.send(None)
        elif command == "report":
            usage = resource.getrusage(resource.RUSAGE_SELF)
            minutes = {m: {i: n for i, n in enumerate(h) if n} for m, h in tally.minutes.items()}
            pipe.send(
                (tally.delivered, minutes, dict(tally.closes), usage.ru_utime + usage.ru_stime)
            )
        elif command == "close":
            for client in clients:
                if client.transport is not None:
                    client.transport, transport = None, client.transport
                    transport.close()
            pipe.send(None)
            return


def worker_main(pipe: Any) -> None:
    raise_file_limit()
    try:
        import uvloop

        uvloop.run(_worker(pipe))
    except ImportError:
        asyncio.run(_worker(pipe))


class Clients:
    """W worker processes holding N websocket clients between them."""

    def __init__(self, workers: int):
        ctx = mp.get_context("spawn")
        self.pipes = []
        self.procs = []
        for _ in range(workers):
            ours, theirs = ctx.Pipe()
            proc = ctx.Process(target=worker_main, args=(theirs,), daemon=True)
            proc.start()
            self.pipes.append(ours)
            self.procs.append(proc)

    async def ask(self, command: str, args: list[Any]) -> list[Any]:
        for pipe, arg in zip(self.pipes, args, strict=True):
            pipe.send((command, arg))
        return [await asyncio.to_thread(pipe.recv) for pipe in self.pipes]

    async def connect(self, targets: list[tuple[int, str]], socketio: bool = False) -> int:
        shares = [(targets[i :: len(self.pipes)], socketio) for i in range(len(self.pipes))]
        replies = await self.ask("connect", shares)
        connected = sum(r[0] for r in replies)
        snapshots = sum(r[1] for r in replies)
        closes = merge_counts(r[2] for r in replies)
        print(
            f"  connected {connected}/{len(targets)}, first messages {snapshots}, closes {closes}",
            flush=True,
        )
        return connected

    async def measure(self, since_seq: int, t0: float) -> None:
        await self.ask("measure", [(since_seq, t0)] * len(self.pipes))

    async def report(self) -> tuple[int, dict[int, dict[int, int]], dict[int, int], float]:
        replies = await self.ask("report", [None] * len(self.pipes))
        minutes: dict[int, dict[int, int]] = {}
        for _, worker_minutes, _, _ in replies:
            for m, hist in worker_minutes.items():
                into = minutes.setdefault(m, {})
                for bucket, n in hist.items():
                    into[bucket] = into.get(bucket, 0) + n
        return (
            sum(r[0] for r in replies),
            minutes,
            merge_counts(r[2] for r in replies),
            sum(r[3] for r in replies),
        )

    async def close(self) -> None:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.ask("close", [None] * len(self.pipes)), 30)
        for proc in self.procs:
            proc.join(5)
            if proc.is_alive():
                proc.kill()


def merge_counts(counts: Any) -> dict[int, int]:
    total: dict[int, int] = {}
    for c in counts:
        for k, n in c.items():
            total[k] = total.get(k, 0) + n
    return total


def quantile(hist: dict[int, int], q: float) -> float:
    """The q-quantile in ms of a histogram of 0.1 ms buckets."""
    total = sum(hist.values())
    if not total:
        return float("nan")
    rank, seen = q * total, 0
    for bucket in sorted(hist):
        seen += hist[bucket]
        if seen >= rank:
            return bucket * 1000 / RESOLUTION
    return max(hist) * 1000 / RESOLUTION


# --- the driver ------------------------------------------------------------------------------


def rss_by_pid(procs: list[psutil.Process]) -> dict[int, float]:
    found = {}
    for p in procs:
        with contextlib.suppress(psutil.NoSuchProcess):
            found[p.pid] = float(p.memory_info().rss)
    return found


def rss_growth(before: dict[int, float], procs: list[psutil.Process]) -> float:
    """RSS growth since ``before``, over the processes alive at both times."""
    after = rss_by_pid(procs)
    return sum(after[pid] - before[pid] for pid in after.keys() & before.keys())


async def drive(
    put: Callable[[int], Awaitable[bool]], rate: float, seconds: float
) -> tuple[int, int]:
    """Call ``put`` K times a second, never more than 32 at once; (accepted, failed)."""
    start = time.monotonic()
    gate = asyncio.Semaphore(32)
    results: list[bool] = []

    async def one(i: int) -> None:
        async with gate:
            results.append(await put(i))

    tasks = []
    for i in range(int(rate * seconds)):
        await asyncio.sleep(max(0.0, start + i / rate - time.monotonic()))
        tasks.append(asyncio.create_task(one(i)))
    await asyncio.gather(*tasks)
    return sum(results), len(results) - sum(results)


@contextlib.contextmanager
def capacity_server(
    processes: int, redis_url: str, extra: dict[str, str] | None = None
) -> Iterator[tuple[str, list[psutil.Process]]]:
    env = {"CAPACITY_REDIS_URL": redis_url, "CAPACITY_WS_PING_SECONDS": "25", **(extra or {})}
    with service(workers=processes, env=env) as (url, pid):
        time.sleep(1.0)  # let the workers finish starting
        yield url, process_tree(pid)


@contextlib.contextmanager
def peer_server(processes: int, redis_url: str) -> Iterator[tuple[list[int], list[psutil.Process]]]:
    ports = [free_port() for _ in range(processes)]
    log = tempfile.TemporaryFile()
    script = str(ROOT / "bench/peers/sio_server.py")
    servers = [
        subprocess.Popen(
            [sys.executable, script, "--port", str(p), "--redis", redis_url],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        for p in ports
    ]
    try:
        for p in ports:
            for _ in range(100):
                with contextlib.suppress(httpx.HTTPError):
                    httpx.get(f"http://127.0.0.1:{p}/healthz", timeout=1)
                    break
                time.sleep(0.1)
        yield ports, [psutil.Process(s.pid) for s in servers]
    finally:
        for s in servers:
            s.terminate()
        for s in servers:
            s.wait(10)


async def region_seq(url: str, bearer: str) -> int:
    async with httpx.AsyncClient(base_url=url, timeout=30) as http:
        r = await http.get(
            f"/api/v1/regions/{REGION}/capacity", headers={"Authorization": f"Bearer {bearer}"}
        )
        r.raise_for_status()
        return int(r.json()["seq"])


def capacity_put(
    http: httpx.AsyncClient, admin: str, facilities: tuple[str, ...] = (FACILITY,)
) -> Callable[[int], Awaitable[bool]]:
    """Change i goes to facility i mod n (several: every region the same share of the rate)."""
    headers = {"Authorization": f"Bearer {admin}"}

    async def put(i: int) -> bool:
        body = {"categories": {"delivery_room": {"available": i % 9, "staffed": 9}}}
        facility = facilities[i % len(facilities)]
        try:
            r = await http.put(
                f"/api/v1/facilities/{facility}/capacity", json=body, headers=headers
            )
        except httpx.HTTPError as exc:
            print(f"  PUT failed: {exc!r}", flush=True)
            return False
        if r.status_code != 200:
            print(f"  PUT failed: {r.status_code} {r.text[:200]}", flush=True)
        return r.status_code == 200

    return put


async def measured(
    name: str,
    clients: Clients,
    procs: list[psutil.Process],
    n: int,
    put: Callable[[int], Awaitable[bool]],
    since_seq: int,
    args: argparse.Namespace,
    rss0: dict[int, float],
) -> dict[str, Any]:
    grown = rss_growth(rss0, procs)
    await clients.measure(since_seq, time.time())
    cpu0, _ = usage(procs)
    _, _, _, driver0 = await clients.report()
    t0 = time.monotonic()
    accepted, failed = await drive(put, args.rate, args.seconds)
    await asyncio.sleep(2.0)  # let the last changes arrive
    elapsed = time.monotonic() - t0 - 2.0
    cpu1, _ = usage(procs)
    delivered, minutes, closes, driver1 = await clients.report()
    hist = merge_counts(minutes.values())
    expected = n * accepted
    return {
        "server": name,
        "clients": n,
        "changes": f"{accepted} (+{failed} failed)" if failed else accepted,
        "delivered": f"{delivered}/{expected} ({100 * delivered / max(expected, 1):.1f}%)",
        "msg/s": round(delivered / elapsed),
        "p50 ms": round(quantile(hist, 0.50), 1),
        "p99 ms": round(quantile(hist, 0.99), 1),
        "max ms": round(quantile(hist, 1.0), 1),
        "server CPU": f"{100 * (cpu1 - cpu0) / elapsed:.0f}%",
        "CPU us/msg": round(1e6 * (cpu1 - cpu0) / max(delivered, 1), 1),
        "KB/client": round(grown / max(n, 1) / 1024, 1),
        "client CPU": f"{100 * (driver1 - driver0) / elapsed:.0f}%",
        "closes": closes or "-",
    }


async def run_capacity(
    processes: int, n: int, args: argparse.Namespace, redis_url: str
) -> dict[str, Any]:
    with capacity_server(processes, redis_url) as (url, procs):
        midwife, admin = token(url, "midwife"), token(url, "admin")
        port = int(url.rsplit(":", 1)[1])
        rss0 = rss_by_pid(procs)
        clients = Clients(args.workers)
        try:
            await clients.connect([(port, f"/ws/regions/{REGION}?token={midwife}")] * n)
            since = await region_seq(url, admin)
            async with httpx.AsyncClient(base_url=url, timeout=30) as http:
                return await measured(
                    f"capacity x{processes}",
                    clients,
                    procs,
                    n,
                    capacity_put(http, admin),
                    since,
                    args,
                    rss0,
                )
        finally:
            await clients.close()


async def run_peer(
    processes: int, n: int, args: argparse.Namespace, redis_url: str
) -> dict[str, Any]:
    with peer_server(processes, redis_url) as (ports, procs):
        rss0 = rss_by_pid(procs)
        clients = Clients(args.workers)
        try:
            path = f"/socket.io/?EIO=4&transport=websocket&region={REGION}"
            await clients.connect([(ports[i % processes], path) for i in range(n)], socketio=True)
            async with httpx.AsyncClient(timeout=30) as http:

                async def put(i: int) -> bool:
                    body = {
                        "type": "facility",
                        "region": REGION,
                        "seq": i + 1,
                        "facility": {"facility_id": FACILITY, "version": i + 1},
                    }
                    with contextlib.suppress(httpx.HTTPError):
                        r = await http.post(
                            f"http://127.0.0.1:{ports[i % processes]}/change/{REGION}", json=body
                        )
                        return r.status_code == 200
                    return False

                return await measured(
                    f"python-socketio x{processes}", clients, procs, n, put, 0, args, rss0
                )
        finally:
            await clients.close()


def table(rows: list[dict[str, Any]]) -> str:
    head = list(rows[0])
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(str(r[h]) for h in head) + " |" for r in rows]
    return "\n".join(lines)


async def main(args: argparse.Namespace) -> None:
    limit = raise_file_limit()
    print(f"file limit {limit}; {os.cpu_count()} CPUs; {args.workers} client processes", flush=True)
    with tempfile.TemporaryDirectory(prefix="fanout-valkey-") as data:
        valkey = EmbeddedValkey(Path(data), appendonly=False).start()
        try:
            rows = []
            for n in args.clients:
                for processes in args.processes:
                    runners = (run_capacity,) if args.no_peer else (run_capacity, run_peer)
                    for runner in runners:
                        row = await runner(processes, n, args, valkey.url)
                        print(row, flush=True)
                        rows.append(row)
            print(table(rows))
        finally:
            valkey.stop()


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    p.add_argument("--clients", type=int, nargs="+", default=[1000, 5000])
    p.add_argument("--processes", type=int, nargs="+", default=[1, 2])
    p.add_argument("--rate", type=float, default=10.0, help="changes per second")
    p.add_argument("--seconds", type=float, default=10.0)
    p.add_argument("--workers", type=int, default=2, help="client processes")
    p.add_argument("--no-peer", action="store_true", help="skip python-socketio")
    return p


if __name__ == "__main__":
    try:
        import uvloop

        uvloop.run(main(parser().parse_args()))
    except ImportError:
        asyncio.run(main(parser().parse_args()))
