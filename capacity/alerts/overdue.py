"""Overdue reporters: an episode per facility with no fresh figure, a reminder once per episode.

The reminder goes to the subscriptions of rule ``overdue`` for the facility: its staff (or
anyone who may read its region) subscribe by e-mail, webhook or in the app. Facilities' contact
rows hold phone numbers only, so they are not used for reminders.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from capacity.alerts import service
from capacity.alerts.models import AlertRule, OverdueEpisode
from capacity.facilities.models import Facility
from capacity.i18n import messages
from capacity.storage.db import Database


async def record_episodes(
    *, db: Database, overdue: dict[str, list[str]], since: dict[str, datetime]
) -> list[OverdueEpisode]:
    """Open an episode for each newly overdue facility, end those that reported again, and
    remind the new ones' subscribers; returns the episodes opened."""
    current = {fid: region for region, ids in overdue.items() for fid in ids}
    opened: list[OverdueEpisode] = []
    async with db.unit_of_work() as uow:
        existing = {e.facility_id: e for e in (await uow.session.exec(select(OverdueEpisode)))}
        for fid, episode in existing.items():
            if fid not in current:
                await uow.session.delete(episode)
            elif episode.region != current[fid]:
                episode.region = current[fid]
                uow.session.add(episode)
        for fid, region in current.items():
            if fid not in existing:
                episode = OverdueEpisode(facility_id=fid, region=region, since=since[fid])
                uow.session.add(episode)
                opened.append(episode)
        names = dict((await uow.session.exec(select(Facility.id, Facility.name))).all())
    for episode in opened:
        text = messages.ALERT_OVERDUE(
            facility=names.get(episode.facility_id, episode.facility_id),
            since=episode.since.strftime("%Y-%m-%d %H:%M UTC"),
        )
        payload = {
            "region": episode.region,
            "facility_id": episode.facility_id,
            "since": episode.since.isoformat(),
            "text": {"en": str(text), "nl": text.nl},
        }
        await service.fire_event(
            db=db,
            rule=AlertRule.overdue,
            event_key=f"overdue:{episode.facility_id}:{episode.since.isoformat()}",
            payload=payload,
            facility_id=episode.facility_id,
        )
    return opened


async def list_overdue(*, session: AsyncSession, region: str) -> list[OverdueEpisode]:
    """The region's overdue facilities, longest overdue first."""
    query = select(OverdueEpisode).where(OverdueEpisode.region == region)
    return sorted((await session.exec(query)).all(), key=lambda e: (e.since, e.facility_id))
