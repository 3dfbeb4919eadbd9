"""Bringing a database up to date: migrations, reference data, demo accounts and demo figures."""

from __future__ import annotations

import logging
import random
from pathlib import Path

from alembic import command
from alembic.config import Config

from capacity.auth.service import ensure_demo_users
from capacity.availability.models import CapacityUpdate, FigureIn
from capacity.availability.service import load_all, update_capacity
from capacity.availability.store import CapacityStore
from capacity.contacts import service as contacts
from capacity.facilities import service as facilities
from capacity.facilities.models import Category
from capacity.settings import Settings
from capacity.storage.db import Database

log = logging.getLogger(__name__)
MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def migrate(url: str) -> None:
    """Upgrade the schema to the newest migration (blocking; run it in a thread from async code)."""
    if url.startswith("sqlite"):
        Path(url.split("///", 1)[1]).parent.mkdir(parents=True, exist_ok=True)
    command.upgrade(alembic_config(url), "head")


async def seed(*, db: Database, demo_users: bool) -> tuple[int, int, int]:
    """Reference regions and facilities, and in development the demo accounts and numbers."""
    async with db.write_session() as session:
        regions, facs = await facilities.seed(session=session)
        users = await ensure_demo_users(session=session) if demo_users else 0
        if demo_users:  # made-up numbers, marked demo; a real deployment starts without any
            await contacts.seed_demo(session=session)
        await session.commit()
    return regions, facs, users


async def prepare(*, db: Database, store: CapacityStore, settings: Settings) -> None:
    """Seed, build the live picture from SQL, and in development add demo figures."""
    await seed(db=db, demo_users=settings.development)
    await load_all(db=db, store=store, settings=settings)
    if settings.development and settings.demo_data:
        await demo_figures(db=db, store=store, settings=settings)


async def demo_figures(*, db: Database, store: CapacityStore, settings: Settings) -> int:
    """Plausible figures for every facility that never reported (development demo data)."""
    from sqlmodel import select

    from capacity.availability.models import CapacityFigure

    async with db.session() as session:
        reported = set((await session.exec(select(CapacityFigure.facility_id))).all())
        todo = [
            f for f in await facilities.list_facilities(session=session) if f.id not in reported
        ]
    rng = random.Random(2024)
    for facility in todo:
        figures = {}
        for category in facility.categories:
            staffed = {"delivery_room": 8, "maternity_bed": 20, "nicu": 16}.get(category, 6)
            staffed = rng.randint(staffed // 2, staffed)
            available = rng.choice([0, 0, 1, 1, 2, 3, rng.randint(0, staffed)])
            figures[Category(category)] = FigureIn(
                available=min(available, staffed), staffed=staffed
            )
        await update_capacity(
            db=db,
            store=store,
            settings=settings,
            facility_id=facility.id,
            update_in=CapacityUpdate(categories=figures),
            actor="system:demo",
        )
    return len(todo)
