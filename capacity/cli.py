"""The ``capacity`` command line: serve, migrate, seed, accounts and API keys."""

from __future__ import annotations

import asyncio
import contextlib
import getpass
import os
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, TypeVar

import typer

from capacity import cli_checks, setup
from capacity.auth import service as auth
from capacity.auth.models import Role, UserCreate
from capacity.errors import InputError, NotFound
from capacity.i18n import messages
from capacity.observability import logs
from capacity.settings import Settings
from capacity.storage.db import Database


class Cli(typer.Typer):
    """The command; a refusal the user can mend by configuration is one line, not a traceback."""

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        try:
            return super().__call__(*args, **kwargs)
        except Exception as exc:
            found = cli_checks.report(exc)
            if found is None:
                raise
            typer.echo(found[0], err=True)
            raise SystemExit(found[1]) from None


app = Cli(help="capacity: live birth-care capacity per ROAZ region.", no_args_is_help=True)
users = typer.Typer(help="Accounts.", no_args_is_help=True)
keys = typer.Typer(help="API keys of hospitals' systems.", no_args_is_help=True)
app.add_typer(users, name="users")
audit_cli = typer.Typer(help="The audit trail (read-only).", no_args_is_help=True)
app.add_typer(keys, name="keys")
app.add_typer(audit_cli, name="audit")
facilities_cli = typer.Typer(
    help="Facilities (admin): list, add, change; the live picture follows.", no_args_is_help=True
)
app.add_typer(facilities_cli, name="facilities")
contacts_cli = typer.Typer(help="Facilities' phone numbers (admin).", no_args_is_help=True)
app.add_typer(contacts_cli, name="contacts")
wards_cli = typer.Typer(
    help="Which ward codes of a hospital's bed list count for which category.",
    no_args_is_help=True,
)
app.add_typer(wards_cli, name="wards")

T = TypeVar("T")


def _with_db(
    work: Callable[[Database], Awaitable[T]], *, seed_first: bool = True, create: bool = False
) -> T:
    """Run ``work`` on the service's database (migrated; made only when ``create``)."""
    settings = Settings()
    if not create:
        cli_checks.require_database(settings)
    setup.migrate(settings.resolved_database_url)

    async def run() -> T:
        db = Database(settings.resolved_database_url)
        try:
            if seed_first:
                await setup.seed(db=db, demo_users=False)
            return await work(db)
        finally:
            await db.dispose()

    return asyncio.run(run())


@app.command()
def migrate() -> None:
    """Bring the database schema up to date (Alembic)."""
    settings = Settings()
    setup.migrate(settings.resolved_database_url)
    typer.echo("schema up to date")


@app.command()
def seed() -> None:
    """Insert the 10 ROAZ regions and 76 facilities that are missing (idempotent)."""

    async def work(db: Database) -> Any:
        return await setup.seed(db=db, demo_users=False)

    regions, facilities, _ = _with_db(work, seed_first=False, create=True)
    typer.echo(f"seeded {regions} regions and {facilities} facilities (existing ones kept)")


def _demo_lines(regions: list[str], facilities: list[str]) -> list[str]:
    return [f"{u.username:<58} {u.role.value}" for u in auth.demo_usernames(regions, facilities)]


@app.command("demo-users")
def demo_users() -> None:
    """List the demo accounts of development mode (password of each: demo)."""
    ref = __import__("capacity.facilities.service", fromlist=["x"]).reference_data()
    lines = _demo_lines([r["id"] for r in ref["regions"]], [f["id"] for f in ref["facilities"]])
    typer.echo("Demo accounts (development mode only), password of each: demo\n")
    typer.echo("\n".join(lines))


@users.command("add")
def users_add(
    username: str,
    role: Role = typer.Option(..., help="midwife, facility_staff, analyst or admin"),
    facility: str | None = typer.Option(None, help="facility id (facility_staff)"),
    region: str | None = typer.Option(None, help="region id (analyst; omit for all regions)"),
) -> None:
    """Add an account; its password from a hidden prompt or stdin (never the command line)."""
    password = _read_password()

    async def work(db: Database) -> Any:
        async with db.write_session() as session:
            user = await auth.create_user(
                session=session,
                actor="cli",
                user_in=UserCreate(
                    username=username,
                    password=password,
                    role=role,
                    facility_id=facility,
                    region_id=region,
                ),
            )
            await session.commit()
            return user

    try:
        user = _with_db(work)
    except InputError as exc:
        typer.echo(f"error: {exc.field}: {exc.message}", err=True)
        raise typer.Exit(2) from exc
    typer.echo(f"added {user.username} ({user.role.value})")


