"""The interactive API docs at ``/docs``: Swagger UI from the installed package, no CDN.

A hospital network may have no internet, and the service's policy allows nothing from elsewhere,
so Swagger UI's files come from the ``swagger-ui-bundle-v2`` package (Swagger UI 5, which reads
the OpenAPI 3.1 FastAPI writes) at ``/docs/assets``. The page is FastAPI's own; its one inline
script (the call that starts Swagger UI) is allowed by its hash, computed here from the page as
built, so the policy cannot go stale when FastAPI changes that script. ReDoc is not served: it
needs inline styles and a blob: worker, which the strict policy refuses.
"""

from __future__ import annotations

import base64
import hashlib
import re
from pathlib import Path

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse
from swagger_ui_bundle import swagger_ui_path

from capacity.api.security import docs_policy
from capacity.errors import NotFound
from capacity.i18n import messages
from capacity.realtime import asyncapi

PATH = "/docs"
ASSETS = "/docs/assets"
ASSET_FILES = {
    "swagger-ui-bundle.js": "text/javascript",
    "swagger-ui.css": "text/css",
    "favicon-32x32.png": "image/png",
}
ASSET_HEADERS = {"Cache-Control": "public, max-age=86400"}
INLINE_SCRIPT = re.compile(rb"<script>(.*?)</script>", re.DOTALL)


def _sha256(source: bytes) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(source).digest()).decode() + "'"


def install(app: FastAPI) -> None:
    """``/docs``, its assets and ``/asyncapi.json``; the app must be created with
    ``docs_url=redoc_url=None``."""
    assert app.openapi_url is not None
    page = get_swagger_ui_html(
        openapi_url=app.openapi_url,
        title=f"{app.title} - API docs",
        swagger_js_url=f"{ASSETS}/swagger-ui-bundle.js",
        swagger_css_url=f"{ASSETS}/swagger-ui.css",
        swagger_favicon_url=f"{ASSETS}/favicon-32x32.png",
        oauth2_redirect_url=None,  # sign-in is the password flow: no redirect page needed
        swagger_ui_parameters=app.swagger_ui_parameters,
    ).body
    scripts = [_sha256(source) for source in INLINE_SCRIPT.findall(page)]
    headers = {"Content-Security-Policy": docs_policy(scripts)}

    @app.get(PATH, include_in_schema=False)
    async def docs() -> HTMLResponse:
        return HTMLResponse(page, headers=headers)

    streams = asyncapi.document()

    # The websocket streams, which OpenAPI cannot describe; /docs' description links it.
    @app.get(asyncapi.PATH, include_in_schema=False)
    async def asyncapi_document() -> JSONResponse:
        return JSONResponse(streams)

    folder = Path(swagger_ui_path)

    # Only the three files the page loads: the package also holds an index.html pointing at
    # the petstore, an OAuth2 redirect page and more, none of which this service offers.
    @app.get(ASSETS + "/{name}", include_in_schema=False)
    async def asset(name: str) -> FileResponse:
        media_type = ASSET_FILES.get(name)
        if media_type is None:
            raise NotFound(messages.NO_DOCS_ASSET(name=name[:80]))
        return FileResponse(folder / name, media_type=media_type, headers=ASSET_HEADERS)
