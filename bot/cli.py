"""The ``integridad-bot`` console command (Typer). Messages come from ``content/cli.yaml``."""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
import yaml
from pydantic import ValidationError

from bot.settings import DEFAULT_CONTENT_DIR, Settings

if TYPE_CHECKING:
    from bot.content import Content
    from bot.db import Database

app = typer.Typer(add_completion=False, no_args_is_help=True, help="Integridad Bot")
db_app = typer.Typer(no_args_is_help=True, help="Database")
content_app = typer.Typer(no_args_is_help=True, help="Content in content/")
entities_app = typer.Typer(no_args_is_help=True, help="Entity catalogue")
officers_app = typer.Typer(no_args_is_help=True, help="Officers directory")
faq_app = typer.Typer(no_args_is_help=True, help="FAQ answering")
export_app = typer.Typer(no_args_is_help=True, help="Spreadsheet exports")  # issue 4
app.add_typer(db_app, name="db")
app.add_typer(content_app, name="content")
app.add_typer(entities_app, name="entities")
app.add_typer(officers_app, name="officers")
app.add_typer(faq_app, name="faq")
app.add_typer(export_app, name="export")
# --- schedule (issue 5: the plan as data) ---
schedule_app = typer.Typer(no_args_is_help=True, help="Sessions from the yearly plan")
app.add_typer(schedule_app, name="schedule")

EXIT_USAGE = 2


def _messages() -> dict[str, str]:
    path = DEFAULT_CONTENT_DIR / "cli.yaml"
    with path.open(encoding="utf-8") as fh:
        return yaml.safe_load(fh) or {}


def say(key: str, *, err: bool = False, **values: Any) -> None:
    text = _messages()[key].format(**values)
    typer.echo(text, err=err)


def load_settings() -> Settings:
    try:
        return Settings()
    except ValidationError as exc:
        first = exc.errors()[0]
        name = ".".join(str(p) for p in first["loc"]).upper()
        say("bad_setting", err=True, name=name, reason=first["msg"])
        raise typer.Exit(EXIT_USAGE) from None


def _logging(settings: Settings) -> None:
    logging.basicConfig(
        level=settings.log_level.upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    logging.getLogger("httpx").setLevel(logging.WARNING)


@app.command()
def run() -> None:
    """Start the bot (polling, or webhook when WEBHOOK_URL is set) and the HTTP server."""
    settings = load_settings()
    if not settings.token:
        say("missing_token", err=True)
        raise typer.Exit(EXIT_USAGE)
    if settings.webhook_mode and not settings.webhook_secret:
        say("missing_webhook_secret", err=True)
        raise typer.Exit(EXIT_USAGE)
    _logging(settings)
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)  # one line per plugin
    from bot.content_problems import ContentError
    from bot.runner import RunError, serve

    try:
        asyncio.run(serve(settings))
    except ContentError as exc:
        say("content_invalid", err=True, count=len(exc.problems))
        for problem in exc.problems:
            typer.echo(f"  {problem}", err=True)
        raise typer.Exit(1) from None
    except RunError as exc:
        say(exc.key, err=True, **exc.values)
        raise typer.Exit(1) from None


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply the database migrations and add the shipped entities that are missing."""
    settings = load_settings()
    from bot.db import Database
    from bot.schema import upgrade
    from bot.services import build_services

    async def go() -> int:
        db = Database(settings.database_url)
        try:
            await upgrade(db)
            return (await build_services(settings, db).seed_entities()).added
        finally:
            await db.dispose()

    added = asyncio.run(go())
    say("db_upgraded", url=_safe_url(settings.database_url), added=added)


@content_app.command("check")
def content_check(
    content_dir: Path | None = typer.Option(None, "--dir", help="Content folder to check"),
) -> None:
    """List every problem in content/ (file and entry); exit 1 if there is any."""
    from bot.content import check_content

    folder = content_dir or load_settings().content_dir
    problems = check_content(folder)
    for problem in problems:
        typer.echo(str(problem))
    if problems:
        say("content_problems", err=True, count=len(problems))
        raise typer.Exit(1)
    say("content_ok", folder=folder)


@entities_app.command("import")
def entities_import(
    file: Path = typer.Argument(..., help="CSV: codigo,nombre,siglas,nivel,red,alias"),
    dry_run: bool = typer.Option(False, "--dry-run", help="Check only, change nothing"),
) -> None:
    """Upsert SIP's list of entities. A file with any bad row changes nothing."""
    settings = load_settings()
    from bot.directory import import_entities
    from bot.entities import ImportReport

    if not file.is_file():
        say("file_missing", err=True, file=file)
        raise typer.Exit(EXIT_USAGE)
    async def go() -> ImportReport:
        async with _migrated(settings) as (db, content):
            return await import_entities(db, content, file, dry_run=dry_run)

    report = asyncio.run(go())
    for problem in report.rejected:
        say("row_rejected", entry=problem.entry, reason=problem.message)
    say(
        "entities_report",
        added=report.added,
        updated=report.updated,
        unchanged=report.unchanged,
        rejected=len(report.rejected),
    )
    if not report.applied:
        say("nothing_imported", err=True)
        raise typer.Exit(1)
    if dry_run:
        say("dry_run")