def _read_password() -> str:
    """The new password from a hidden prompt (twice), or the first line of stdin when it is
    not a terminal (a script, a secret manager); never from the command line."""
    if not sys.stdin.isatty():
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass("New password: ")
    if getpass.getpass("Repeat it: ") != first:
        typer.echo("error: new_password: the two entries differ; nothing changed", err=True)
        raise typer.Exit(2)
    return first


@users.command("passwd")
def users_passwd(username: str) -> None:
    """Set an account's password, read from a prompt or from stdin (never an argument)."""
    password = _read_password()

    async def work(db: Database) -> Any:
        async with db.write_session() as session:
            user = await auth.reset_password(
                session=session, username=username, new=password, actor="cli"
            )
            await session.commit()
            return user

    user = _run_checked(work)
    asyncio.run(_announce_revocation())  # a running service signs the account out at once
    typer.echo(f"password of {user.username} changed; its sessions are signed out")


def _service_redis(settings: Settings) -> Any:
    """A client of the service's Redis: configured (URL or sentinels), or the embedded one it
    runs now; None when there is none."""
    from capacity.storage.redis import EmbeddedValkey, client_for

    if settings.external_redis:
        return client_for(settings)
    url = EmbeddedValkey.running_url(settings.valkey_dir)
    return None if url is None else client_for(settings, url)


async def _announce_revocation() -> None:
    """Tell running servers (through their Redis) to forget cached keys and accounts at once.

    Without a reachable Redis the servers' caches still expire within seconds
    (``capacity.auth.access.MAX_AGE_SECONDS``).
    """
    from capacity.auth.access import announce_revocation

    client = _service_redis(Settings())
    if client is None:
        return
    try:
        announced = await announce_revocation(client)  # False when Redis is down, never raises
    finally:
        await client.aclose()
    if not announced:
        typer.echo(
            "warning: Redis unreachable; running servers see the revocation within seconds",
            err=True,
        )


@facilities_cli.command("list")
def facilities_list(region: str | None = typer.Option(None, help="only this region")) -> None:
    """One line per facility: id, region, name, categories offered."""
    from capacity.facilities import service as facilities

    async def work(db: Database) -> Any:
        async with db.session() as session:
            return await facilities.list_facilities(session=session, region=region)

    for f in _with_db(work):
        typer.echo(f"{f.id}\t{f.region}\t{f.name}\t{','.join(f.categories)}")


@facilities_cli.command("add")
def facilities_add(
    body: str = typer.Argument(..., help="JSON as for POST /api/v1/facilities"),
) -> None:
    """Add a facility; it appears in its region's live picture at once."""
    from capacity.facilities import service as facilities
    from capacity.facilities.models import FacilityCreate

    facility_in = _parse(FacilityCreate, body)

    async def work(db: Database) -> Any:
        async with _live_store() as store, db.write_session() as session:
            facility = await facilities.create_facility(
                session=session, facility_in=facility_in, actor="cli"
            )
            await _rebuild(session, store, facility.region)
            await session.commit()
            return facility

    facility = _run_checked(work)
    typer.echo(f"added {facility.id} in {facility.region}: {','.join(facility.categories)}")


@facilities_cli.command("update")
def facilities_update(
    facility_id: str,
    body: str = typer.Argument(..., help="JSON as for PATCH /api/v1/facilities/{id}"),
) -> None:
    """Change a facility's name, city, ward phone, coordinates, categories offered, region
    (a move) or active (false deactivates it)."""
    from capacity.availability import membership
    from capacity.facilities.models import FacilityUpdate

    facility_in = _parse(FacilityUpdate, body)

    async def work(db: Database) -> Any:
        async with _live_store() as store, db.write_session() as session:
            facility, regions = await membership.change_facility(
                session=session, facility_id=facility_id, facility_in=facility_in, actor="cli"
            )
            for region in regions:
                await _rebuild(session, store, region)
            await session.commit()
            return facility

    facility = _run_checked(work)
    typer.echo(f"updated {facility.id}: {facility_in.model_dump_json(exclude_unset=True)}")


def _parse(model: Any, body: str) -> Any:
    """A JSON body validated as the API would; errors name the field and exit 2."""
    from pydantic import ValidationError

    try:
        return model.model_validate_json(body)
    except ValidationError as exc:
        for error in exc.errors():
            field = ".".join(str(p) for p in error["loc"]) or "body"
            typer.echo(f"error: {field}: {error['msg']}", err=True)
        raise typer.Exit(2) from exc


