"""Transfer requests to ward screens: request sent -> offer on every ward's screen.

Starts the service (`capacity serve --workers P`, its embedded Valkey, SQLite in a temporary
directory, or a fresh database on the PostgreSQL server of ``--pg``), connects S ward staff
screens to ``/ws/offers`` for each of W wards (in a separate client process, so that the
midwives' HTTP load does not delay the screens' clocks), then fires N transfer requests at once
(``POST /api/v1/transfers`` as ``midwife``, each to K wards, spread evenly) for R rounds. For
every request, ward and screen it measures the time from the request being sent to the offer
arriving on the screen (one machine, ``time.monotonic``), and prints p50/p95/p99/max per
server configuration, with the requests' own response times. Loopback only; everything it
starts is stopped at the end.

    .venv/bin/python -m bench.transfers --processes 1 2 --rounds 3
    .venv/bin/python -m bench.transfers --pg postgresql+psycopg://postgres@127.0.0.1:55432/postgres
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import multiprocessing as mp
import os
import statistics
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import orjson
import websockets

from bench._service import percentile, process_tree, service, token, usage

CATEGORY = "delivery_room"
ORIGIN = {"lat": 51.92, "lon": 4.48}  # Rotterdam; the wards asked may be anywhere


# ---- the ward screens (a child process) ---------------------------------------------------


async def _screen(url: str, ward: str, bearer: str, arrivals: list[tuple[int, str, float]]) -> None:
    async with websockets.connect(
        f"{url}/ws/offers?token={bearer}", compression=None, open_timeout=60, max_size=None
    ) as ws:
        arrivals.append((-1, ward, time.monotonic()))  # the snapshot: connected
        await ws.recv()
        async for raw in ws:
            now = time.monotonic()
            message = orjson.loads(raw)
            if message["type"] == "offer" and message["offer"]["status"] == "pending":
                arrivals.append((message["offer"]["request_id"], ward, now))


async def _screens_main(pipe: Any, url: str, screens: list[tuple[str, str]]) -> None:
    arrivals: list[tuple[int, str, float]] = []
    tasks = [asyncio.create_task(_screen(url, w, b, arrivals)) for w, b in screens]
    while sum(1 for r, _, _ in arrivals if r == -1) < len(screens):
        if any(t.done() for t in tasks):
            pipe.send(("error", repr([t.exception() for t in tasks if t.done()][:3])))
            return
        await asyncio.sleep(0.05)
    pipe.send(("ready", len(screens)))
    loop = asyncio.get_running_loop()
    while True:
        command = await loop.run_in_executor(None, pipe.recv)
        if command == "report":
            ended = [repr(t.exception() or "closed") for t in tasks if t.done()]
            pipe.send(("arrivals", [a for a in arrivals if a[0] != -1], ended))
            arrivals[:] = [a for a in arrivals if a[0] == -1]
        else:
            break
    for t in tasks:
        t.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


def screens_main(pipe: Any, url: str, screens: list[tuple[str, str]]) -> None:
    asyncio.run(_screens_main(pipe, url, screens))


# ---- the midwives -------------------------------------------------------------------------


async def burst(
    url: str, bearer: str, wards: list[str], requests: int, per_request: int, client: str = "raw"
) -> tuple[dict[int, float], list[float], list[str]]:
    """N requests at once, each on its own connection opened (and used once) before the gate;
    (sent time per request id, response times in ms, errors). ``client``: ``raw`` writes the
    HTTP/1.1 bytes on asyncio streams, ``httpx`` uses httpx.AsyncClient, whose own CPU (on the
    same two cores as the service) delays the service it measures."""
    bodies = [
        {
            "category": CATEGORY,
            "request_type": "medical",
            "ga_band": ">=37",
            "urgency": "sub_acute",
            "facilities": [wards[(i * per_request + k) % len(wards)] for k in range(per_request)],
            **ORIGIN,
        }
        for i in range(requests)
    ]
    if client == "httpx":
        return await _httpx_burst(url, bearer, bodies)
    return await _raw_burst(url, bearer, bodies)


async def _exchange(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, data: bytes
) -> tuple[int, bytes]:
    """One HTTP/1.1 request and its answer (status, body; the service sends Content-Length)."""
    writer.write(data)
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    length = next(
        (int(h.split(":", 1)[1]) for h in lines if h.lower().startswith("content-length:")), 0
    )
    return int(lines[0].split(" ")[1]), await reader.readexactly(length)


async def _raw_burst(
    url: str, bearer: str, bodies: list[dict[str, Any]]
) -> tuple[dict[int, float], list[float], list[str]]:
    host, port = url.removeprefix("http://").split(":")
    auth = f"Authorization: Bearer {bearer}\r\n"
    conns = await asyncio.gather(*(asyncio.open_connection(host, int(port)) for _ in bodies))
    # a cheap request on each first: the service has accepted every connection before the gate
    ping = f"GET /healthz HTTP/1.1\r\nHost: {host}\r\n\r\n".encode()
    await asyncio.gather(*(_exchange(r, w, ping) for r, w in conns))
    posts = []
    for body in bodies:
        raw = orjson.dumps(body)
        posts.append(
            f"POST /api/v1/transfers HTTP/1.1\r\nHost: {host}\r\n{auth}"
            f"Content-Type: application/json\r\nContent-Length: {len(raw)}\r\n\r\n".encode()
            + raw
        )
    gate = asyncio.Event()

    async def one(i: int) -> tuple[int | None, float, float, str | None]:
        reader, writer = conns[i]
        await gate.wait()
        sent = time.monotonic()
        try:
            status, answer = await _exchange(reader, writer, posts[i])
        except (OSError, asyncio.IncompleteReadError) as exc:
            return None, sent, time.monotonic() - sent, repr(exc)
        finally:
            writer.close()
        took = time.monotonic() - sent
        if status != 201:
            return None, sent, took, f"{status} {answer[:200]!r}"
        return int(orjson.loads(answer)["id"]), sent, took, None

    return await _gated(gate, [one(i) for i in range(len(bodies))])


async def _httpx_burst(
    url: str, bearer: str, bodies: list[dict[str, Any]]
) -> tuple[dict[int, float], list[float], list[str]]:
    auth = {"Authorization": f"Bearer {bearer}"}
    n = len(bodies)
    limits = httpx.Limits(max_connections=n, max_keepalive_connections=n)
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=60) as http:
        await asyncio.gather(*(http.get("/healthz") for _ in range(n)))
        gate = asyncio.Event()

        async def one(i: int) -> tuple[int | None, float, float, str | None]:
            await gate.wait()
            sent = time.monotonic()
            try:
                r = await http.post("/api/v1/transfers", json=bodies[i], headers=auth)
            except httpx.HTTPError as exc:
                return None, sent, time.monotonic() - sent, repr(exc)
            took = time.monotonic() - sent
            if r.status_code != 201:
                return None, sent, took, f"{r.status_code} {r.text[:200]}"
            return int(r.json()["id"]), sent, took, None

        return await _gated(gate, [one(i) for i in range(n)])


async def _gated(
    gate: asyncio.Event, calls: list[Any]
) -> tuple[dict[int, float], list[float], list[str]]:
    tasks = [asyncio.create_task(c) for c in calls]
    await asyncio.sleep(0.2)  # every task waiting at the gate
    gate.set()
    done = await asyncio.gather(*tasks)
    sent_at = {rid: sent for rid, sent, _, err in done if rid is not None}
    return sent_at, [took * 1000 for *_, took, _ in done], [e for *_, e in done if e]


def summary(values: list[float]) -> dict[str, float]:
    return {
        "p50": percentile(values, 0.50),
        "p95": percentile(values, 0.95),
        "p99": percentile(values, 0.99),
        "max": max(values) if values else float("nan"),
    }


async def run_config(
    args: argparse.Namespace, code: str, processes: int, env: dict[str, str]
) -> list[dict[str, Any]]:
    """One server configuration: start it, connect the screens, fire the rounds."""
    with service(workers=processes, env=env) as (url, pid):
        admin, midwife = token(url, "admin"), token(url, "midwife")
        async with httpx.AsyncClient(base_url=url, timeout=30) as http:
            auth = {"Authorization": f"Bearer {admin}"}
            listed = (await http.get("/api/v1/facilities", headers=auth)).json()
        wards = sorted(f["id"] for f in listed if CATEGORY in f["categories"])[: args.wards]
        assert len(wards) == args.wards, f"only {len(wards)} wards offer {CATEGORY}"
        staff = {w: token(url, f"staff-{w}") for w in wards}
        screens = [(w, staff[w]) for w in wards for _ in range(args.screens)]
        parent, child = mp.Pipe()
        proc = mp.get_context("fork").Process(
            target=screens_main, args=(child, url.replace("http", "ws"), screens), daemon=True
        )
        proc.start()
        try:
            kind, detail = parent.recv()
            if kind != "ready":
                raise RuntimeError(f"screens did not connect: {detail}")
            # warm-up: every code path once
            await burst(url, midwife, wards, args.requests, args.per_request, args.client)
            await asyncio.sleep(1.0)
            parent.send("report")
            if ended := parent.recv()[2]:
                raise RuntimeError(f"{len(ended)} screens closed in the warm-up: {ended[:2]}")
            rows = []
            for n in range(1, args.rounds + 1):
                row = await measure(args, url, pid, parent, midwife, wards)
                rows.append({"code": code, "processes": processes, "round": n, **row})
                print(row_text(rows[-1]), flush=True)
            return rows
        finally:
            with contextlib.suppress(Exception):
                parent.send("stop")
            proc.join(10)
            if proc.is_alive():
                proc.kill()


async def measure(
    args: argparse.Namespace, url: str, pid: int, screens: Any, midwife: str, wards: list[str]
) -> dict[str, Any]:
    """One burst, and the offers it put on the screens."""
    server = process_tree(pid)
    cpu0, _ = usage(server)
    client0 = time.process_time()  # the midwives' side (this process; the screens have theirs)
    sent_at, took, errors = await burst(
        url, midwife, wards, args.requests, args.per_request, args.client
    )
    client_cpu = time.process_time() - client0
    expected = len(sent_at) * args.per_request * args.screens
    arrivals: list[tuple[int, str, float]] = []
    deadline = time.monotonic() + 30
    while len(arrivals) < expected and time.monotonic() < deadline:
        await asyncio.sleep(0.5)
        screens.send("report")
        _, got, ended = screens.recv()
        arrivals += [a for a in got if a[0] in sent_at]
        if ended:
            errors.append(f"{len(ended)} screens closed: {ended[:2]}")
    cpu1, _ = usage(server)
    latency = [(t - sent_at[rid]) * 1000 for rid, _, t in arrivals]
    return {
        "requests": len(sent_at),
        "delivered": f"{len(arrivals)}/{expected}",
        "offer": summary(latency),
        "response": summary(took),
        "server_cpu_ms": (cpu1 - cpu0) * 1000 / max(1, len(sent_at)),
        "client_cpu_ms": client_cpu * 1000 / max(1, len(sent_at)),
        "errors": errors[:3],
    }


def row_text(row: dict[str, Any]) -> str:
    o, r = row["offer"], row["response"]
    errors = f" errors: {row['errors']}" if row["errors"] else ""
    return (
        f"| {row['code']} | {row['processes']} | {row['round']} | {row['requests']} | "
        f"{row['delivered']} | "
        f"{o['p50']:.1f} | {o['p95']:.1f} | {o['p99']:.1f} | {o['max']:.1f} | "
        f"{r['p50']:.1f} | {r['p99']:.1f} | {row['server_cpu_ms']:.1f} | "
        f"{row['client_cpu_ms']:.1f} |{errors}"
    )


HEADER = (
    "| code | processes | round | requests | offers delivered | offer p50 ms | p95 | p99 | max | "
    "response p50 ms | response p99 | server CPU ms/request | client CPU ms/request |\n|"
    + "---|"
    * 13
)


@contextlib.contextmanager
def database(pg: str | None) -> Iterator[dict[str, str]]:
    """The service's database: SQLite in its data dir, or a fresh one on ``pg``, dropped after."""
    if not pg:
        yield {}
        return
    from sqlalchemy import create_engine, text

    name = f"xferbench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(pg.replace("+asyncpg", "+psycopg"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield {"CAPACITY_DATABASE_URL": pg.rsplit("/", 1)[0] + "/" + name}
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