@officers_app.command("import")
def officers_import(
    file: Path = typer.Argument(..., help="CSV: nombre,entidad,correo,cargo"),
    output: Path = typer.Option(
        Path("invitaciones.csv"), "--output", "-o", help="Where to write the personal links"
    ),
    bot_username: str | None = typer.Option(
        None, "--bot-username", help="Bot username (else TELEGRAM_BOT_USERNAME)"
    ),
) -> None:
    """Register SIP's directory and write a CSV of personal, single-use invitation links."""
    settings = load_settings()
    from bot.directory import DirectoryReport, import_officers

    username = bot_username or settings.telegram_bot_username
    if not username:
        say("missing_username", err=True)
        raise typer.Exit(EXIT_USAGE)
    if not file.is_file():
        say("file_missing", err=True, file=file)
        raise typer.Exit(EXIT_USAGE)
    async def go() -> DirectoryReport:
        async with _migrated(settings) as (db, _content):
            return await import_officers(db, settings, file, output, username.lstrip("@"))

    report = asyncio.run(go())
    for problem in report.rejected:
        say("row_rejected", entry=problem.entry, reason=problem.message)
    if report.rejected:
        say("nothing_imported", err=True)
        raise typer.Exit(1)
    say(
        "officers_report",
        invited=report.invited,
        reissued=report.reissued,
        skipped=len(report.skipped),
        output=output,
    )


@faq_app.command("ask")
def faq_ask(
    question: str = typer.Argument(..., help='The question, or "-" to read one per line'),
    as_json: bool = typer.Option(False, "--json", help="Print JSON objects"),
) -> None:
    """Answer a question as the bot would (no database, nothing recorded)."""
    import json

    from bot.content import load_content
    from bot.content_problems import ContentError
    from bot.faq import FaqService, load_knowledge
    from bot.telegram_html import parse_telegram_html

    settings = load_settings()
    try:
        content = load_content(settings.content_dir)
    except ContentError as exc:
        say("content_invalid", err=True, count=len(exc.problems))
        raise typer.Exit(1) from None
    knowledge, problems = load_knowledge(settings.content_dir, content.catalog)
    if knowledge is None:
        say("content_invalid", err=True, count=len(problems))
        raise typer.Exit(1)
    service = FaqService(None, knowledge)

    def rating_text(answer: object) -> str:
        return content.texts.render("icp/result", rating=answer.rating)  # type: ignore[attr-defined]

    questions = sys.stdin if question == "-" else [question]
    for line in questions:
        text = line.rstrip("\n")
        if question == "-" and not text.strip():
            continue
        result = service.as_json(text, rating_text)
        if as_json:
            typer.echo(json.dumps(result, ensure_ascii=False))
            continue
        typer.echo(f"[{result['band']}] {text}")
        if result["answer"]:
            typer.echo(parse_telegram_html(str(result["answer"])).plain_text)
        for item in result["results"]:  # type: ignore[attr-defined]
            typer.echo(f"  {item['score']:.3f}  {item['id']}: {item['question']}")


