"""Ingest benchmark: N concurrent writers PUT figures for random facilities for a fixed time.

Each writer acts as a hospital system with its facility's API key, on its own keep-alive
HTTP/1.1 connection. Prints accepted updates/s, p50/p99/max latency, errors, and the CPU time
the server and this load generator spent per accepted update (the generator shares the cores,
so it is a raw asyncio client: aiohttp cost as much CPU per request as the server). Starts its
own service unless --url is given.

    .venv/bin/python -m bench.ingest --writers 16 32 --seconds 8
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import resource
import time
import uuid
from urllib.parse import urlsplit

import httpx

from bench._service import percentile, process_tree, service, token, usage

Keys = dict[str, tuple[str, list[str]]]


def make_keys(url: str) -> Keys:
    """One API key per facility, created by the demo admin: facility -> (key, categories)."""
    admin = {"Authorization": f"Bearer {token(url, 'admin')}"}
    facilities = httpx.get(f"{url}/api/v1/facilities", headers=admin, timeout=10).json()
    keys = {}
    for facility in facilities:
        response = httpx.post(
            f"{url}/api/v1/facilities/{facility['id']}/keys", headers=admin, json={}, timeout=10
        )
        response.raise_for_status()
        keys[facility["id"]] = (response.json()["key"], facility["categories"])
    return keys


def cpu_seconds(pid: int | None) -> float:
    """User + system CPU of the server and its children (workers, embedded Valkey)."""
    return usage(process_tree(pid, valkey=True))[0] if pid is not None else float("nan")


def own_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


class Connection:
    """A minimal HTTP/1.1 keep-alive client: PUT with a JSON body, read status and body."""

    def __init__(self, host: str, port: int):
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def put(self, path: str, body: bytes, key: str, extra: str = "") -> int:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        assert self.reader is not None
        self.writer.write(
            f"PUT {path} HTTP/1.1\r\nHost: {self.host}\r\nX-API-Key: {key}\r\n{extra}"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n".encode()
            + body
        )
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head[9:12])
        length = 0
        close = False
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            name = name.strip().lower()
            if name == b"content-length":
                length = int(value)
            elif name == b"connection" and value.strip().lower() == b"close":
                close = True
        await self.reader.readexactly(length)
        if close:
            self.close()
        return status

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


async def writer(
    url: str,
    keys: Keys,
    stop_at: float,
    latencies: list[float],
    errors: dict[str, int],
    seed: int,
    idempotent: bool = False,
) -> None:
    rng = random.Random(seed)
    ids = list(keys)
    parts = urlsplit(url)
    conn = Connection(parts.hostname or "127.0.0.1", parts.port or 80)
    try:
        while time.monotonic() < stop_at:
            facility = rng.choice(ids)
            key, categories = keys[facility]
            chosen = rng.sample(categories, k=rng.randint(1, min(2, len(categories))))
            body: dict[str, dict[str, dict[str, int]]] = {"categories": {}}
            for category in chosen:
                staffed = rng.randint(2, 20)
                body["categories"][category] = {
                    "available": rng.randint(0, staffed),
                    "staffed": staffed,
                }
            # A fresh key per push, as a system that retries only on a lost answer would send.
            extra = f"Idempotency-Key: {uuid.uuid4()}\r\n" if idempotent else ""
            started = time.monotonic()
            try:
                status = await conn.put(
                    f"/api/v1/facilities/{facility}/capacity", json.dumps(body).encode(), key, extra
                )
            except (OSError, asyncio.IncompleteReadError, ValueError) as exc:
                errors[type(exc).__name__] = errors.get(type(exc).__name__, 0) + 1
                conn.close()
                continue
            if status == 200:
                latencies.append(time.monotonic() - started)
            else:
                errors[str(status)] = errors.get(str(status), 0) + 1
    finally:
        conn.close()


async def drive(
    url: str,
    keys: Keys,
    writers: int,
    seconds: float,
    server_pid: int | None = None,
    idempotent: bool = False,
) -> dict[str, object]:
    latencies: list[float] = []
    errors: dict[str, int] = {}
    server_cpu, own_cpu = cpu_seconds(server_pid), own_cpu_seconds()
    stop_at = time.monotonic() + seconds
    await asyncio.gather(
        *(
            writer(url, keys, stop_at, latencies, errors, seed, idempotent)
            for seed in range(writers)
        )
    )
    server_cpu, own_cpu = cpu_seconds(server_pid) - server_cpu, own_cpu_seconds() - own_cpu
    accepted = max(len(latencies), 1)
    return {
        "writers": writers,
        "idempotency_key": idempotent,
        "seconds": seconds,
        "accepted_per_s": round(len(latencies) / seconds, 1),
        "p50_ms": round(percentile(latencies, 0.50) * 1000, 2),
        "p99_ms": round(percentile(latencies, 0.99) * 1000, 2),
        "max_ms": round(max(latencies, default=float("nan")) * 1000, 2),
        "errors": errors,
        "server_cpu_ms_per_update": round(server_cpu * 1000 / accepted, 3),
        "client_cpu_ms_per_update": round(own_cpu * 1000 / accepted, 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", help="a running service (default: start one)")
    parser.add_argument("--writers", type=int, nargs="+", default=[8, 16, 32])
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--warmup", type=float, default=2)
    parser.add_argument("--workers", type=int, default=1, help="server processes when starting one")
    parser.add_argument("--database-url", help="CAPACITY_DATABASE_URL for the started service")
    parser.add_argument(
        "--idempotency",
        choices=["off", "on", "both"],
        default="off",
        help="send a fresh Idempotency-Key with every push; both: alternate rounds without/with",
    )
    args = parser.parse_args()
    modes = {"off": [False], "on": [True], "both": [False, True]}[args.idempotency]

    def run(url: str, pid: int | None) -> None:
        keys = make_keys(url)
        asyncio.run(drive(url, keys, max(args.writers), args.warmup))
        for n in args.writers:
            for idempotent in modes:
                result = asyncio.run(drive(url, keys, n, args.seconds, pid, idempotent))
                print(json.dumps(result), flush=True)

    if args.url:
        run(args.url, None)
        return
    env = {"CAPACITY_DATABASE_URL": args.database_url} if args.database_url else {}
    with service(workers=args.workers, env=env) as (url, pid):
        run(url, pid)


if __name__ == "__main__":
    main()