def _run_checked(work: Callable[[Database], Awaitable[T]]) -> T:
    from capacity.storage.redis import REDIS_DOWN

    try:
        return _with_db(work)
    except InputError as exc:
        typer.echo(f"error: {exc.field}: {exc.message}", err=True)
        raise typer.Exit(2) from exc
    except NotFound as exc:
        typer.echo(f"error: {exc.args[0]}", err=True)
        raise typer.Exit(2) from exc
    except REDIS_DOWN as exc:
        typer.echo(f"error: Redis unreachable, nothing changed ({exc})", err=True)
        raise typer.Exit(1) from exc


@contextlib.asynccontextmanager
async def _live_store() -> AsyncIterator[Any]:
    """The live picture's store: the service's Redis, or the embedded one when it is not running.

    Checked before anything is written, so an unreachable Redis changes nothing.
    """
    from capacity.availability.store import CapacityStore
    from capacity.storage.redis import EmbeddedValkey, client_for

    settings = Settings()
    embedded: EmbeddedValkey | None = None
    client = _service_redis(settings)
    if client is None:  # the service is not running: its embedded server's data, briefly
        embedded = await asyncio.to_thread(EmbeddedValkey(settings.valkey_dir).start)
        client = client_for(settings, embedded.url)
    try:
        await client.ping()
        yield CapacityStore(client, replay=settings.stream_replay)
    finally:
        await client.aclose()
        if embedded is not None:
            embedded.stop()


async def _rebuild(session: Any, store: Any, region: str) -> None:
    from capacity.availability import service as availability

    await availability.rebuild_region(
        session=session, store=store, settings=Settings(), region_id=region
    )


@contacts_cli.command("import")
def contacts_import(
    file: typer.FileBinaryRead = typer.Argument(..., help="CSV: facility_id;type;phone, UTF-8"),
) -> None:
    """Replace the numbers of every facility the file names: all rows, or none (as the API)."""
    from capacity.contacts import importer

    data = file.read()

    async def work(db: Database) -> Any:
        async with db.write_session() as session:
            result = await importer.import_csv(session=session, data=data, actor="cli")
            await session.commit()
            return result

    result = _run_checked(work)
    typer.echo(f"imported {result.contacts} numbers for {result.facilities} facilities")


@wards_cli.command("list")
def wards_list(facility_id: str) -> None:
    """One line per ward: code, category."""
    from capacity.beds import wards

    async def work(db: Database) -> Any:
        async with db.session() as session:
            return await wards.list_wards(session=session, facility_id=facility_id)

    for w in _run_checked(work):
        typer.echo(f"{w.ward}\t{w.category}")


@wards_cli.command("set")
def wards_set(
    facility_id: str,
    pairs: list[str] = typer.Argument(..., help="WARD=category, e.g. VK=delivery_room"),
) -> None:
    """Replace the facility's whole mapping with the pairs given (as PUT .../wards)."""
    import orjson

    from capacity.beds import wards
    from capacity.beds.models import WardsIn
    from capacity.facilities import service as facilities

    split = [p.split("=", 1) for p in pairs]
    body = {"wards": [{"ward": p[0], "category": p[-1]} for p in split]}
    wards_in = _parse(WardsIn, orjson.dumps(body).decode())

    async def work(db: Database) -> Any:
        async with db.write_session() as session:
            facility = await facilities.get_facility_any(session=session, facility_id=facility_id)
            if facility is None:
                raise NotFound(messages.UNKNOWN_FACILITY(facility=facility_id))
            done = await wards.replace_wards(
                session=session, facility=facility, wards_in=wards_in.wards, actor="cli"
            )
            await session.commit()
            return done

    done = _run_checked(work)
    typer.echo(f"{facility_id}: {len(done)} wards mapped")


@wards_cli.command("import")
def wards_import(
    file: typer.FileBinaryRead = typer.Argument(..., help="CSV: facility_id;ward;category"),
) -> None:
    """Replace the mapping of every facility the file names: all rows, or none."""
    from capacity.beds import wards_import as importer

    data = file.read()

    async def work(db: Database) -> Any:
        async with db.write_session() as session:
            result = await importer.import_csv(session=session, data=data, actor="cli")
            await session.commit()
            return result

    facilities_done, wards_done = _run_checked(work)
    typer.echo(f"imported {wards_done} wards for {facilities_done} facilities")


