"""Refusals and ROAZ statistics (issue 4 fills this router)."""

from __future__ import annotations

from fastapi import APIRouter

from capacity.api.responses import ERRORS

router = APIRouter(prefix="/api/v1", tags=["refusals"], responses=ERRORS)
