"""What the security tests share: the app's endpoints, read from its routes."""

from __future__ import annotations

import re

from fastapi import FastAPI


def app_endpoints(app: FastAPI) -> set[tuple[str, str]]:
    """(method, path) of every HTTP route and ("WS", path) of every websocket route."""
    found: set[tuple[str, str]] = set()
    for route in app.routes:
        # FastAPI >= 0.16x keeps included routers as one entry that expands into routes.
        expand = getattr(route, "effective_route_contexts", None)
        for each in expand() if expand else [route]:
            original = getattr(each, "original_route", each)
            path = getattr(each, "path", "") or getattr(original, "path", "")
            path = re.sub(r"\{(\w+):\w+\}", r"{\1}", path)  # as documented: {id}, not {id:int}
            methods = getattr(each, "methods", None) or getattr(original, "methods", None)
            if type(original).__name__ == "Mount":
                continue  # the frontend and the API's 404/405 answers (public)
            if methods:
                found |= {(m, path) for m in methods if m != "HEAD"}
            else:
                found.add(("WS", path))
    return found