# --- schedule (issue 5: the plan as data) -----------------------------------------------------


@schedule_app.command("generate")
def schedule_generate(
    plan_path: Path | None = typer.Option(
        None, "--plan", help="Plan file (default: content/plan/2025.yaml)"
    ),
    year: int | None = typer.Option(None, "--year", help="Apply the plan's pattern to this year"),
    dry_run: bool = typer.Option(False, "--dry-run", help="Show what would change; write nothing"),
) -> None:
    """Create the plan's sessions; move unedited future ones when a rule changed."""
    settings = load_settings()
    from sqlalchemy.exc import IntegrityError, SQLAlchemyError

    from bot.catalog import load_catalog
    from bot.db import Database, utcnow
    from bot.plan import check_plan_catalog, load_plan_file, plan_file
    from bot.schema import upgrade
    from bot.texts import format_lima
    from scheduling.generator import GenerationReport, generate_sessions

    if year is not None and not 2000 <= year <= 2100:
        say("bad_year", err=True, year=year)
        raise typer.Exit(EXIT_USAGE)
    path = plan_path or settings.content_dir / plan_file()
    if not path.is_file():
        say("file_missing", err=True, file=path)
        raise typer.Exit(EXIT_USAGE)
    plan, problems = load_plan_file(path, str(path))
    catalog, catalog_problems = load_catalog(settings.content_dir)
    if catalog is None:
        say("content_invalid", err=True, count=len(catalog_problems))
        for problem in catalog_problems:
            typer.echo(f"  {problem}", err=True)
        raise typer.Exit(1)
    if plan is not None:
        problems = check_plan_catalog(plan, catalog, str(path))
    if plan is None or problems:
        say("plan_invalid", err=True, file=path, count=len(problems))
        for problem in problems:
            typer.echo(f"  {problem}", err=True)
        raise typer.Exit(1)
    if plan.rules is None:
        say("plan_without_rules", err=True, file=path)
        raise typer.Exit(1)

    async def go() -> tuple[GenerationReport, int]:
        db = Database(settings.database_url)
        try:
            await upgrade(db)
            report = await generate_sessions(
                db,
                plan,
                catalog,
                now=utcnow(),
                year=year,
                reminder_offsets=settings.reminder_offset_list,
                dry_run=dry_run,
            )
            notices = 0
            if not dry_run:
                from bot.sessions import SessionService
                from bot.texts import Texts
                from scheduling.session_messages import queue_reschedule_notices

                notices = await queue_reschedule_notices(
                    db,
                    Texts(settings.content_dir, settings.tz),
                    SessionService(db, settings.reminder_offset_list),
                    [(m.session_id, m.old_start_at) for m in report.moved if m.convened],
                )
            return report, notices
        finally:
            await db.dispose()

    try:
        report, notices = asyncio.run(go())
    except IntegrityError:
        say("schedule_conflict", err=True)
        raise typer.Exit(1) from None
    except (OSError, SQLAlchemyError) as exc:
        reason = str(getattr(exc, "orig", None) or exc).splitlines()[0]
        say("database_unavailable", err=True, url=_safe_url(settings.database_url), reason=reason)
        raise typer.Exit(1) from None

    def when(value: object) -> str:
        return format_lima(value, settings.tz)  # type: ignore[arg-type]

    say("schedule_header", file=path, plan_year=report.plan_year, year=report.year,
        planned=report.planned)
    if not report.holidays_listed:
        say("schedule_no_holidays", err=True, year=report.year)
    for item in report.holiday_moves:
        say("schedule_holiday", title=item.title, holiday=item.planned_day.strftime("%d/%m/%Y"),
            day=when(item.start_at))
    for line in report.created:
        say("schedule_created_line", title=line.title, when=when(line.start_at))
    for moved in report.moved:
        say("schedule_moved_line", title=moved.title, old=when(moved.old_start_at),
            new=when(moved.start_at))
    say("schedule_report", created=len(report.created), moved=len(report.moved),
        unchanged=len(report.unchanged), past=len(report.past), edited=len(report.edited))
    convened = [m for m in report.moved if m.convened]
    if convened:
        say("schedule_convened_header", count=len(convened))
        for moved in convened:
            say("schedule_convened_line", id=moved.session_id, title=moved.title,
                new=when(moved.start_at))
        if notices:
            say("schedule_notices_queued", count=notices)
    if report.not_in_plan:
        say("schedule_not_in_plan", count=len(report.not_in_plan),
            keys=", ".join(line.plan_key for line in report.not_in_plan))
    if dry_run:
        say("dry_run")


