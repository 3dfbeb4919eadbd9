"""Scheduled reporting jobs (the monthly ROAZ report)."""

from __future__ import annotations

from typing import Any


def schedule(scheduler: Any, **deps: Any) -> None:
    """Add the reporting jobs to the process's scheduler (none yet)."""
