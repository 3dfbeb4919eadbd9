"""The websocket endpoint of the live stream (issue 3 fills this router)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["live"])