async def main(args: argparse.Namespace) -> None:
    print(
        f"{args.wards} wards x {args.screens} screens on /ws/offers; {args.requests} requests "
        f"at once, each to {args.per_request} wards; {args.rounds} rounds after a warm-up; "
        f"{'PostgreSQL' if args.pg else 'SQLite'}; load average {os.getloadavg()[0]:.1f}"
    )
    print(HEADER, flush=True)
    codes: dict[str, dict[str, str]] = {"now": {}}
    if args.before:
        codes = {"before": {"PYTHONPATH": str(args.before.resolve())}, "now": {}}
    rows: list[dict[str, Any]] = []
    for processes in args.processes:
        for code, code_env in codes.items():
            with database(args.pg) as env:
                config_env = {**env, **code_env, **dict(args.env)}
                rows += await run_config(args, code, processes, config_env)
    print("\nper configuration, the median of its rounds' figures:")
    for processes in args.processes:
        for code in codes:
            mine = [r for r in rows if (r["code"], r["processes"]) == (code, processes)]
            med = {
                k: statistics.median(r["offer"][k] for r in mine)
                for k in ("p50", "p95", "p99", "max")
            }
            print(
                f"  {code}, {processes} process(es): offer p50 {med['p50']:.1f} ms, "
                f"p95 {med['p95']:.1f}, p99 {med['p99']:.1f}, max {med['max']:.1f}"
            )


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--wards", type=int, default=20)
    p.add_argument("--screens", type=int, default=5, help="staff screens per ward")
    p.add_argument("--requests", type=int, default=100, help="requests fired at once")
    p.add_argument("--per-request", type=int, default=5, help="wards asked per request")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--processes", type=int, nargs="+", default=[1, 2])
    p.add_argument(
        "--before",
        type=Path,
        help="a source tree of the code before (git archive), served with PYTHONPATH, "
        "each configuration alternating with the code now",
    )
    p.add_argument(
        "--client",
        choices=("raw", "httpx"),
        default="raw",
        help="the midwives' HTTP client: raw HTTP/1.1 bytes (light) or httpx (heavy: its CPU "
        "competes with the service on the same cores)",
    )
    p.add_argument("--pg", help="a PostgreSQL server URL (a fresh database is made on it)")
    p.add_argument(
        "--env",
        type=lambda s: tuple(s.split("=", 1)),
        action="append",
        default=[],
        help="KEY=VALUE for the service, e.g. CAPACITY_WS_QUEUE_LIMIT=100",
    )
    return p


if __name__ == "__main__":
    asyncio.run(main(parser().parse_args()))
