"""The peer of the fan-out benchmark: python-socketio with its Redis manager, on aiohttp.

``POST /change/{region}`` (body: the JSON message) stands for the public PUT: the handler emits
the message to the region's room through the Redis manager, so every process's clients get it.
Clients connect with ``?region=...`` and join that room.

    python bench/peers/sio_server.py --port 9001 --redis redis://127.0.0.1:6379/0
"""

from __future__ import annotations

import argparse
from datetime import UTC, datetime

import orjson
import socketio
from aiohttp import web


def make_app(redis_url: str) -> web.Application:
    manager = socketio.AsyncRedisManager(redis_url)
    sio = socketio.AsyncServer(
        async_mode="aiohttp", client_manager=manager, cors_allowed_origins=[]
    )
    app = web.Application()
    sio.attach(app)

    @sio.event
    async def connect(sid: str, environ: dict, auth: object = None) -> None:  # type: ignore[type-arg]
        region = environ.get("aiohttp.request").query.get("region", "zuidwest")  # type: ignore[union-attr]
        await sio.enter_room(sid, region)

    async def change(request: web.Request) -> web.Response:
        message = orjson.loads(await request.read())
        # Stamped on acceptance, before ``facility``, as capacity's own messages are.
        message = {**message, "at": datetime.now(UTC).isoformat()}
        message["facility"] = message.pop("facility")
        await sio.emit("facility", message, room=request.match_info["region"])
        return web.Response(text="ok")

    async def healthz(request: web.Request) -> web.Response:
        return web.Response(text="ok")

    app.router.add_post("/change/{region}", change)
    app.router.add_get("/healthz", healthz)
    return app


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--redis", required=True)
    args = parser.parse_args()
    web.run_app(make_app(args.redis), host="127.0.0.1", port=args.port, print=None)


if __name__ == "__main__":
    main()