# --- individual assistance requests (issue 4) ---


@export_app.command("solicitudes")
def export_requests(
    fmt: str = typer.Option("xlsx", "--format", "-f", help="csv or xlsx"),
    year: int | None = typer.Option(None, "--year", help="Only the requests of this year"),
    output: Path | None = typer.Option(None, "--output", "-o", help="File to write"),
) -> None:
    """Write the assistance requests (one row each) as CSV or XLSX."""
    settings = load_settings()
    from bot.assistance import AssistanceService
    from bot.request_export import FORMATS, export_bytes, filename

    fmt = fmt.casefold()
    if fmt not in FORMATS:
        say("export_bad_format", err=True, format=fmt)
        raise typer.Exit(EXIT_USAGE)

    async def go() -> tuple[bytes, int]:
        async with _migrated(settings) as (db, content):
            records = await AssistanceService(db, settings.tz).export(year)
            return export_bytes(fmt, records, content.catalog, content.texts, settings.tz), len(
                records
            )

    data, count = asyncio.run(go())
    target = output or Path(filename(fmt, year))
    target.write_bytes(data)
    say("export_written", count=count, output=target)


# --- reports for coordinators ---


@export_app.command("reporte")
def export_report(
    year: int | None = typer.Option(None, "--year", help="Year of the report (default: this one)"),
    output: Path | None = typer.Option(None, "--output", "-o", help="File to write"),
) -> None:
    """Write the year's report (coverage, requests, attendance, with charts) as XLSX."""
    settings = load_settings()
    from bot.report_export import report_filename, report_xlsx
    from bot.reports import year_range

    first, last = year_range(settings.tz)
    if year is not None and not first <= year <= last:
        say("report_bad_year", err=True, year=year, first=first, last=last)
        raise typer.Exit(EXIT_USAGE)

    async def go() -> tuple[bytes, int]:
        from bot.db import Database
        from bot.schema import upgrade
        from bot.services import build_services

        db = Database(settings.database_url)
        try:
            await upgrade(db)
            services = build_services(settings, db)
            await services.seed_entities()
            report = await services.reports.report(year)
            return report_xlsx(report, services.texts, settings.tz), report.year
        finally:
            await db.dispose()

    data, report_year = asyncio.run(go())
    target = output or Path(report_filename(report_year))
    target.write_bytes(data)
    say("report_written", year=report_year, output=target)


@asynccontextmanager
async def _migrated(settings: Settings) -> AsyncIterator[tuple[Database, Content]]:
    """The database, migrated and seeded, and the validated content (for import commands)."""
    from bot.db import Database
    from bot.schema import upgrade
    from bot.services import build_services

    db = Database(settings.database_url)
    try:
        await upgrade(db)
        services = build_services(settings, db)
        await services.seed_entities()
        yield db, services.content
    finally:
        await db.dispose()


def _safe_url(url: str) -> str:
    if "@" in url:
        scheme, rest = url.split("://", 1)
        return f"{scheme}://***@{rest.split('@', 1)[1]}"
    return url


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)


if __name__ == "__main__":
    main()