@keys.command("create")
def keys_create(
    facility: list[str] = typer.Option(
        ..., help="facility id the key may update; repeat for a hospital group's key"
    ),
    label: str | None = typer.Option(None, help="what system uses it, e.g. 'HiX production'"),
) -> None:
    """Create an API key for a facility's system (or a hospital group's: --facility a
    --facility b); the key is printed once and never again."""

    async def work(db: Database) -> Any:
        async with db.write_session() as session:
            created = await auth.create_api_key(
                session=session, facility_id=facility[0], actor="cli", label=label, group=facility
            )
            await session.commit()
            return created

    try:
        created = _with_db(work)
    except NotFound as exc:
        typer.echo(f"error: facility: {exc.args[0]}", err=True)
        raise typer.Exit(2) from exc
    except InputError as exc:
        typer.echo(f"error: {exc.field}: {exc.message}", err=True)
        raise typer.Exit(2) from exc
    typer.echo(
        f"key id {created.id} for {', '.join(created.facility_ids)} "
        "(store it now, it is not shown again):"
    )
    typer.echo(created.key)


@keys.command("rotate")
def keys_rotate(
    facility: str = typer.Option(..., help="facility id whose key is replaced"),
    key_id: int | None = typer.Option(None, help="which key, when the facility has several"),
) -> None:
    """Issue a new key for a facility's system and revoke the old one at once (printed once)."""
    from sqlmodel import col, or_, select

    from capacity.auth.models import ApiKey, ApiKeyFacility

    async def work(db: Database) -> Any:
        async with db.write_session() as session:
            grouped = select(ApiKeyFacility.api_key_id).where(
                ApiKeyFacility.facility_id == facility
            )
            query = select(ApiKey.id).where(
                or_(col(ApiKey.facility_id) == facility, col(ApiKey.id).in_(grouped))
            )
            live = list((await session.exec(query.where(ApiKey.revoked_at == None))).all())  # noqa: E711
            if key_id is None and len(live) != 1:
                raise InputError(
                    "key_id",
                    messages.KEYS_AMBIGUOUS(facility=facility, count=len(live), keys=live),
                )
            chosen: int | None = key_id if key_id is not None else live[0]
            assert chosen is not None
            if chosen not in live:
                raise NotFound(messages.NO_LIVE_KEY(key=chosen, facility=facility))
            created = await auth.rotate_api_key(session=session, key_id=chosen, actor="cli")
            await session.commit()
        await _announce_revocation()
        return chosen, created

    old, created = _run_checked(work)
    typer.echo(f"key {old} revoked; new key id {created.id} (store it now, it is not shown again):")
    typer.echo(created.key)


@audit_cli.command("export")
def audit_export(
    start: str = typer.Option(..., "--from", help="first day, YYYY-MM-DD (UTC)"),
    end: str = typer.Option(..., "--to", help="last day, YYYY-MM-DD, inclusive"),
    output: str | None = typer.Option(None, help="file to write (default: standard output)"),
) -> None:
    """Export the audit trail of a period as CSV; the export itself is audited."""
    import sys
    from datetime import date

    from capacity.audit import export
    from capacity.audit import service as audit_service

    try:
        first, last = date.fromisoformat(start), date.fromisoformat(end)
        export.period(first, last)
    except ValueError as exc:
        typer.echo(f"error: from/to: {exc}", err=True)
        raise typer.Exit(2) from exc

    async def work(db: Database) -> int:
        async with db.write_session() as session:
            audit_service.record(
                session=session,
                actor="cli",
                action="audit.export",
                entity="audit",
                detail={"from": first.isoformat(), "to": last.isoformat(), "format": "csv"},
            )
            await session.commit()
        size = 0
        async for chunk in export.csv_export(db=db, start=first, end=last):
            out.write(chunk)
            size += len(chunk)
        return size

    out: Any = open(output, "wb") if output else sys.stdout.buffer  # noqa: SIM115
    try:
        size = _with_db(work, seed_first=False)
    finally:
        if output:
            out.close()
    if output:
        typer.echo(f"wrote {size} bytes to {output}")


@keys.command("revoke")
def keys_revoke(key_id: int) -> None:
    """Revoke an API key at once."""

    async def work(db: Database) -> Any:
        async with db.write_session() as session:
            key = await auth.revoke_api_key(session=session, key_id=key_id, actor="cli")
            await session.commit()
        await _announce_revocation()
        return key

    _run_checked(work)
    typer.echo(f"key {key_id} revoked")


