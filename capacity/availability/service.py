"""The availability domain's public face: the routes, jobs and CLI import from here.

The work is split by job: ``state`` (a facility's raw state from SQL), ``pipeline`` (the steps
of every change, repairs of the Redis picture), ``commands`` (figures, stops, stale marks),
``queries`` (the regional picture, what is due), and ``writer`` (group commit of figures).
"""

from __future__ import annotations

from capacity.availability.commands import (
    MAX_STOP_DAYS,
    declare_stop,
    end_stop,
    figure_writer,
    mark_stale,
    update_capacity,
)
from capacity.availability.pipeline import rebuild_in, rebuild_region, repair_region, repairs
from capacity.availability.queries import (
    due_for_expiry,
    facility_entry,
    load_all,
    region_capacity,
)
from capacity.availability.state import facility_message, facility_raw, iso, load_raw, utcnow

__all__ = [
    "MAX_STOP_DAYS",
    "declare_stop",
    "due_for_expiry",
    "end_stop",
    "facility_entry",
    "facility_message",
    "facility_raw",
    "figure_writer",
    "iso",
    "load_all",
    "load_raw",
    "mark_stale",
    "rebuild_in",
    "rebuild_region",
    "region_capacity",
    "repair_region",
    "repairs",
    "update_capacity",
    "utcnow",
]