@app.command()
def report(
    region: str = typer.Option(..., help="region id, e.g. zuidwest"),
    month: str = typer.Option(..., help="calendar month, YYYY-MM"),
) -> None:
    """Generate (or regenerate) a region's monthly ROAZ refusal report and store it."""
    from capacity.reporting import reports

    async def work(db: Database) -> Any:
        async with db.write_session() as session:
            made = await reports.generate(
                session=session, settings=Settings(), region=region, month=month, actor="cli"
            )
            await session.commit()
            return made

    try:
        made = _with_db(work)
    except (InputError, NotFound) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc
    total = made.content["summary"]["total"]
    typer.echo(f"report {made.id}: {region} {month}, {'<5' if total is None else total} refusals")


@app.command()
def scheduler() -> None:
    """Run only the scheduled jobs (staleness, stop expiry, overdue reporters, monthly report).

    For deployments whose app instances run with CAPACITY_SCHEDULER=false. Two schedulers may
    run at once (for availability): a Redis lock per job lets only one of them run each job.
    """
    import signal

    from capacity.availability import jobs
    from capacity.availability.store import CapacityStore
    from capacity.storage.redis import client_for

    settings = Settings()
    if not settings.external_redis:
        typer.echo(
            "error: CAPACITY_REDIS_URL or CAPACITY_REDIS_SENTINELS is required (the Redis the "
            "app instances use)",
            err=True,
        )
        raise typer.Exit(2)
    cli_checks.require_database(settings)
    cli_checks.require_services(settings)
    logs.configure(json_lines=settings.resolved_log_format == "json")  # redacting; JSON in prod

    async def run() -> None:
        db = Database(settings.resolved_database_url)
        client = client_for(settings)
        store = CapacityStore(client, replay=settings.stream_replay)
        runner = jobs.scheduler(db=db, store=store, settings=settings)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        runner.start()
        typer.echo(f"capacity scheduler: jobs every {settings.expiry_interval_seconds} s")
        try:
            await stop.wait()
        finally:
            runner.shutdown(wait=False)
            await client.aclose()
            await db.dispose()

    asyncio.run(run())


@app.command()
def serve(
    workers: int = typer.Option(None, help="server processes (default CAPACITY_WORKERS or 1)"),
) -> None:
    """Migrate, seed, start the embedded Valkey when no CAPACITY_REDIS_URL (or _SENTINELS) is
    set, and serve."""
    from capacity.storage.redis import EmbeddedValkey

    settings = Settings()
    embedded = None
    if not settings.external_redis:  # refused while another process serves from this data dir
        embedded = EmbeddedValkey(settings.valkey_dir).start()
        os.environ["CAPACITY_REDIS_URL"] = embedded.url  # the workers' (not logged: password)
    try:
        _serve(settings, workers or settings.workers)
    finally:
        if embedded is not None:
            embedded.stop()


def _serve(settings: Settings, workers: int) -> None:
    import uvicorn

    cli_checks.require_services(settings)  # before any log line: a refusal is one line
    logs.configure(json_lines=settings.resolved_log_format == "json")  # redacting; JSON in prod
    setup.migrate(settings.resolved_database_url)

    async def prepare() -> None:
        from capacity.availability.store import CapacityStore
        from capacity.storage.redis import client_for

        db = Database(settings.resolved_database_url)
        client = client_for(settings, os.environ.get("CAPACITY_REDIS_URL"))
        store = CapacityStore(client, replay=settings.stream_replay)
        try:
            await setup.prepare(db=db, store=store, settings=settings)
        finally:
            await client.aclose()
            await db.dispose()

    asyncio.run(prepare())
    os.environ["CAPACITY_AUTO_SETUP"] = "false"
    url = f"http://{settings.host}:{settings.port}"
    typer.echo(f"\n  capacity {settings.mode.value} on {url}  (API docs: {url}/docs)")
    if settings.development:
        typer.echo(
            "  demo accounts, password 'demo': midwife, admin, analyst, analyst-<region>, "
            "staff-<facility>\n"
            "  (all of them: `capacity demo-users`), e.g. staff-erasmus-mc-rotterdam\n"
        )
    uvicorn.run(
        "capacity.main:create_app",
        factory=True,
        host=settings.host,
        port=settings.port,
        workers=workers,
        log_level="info",
        proxy_headers=True,
        ws_per_message_deflate=False,
        ws="capacity.realtime.transport:FrameWebSocketProtocol",  # pre-built frames
        # A worker answers the supervisor's ping while it imports the app; on a busy machine
        # that took longer than uvicorn's 5 s and the workers were killed in a loop.
        timeout_worker_healthcheck=60,
    )


if __name__ == "__main__":  # pragma: no cover
    app()
