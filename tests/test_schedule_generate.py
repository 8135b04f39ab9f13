"""``integridad-bot schedule generate``: the yearly plan becomes dated sessions.

The service on a real database (SQLite, and PostgreSQL when TEST_DATABASE_URL is set), the console
command as an administrator runs it (a real process), and ``content check`` on broken rules.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import yaml
from sqlalchemy import func, select

from bot.catalog import Catalog, load_catalog
from bot.content import check_content
from bot.db import Database
from bot.models import (
    Broadcast,
    Delivery,
    Entity,
    Officer,
    OfficerStatus,
    RegistrationSource,
    Reminder,
    Session,
    SessionInvite,
    SessionKind,
    SessionStatus,
)
from bot.plan import PlanData, PlanLoader, load_plan, load_plan_file
from bot.schema import upgrade
from bot.settings import DEFAULT_CONTENT_DIR
from scheduling.generator import generate_sessions, plan_schedule
from scheduling.reminders import plan_reminders

LIMA = ZoneInfo("America/Lima")
JANUARY_2025 = datetime(2025, 1, 15, 12, 0, tzinfo=UTC)
OFFSETS = [timedelta(days=7), timedelta(days=1), timedelta(hours=1)]
SEED_FILE = "shared/seed/plan-trabajo-asistencias-tecnicas-2025.txt"
SEED = Path(__file__).resolve().parents[2] / SEED_FILE


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    loaded, problems = load_catalog(DEFAULT_CONTENT_DIR)
    assert problems == [] and loaded is not None
    return loaded


@pytest.fixture(scope="module")
def plan() -> PlanData:
    loaded, problems = load_plan(DEFAULT_CONTENT_DIR)
    assert problems == [] and loaded is not None
    return loaded


def _plan_data() -> dict[str, Any]:
    text = (DEFAULT_CONTENT_DIR / "plan/2025.yaml").read_text("utf-8")
    data: dict[str, Any] = yaml.load(text, Loader=PlanLoader)
    return data


def _write_plan(path: Path, edit: Callable[[dict[str, Any]], None]) -> Path:
    data = _plan_data()
    edit(data)
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), "utf-8")
    return path


def _edited_plan(tmp_path: Path, edit: Callable[[dict[str, Any]], None]) -> PlanData:
    loaded, problems = load_plan_file(_write_plan(tmp_path / "plan.yaml", edit))
    assert problems == [] and loaded is not None, problems
    return loaded


def _local(value: datetime) -> datetime:
    return value.astimezone(LIMA)


async def _sessions(db: Database) -> dict[str, Session]:
    async with db.session() as s:
        rows = (await s.execute(select(Session))).scalars().all()
    return {row.plan_key or "": row for row in rows}


# --------------------------------------------------------------------------------------------
# What the plan gives, before any database
# --------------------------------------------------------------------------------------------


def test_schedule_matches_the_plan(plan: PlanData, catalog: Catalog) -> None:
    schedule = plan_schedule(plan, catalog)
    slots = schedule.sessions
    assert schedule.year == 2025 and schedule.holidays_listed
    assert sorted({p.month for p in slots}) == [3, 4, 5, 6, 7, 8, 9, 10]
    group = [p for p in slots if p.kind == SessionKind.GROUP]
    sectoral = [p for p in slots if p.kind == SessionKind.SECTORAL]
    assert len(group) == 8 and len(sectoral) == 32 and len(slots) == 40
    assert len({p.plan_key for p in slots}) == 40
    holidays = plan.rules.holidays_of(2025) if plan.rules else None
    assert holidays is not None and date(2025, 7, 28) in holidays
    for p in group:
        month = plan.month(p.month)
        start, end = _local(p.start_at), _local(p.end_at)
        assert start.weekday() == 1 and 8 <= start.day <= 14  # the second Tuesday
        assert (start.time(), end.time()) == (time(10), time(12))
        assert p.plan_key == f"2025-{p.month:02d}-grupal"
        assert p.topics == month.activities.grupal  # numbered alternatives, in order
        assert p.components == month.components
        assert p.audience == {"all": True} and not p.mandatory and p.modality == "virtual"
        assert month.name.lower() in p.title and "2025" in p.title
        assert month.objective in p.description and month.purpose in p.description
    april = {p.plan_key: p for p in slots if p.month == 4}
    assert april["2025-04-grupal"].topics[0] == (
        "Alcances de la Guía de Evaluación 1 para el ICP 2025"
    )
    assert len(april["2025-04-grupal"].topics) == 3
    for p in sectoral:
        assert p.mandatory and p.topics == plan.month(p.month).activities.sectorial
        assert _local(p.start_at).day >= 15  # after the group session of the month
        levels = p.audience["levels"]
        expected: list[int] = []
        for code in levels:
            expected += [n for n in catalog.level(code).sectoral_components if n not in expected]
        assert sorted(p.components) == sorted(expected)
    march = {p.plan_key: p for p in slots if p.month == 3}
    assert march["2025-03-sectorial-poder-ejecutivo"].topics[0] == (
        "Elaboración del Programa de Integridad 2025"
    )
    assert march["2025-03-sectorial-poder-ejecutivo"].components == tuple(
        catalog.level("poder-ejecutivo").sectoral_components
    )
    assert march["2025-03-sectorial-otros-niveles"].audience == {
        "levels": sorted(
            [
                "poder-judicial",
                "poder-legislativo",
                "organismos-constitucionales-autonomos",
                "otras-entidades",
            ]
        )
    }
    every_level = {code for p in sectoral for code in p.audience["levels"]}
    assert every_level == {level.code for level in catalog.ordered_levels()}
    for p in slots:
        day = _local(p.start_at).date()
        assert day.weekday() < 5 and day not in holidays
    # Jueves Santo 2025 (17 April) was the third Thursday: the session goes to the next working
    # day, past Viernes Santo and the weekend.
    moved = [p for p in slots if p.holiday_moved]
    assert [(p.plan_key, p.planned_day, p.day) for p in moved] == [
        ("2025-04-sectorial-gobiernos-regionales", date(2025, 4, 17), date(2025, 4, 21))
    ]


def test_sectoral_audiences_cover_section_5_2(plan: PlanData, catalog: Catalog) -> None:
    levels = [a.level for a in plan.sectoral_audiences]
    assert levels == [level.code for level in catalog.ordered_levels()]  # the plan's order
    per_network = {a.level for a in plan.sectoral_audiences if a.per_network}
    assert per_network == {"poder-ejecutivo", "gobiernos-regionales"}
    assert len([n for n in catalog.networks_of("poder-ejecutivo") if not n.group]) == 19
    assert len([n for n in catalog.networks_of("gobiernos-regionales") if not n.group]) == 25


def test_holiday_lists_name_their_year_and_easter(plan: PlanData) -> None:
    assert plan.rules is not None
    easter = {2025: date(2025, 4, 20), 2026: date(2026, 4, 5), 2027: date(2027, 3, 28)}
    for year, days in plan.rules.holidays.items():
        assert all(d.year == year for d in days)
        assert easter[year] - timedelta(days=3) in days  # Jueves Santo
        assert easter[year] - timedelta(days=2) in days  # Viernes Santo
        for fixed in ("01-01", "05-01", "06-07", "06-29", "07-23", "07-28", "07-29", "08-06",
                      "08-30", "10-08", "11-01", "12-08", "12-09", "12-25"):
            assert date.fromisoformat(f"{year}-{fixed}") in days


def test_the_plan_section_ix_is_still_verbatim(plan: PlanData) -> None:
    if not SEED.exists():
        pytest.skip("seed plan not available")
    seed = " ".join(SEED.read_text("utf-8").split())
    assert "Sectorial: Absolución de consultas" in seed
    assert plan.month(10).activities.grupal[1].startswith("Sesión final sobre el uso")


# --------------------------------------------------------------------------------------------
# Writing sessions
# --------------------------------------------------------------------------------------------


async def test_generation_creates_the_sessions_once(
    database: Database, plan: PlanData, catalog: Catalog
) -> None:
    first = await generate_sessions(database, plan, catalog, now=JANUARY_2025)
    assert (len(first.created), len(first.moved), len(first.unchanged)) == (40, 0, 0)
    assert first.past == [] and first.edited == [] and first.not_in_plan == []
    rows = await _sessions(database)
    assert len(rows) == 40
    group = rows["2025-05-grupal"]
    assert group.kind == SessionKind.GROUP
    assert group.title == "Asistencia técnica grupal de mayo 2025"
    assert group.start_at == datetime(2025, 5, 13, 15, 0, tzinfo=UTC)  # 10:00 in Lima
    assert group.end_at == datetime(2025, 5, 13, 17, 0, tzinfo=UTC)
    assert group.topics == list(plan.month(5).activities.grupal)
    assert group.components == [5, 4, 1] and group.audience == {"all": True}
    assert (group.place, group.link, group.mandatory) == (None, None, False)
    assert (group.status, group.sequence, group.modality) == ("scheduled", 0, "virtual")
    regional = rows["2025-04-sectorial-gobiernos-regionales"]
    assert regional.kind == SessionKind.SECTORAL and regional.mandatory
    assert regional.audience == {"levels": ["gobiernos-regionales"]}
    assert regional.components == [8, 4, 2] and regional.topics == ["Absolución de consultas"]
    assert _local(regional.start_at) == datetime(2025, 4, 21, 10, 0, tzinfo=LIMA)
    assert "obligatoria" in regional.description
    uids = {row.uid for row in rows.values()}
    assert len(uids) == 40 and all(uid.endswith("@integridad-bot") for uid in uids)

    second = await generate_sessions(database, plan, catalog, now=JANUARY_2025 + timedelta(1))
    assert (len(second.created), len(second.moved), len(second.unchanged)) == (0, 0, 40)
    again = await _sessions(database)
    for key, row in rows.items():
        later = again[key]
        assert (later.uid, later.start_at, later.sequence, later.updated_at) == (
            row.uid,
            row.start_at,
            row.sequence,
            row.updated_at,
        )


async def _convene(db: Database, session_id: int, now: datetime) -> int:
    """One approved officer invited to the session, with reminders planned (as /sesiones does)."""
    async with db.session() as s:
        entity = Entity(code="minsa-prueba", name="Ministerio de Prueba", level="poder-ejecutivo",
                        network="red-salud")
        s.add(entity)
        await s.flush()
        assert entity.id is not None
        officer = Officer(telegram_user_id=555001, entity_id=entity.id, full_name="Ana Prueba",
                          status=OfficerStatus.APPROVED, source=RegistrationSource.SELF)
        s.add(officer)
        await s.flush()
        assert officer.id is not None
        s.add(SessionInvite(session_id=session_id, officer_id=officer.id, entity_id=entity.id))
        await s.flush()
        await plan_reminders(s, session_id, OFFSETS, now=now)
        return officer.id


async def test_rule_change_moves_future_unedited_sessions_only(
    database: Database, plan: PlanData, catalog: Catalog, tmp_path: Path
) -> None:
    await generate_sessions(database, plan, catalog, now=JANUARY_2025)
    before = await _sessions(database)
    june = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
    async with database.session() as s:
        edited = await s.get(Session, before["2025-07-grupal"].id)
        cancelled = await s.get(Session, before["2025-09-grupal"].id)
        assert edited is not None and cancelled is not None
        edited.edited_by = 777  # a coordinator rescheduled it by hand
        cancelled.status = SessionStatus.CANCELLED
    august = before["2025-08-grupal"]
    assert august.id is not None
    await _convene(database, august.id, june)

    def to_wednesday(data: dict[str, Any]) -> None:
        data["rules"]["group"].update(weekday="wednesday", start="09:00", end="11:00")

    changed = _edited_plan(tmp_path, to_wednesday)
    report = await generate_sessions(
        database, changed, catalog, now=june, reminder_offsets=OFFSETS
    )
    assert sorted(m.plan_key for m in report.moved) == [
        "2025-06-grupal", "2025-08-grupal", "2025-10-grupal"
    ]
    assert report.convened_moved == [august.id]
    assert sorted(line.plan_key for line in report.edited) == ["2025-07-grupal", "2025-09-grupal"]
    assert len(report.past) == 15  # every slot of March, April and May
    assert len(report.unchanged) == 20 and report.created == []  # June-October sectoral
    after = await _sessions(database)
    # The second Wednesday; in October it is 8 October (Combate de Angamos), so the 9th.
    days = {"2025-06-grupal": 11, "2025-08-grupal": 13, "2025-10-grupal": 9}
    for key, day in days.items():
        row, old = after[key], before[key]
        local = _local(row.start_at)
        assert local.date() == date(2025, int(key[5:7]), day)
        assert (local.time(), _local(row.end_at).time()) == (time(9), time(11))
        assert row.sequence == old.sequence + 1 == 1
        assert row.uid == old.uid and row.updated_at == june
    for key in ("2025-03-grupal", "2025-05-grupal", "2025-07-grupal", "2025-09-grupal"):
        row, old = after[key], before[key]
        assert (row.start_at, row.sequence, row.uid) == (old.start_at, 0, old.uid)
    assert after["2025-06-sectorial-poder-ejecutivo"].sequence == 0
    async with database.session() as s:
        reminders = (
            await s.execute(select(Reminder).where(Reminder.session_id == august.id))
        ).scalars().all()
    new_start = after["2025-08-grupal"].start_at
    assert sorted(r.due_at for r in reminders) == sorted(new_start - o for o in OFFSETS)
    assert all(r.status == "pending" for r in reminders)

    repeat = await generate_sessions(database, changed, catalog, now=june, reminder_offsets=OFFSETS)
    assert repeat.moved == [] and repeat.created == [] and len(repeat.unchanged) == 23


async def test_a_rule_never_moves_a_session_into_the_past(
    database: Database, plan: PlanData, catalog: Catalog, tmp_path: Path
) -> None:
    await generate_sessions(database, plan, catalog, now=JANUARY_2025)
    before = await _sessions(database)
    # 9 June: the June group session (Tuesday 10th) is ahead; a rule moving it to the first
    # Tuesday (3 June) would put it in the past, so it stays.
    now = datetime(2025, 6, 9, 12, 0, tzinfo=UTC)
    earlier = _edited_plan(tmp_path, lambda d: d["rules"]["group"].update(week=1))
    report = await generate_sessions(database, earlier, catalog, now=now)
    assert "2025-06-grupal" in {line.plan_key for line in report.past}
    after = await _sessions(database)
    assert after["2025-06-grupal"].start_at == before["2025-06-grupal"].start_at


async def test_year_applies_the_pattern_to_another_year(
    database: Database, plan: PlanData, catalog: Catalog
) -> None:
    await generate_sessions(database, plan, catalog, now=JANUARY_2025)
    now = datetime(2026, 1, 10, tzinfo=UTC)
    report = await generate_sessions(database, plan, catalog, now=now, year=2026)
    assert report.year == 2026 and report.plan_year == 2025 and report.holidays_listed
    assert len(report.created) == 40 and report.not_in_plan == []
    rows = await _sessions(database)
    assert len(rows) == 80
    group = rows["2026-04-grupal"]
    assert _local(group.start_at) == datetime(2026, 4, 14, 10, 0, tzinfo=LIMA)
    assert group.title == "Asistencia técnica grupal de abril 2026"
    assert group.topics == list(plan.month(4).activities.grupal)
    # 23 July 2026 (Día de la Fuerza Aérea) is the fourth Thursday; 28 and 29 July (Fiestas
    # Patrias) take the fourth Tuesday and the Wednesday after it.
    moves = {p.plan_key: p.day for p in report.holiday_moves}
    assert moves == {
        "2026-07-sectorial-otros-niveles": date(2026, 7, 24),
        "2026-07-sectorial-gobiernos-locales": date(2026, 7, 30),
    }
    assert _local(rows["2026-07-sectorial-gobiernos-locales"].start_at).date() == date(2026, 7, 30)
    assert rows["2025-04-grupal"].sequence == 0  # the other year is not touched

    unknown = await generate_sessions(
        database, plan, catalog, now=now, year=2031, dry_run=True
    )
    assert not unknown.holidays_listed and len(unknown.created) == 40


async def test_dry_run_writes_nothing(
    database: Database, plan: PlanData, catalog: Catalog, tmp_path: Path
) -> None:
    dry = await generate_sessions(database, plan, catalog, now=JANUARY_2025, dry_run=True)
    assert dry.dry_run and len(dry.created) == 40
    assert all(line.session_id is None for line in dry.created)
    assert await _sessions(database) == {}
    await generate_sessions(database, plan, catalog, now=JANUARY_2025)
    before = await _sessions(database)
    later = _edited_plan(tmp_path, lambda d: d["rules"]["group"].update(start="15:00",
                                                                         end="17:00"))
    would = await generate_sessions(database, later, catalog, now=JANUARY_2025, dry_run=True)
    assert len(would.moved) == 8
    after = await _sessions(database)
    assert {k: (r.start_at, r.sequence) for k, r in after.items()} == {
        k: (r.start_at, r.sequence) for k, r in before.items()
    }


async def test_holiday_policies(
    database: Database, catalog: Catalog, tmp_path: Path
) -> None:
    def extra_holiday(policy: str) -> Callable[[dict[str, Any]], None]:
        def edit(data: dict[str, Any]) -> None:
            data["rules"]["on_holiday"] = policy
            data["rules"]["holidays"][2025].append("2025-06-10")  # a día no laborable
        return edit

    next_day = _edited_plan(tmp_path, extra_holiday("next_working_day"))
    slot = {p.plan_key: p for p in plan_schedule(next_day, catalog).sessions}["2025-06-grupal"]
    assert (slot.planned_day, slot.day) == (date(2025, 6, 10), date(2025, 6, 11))
    next_week = _edited_plan(tmp_path, extra_holiday("same_weekday_next_week"))
    slot = {p.plan_key: p for p in plan_schedule(next_week, catalog).sessions}["2025-06-grupal"]
    assert slot.day == date(2025, 6, 17)
    report = await generate_sessions(database, next_week, catalog, now=JANUARY_2025)
    assert _local((await _sessions(database))["2025-06-grupal"].start_at).date() == date(
        2025, 6, 17
    )
    assert "2025-06-grupal" in {p.plan_key for p in report.holiday_moves}


async def test_sessions_of_a_dropped_rule_are_reported_not_touched(
    database: Database, plan: PlanData, catalog: Catalog, tmp_path: Path
) -> None:
    await generate_sessions(database, plan, catalog, now=JANUARY_2025)

    def drop_local(data: dict[str, Any]) -> None:
        data["rules"]["sectoral"] = [
            r for r in data["rules"]["sectoral"] if r["key"] != "gobiernos-locales"
        ]

    fewer = _edited_plan(tmp_path, drop_local)
    report = await generate_sessions(database, fewer, catalog, now=JANUARY_2025)
    assert report.planned == 32 and len(report.unchanged) == 32
    assert len(report.not_in_plan) == 8
    assert {line.plan_key.split("-", 2)[2] for line in report.not_in_plan} == {
        "sectorial-gobiernos-locales"
    }
    rows = await _sessions(database)
    assert len(rows) == 40 and all(r.status == "scheduled" for r in rows.values())


# --------------------------------------------------------------------------------------------
# content check on broken rules: file and entry in each problem
# --------------------------------------------------------------------------------------------


def _content_copy(tmp_path: Path) -> Path:
    target = tmp_path / "content"
    shutil.copytree(DEFAULT_CONTENT_DIR, target)
    return target


def test_content_check_reports_bad_rule_fields(tmp_path: Path) -> None:
    content = _content_copy(tmp_path)

    def break_fields(data: dict[str, Any]) -> None:
        rules = data["rules"]
        rules["group"]["weekday"] = "martes"
        rules["sectoral"][0]["end"] = "09:00"  # before its start, 10:00
        rules["sectoral"][1]["start"] = 600  # what YAML makes of an unquoted 10:00
        rules["holidays"][2025].append("2025-02-30")
        rules["on_holiday"] = "skip"
        rules["sectoral"][2]["title"] = "Sesión de {mes}"

    _write_plan(content / "plan/2025.yaml", break_fields)
    problems = [str(p) for p in check_content(content)]
    plan_problems = [p for p in problems if p.startswith("plan/2025.yaml")]
    joined = "\n".join(plan_problems)
    assert "plan/2025.yaml [rules.group]: weekday:" in joined and "tuesday" in joined
    assert (
        "plan/2025.yaml [rules.sectoral[poder-ejecutivo]]: entry: end 09:00 is not after "
        "start 10:00"
    ) in joined
    assert "[rules.sectoral[gobiernos-regionales]]: start: write the time in quotes" in joined
    assert "plan/2025.yaml [rules.holidays.2025]: '2025-02-30':" in joined
    assert "plan/2025.yaml [rules]: on_holiday:" in joined
    assert "[rules.sectoral[gobiernos-locales]]: title: unknown field(s) ['mes']" in joined
    assert len(plan_problems) == 6, plan_problems


def test_content_check_reports_rules_against_schedule_and_catalogue(tmp_path: Path) -> None:
    content = _content_copy(tmp_path)

    def break_references(data: dict[str, Any]) -> None:
        rules = data["rules"]
        rules["group"]["months"] = [3, 12]
        rules["holidays"][2026].append("2027-01-01")
        rules["sectoral"][3]["levels"].append("poder-municipal")
        data["sectoral_audiences"].append({"level": "poder-municipal"})

    _write_plan(content / "plan/2025.yaml", break_references)
    problems = [str(p) for p in check_content(content)]
    joined = "\n".join(problems)
    assert "plan/2025.yaml [rules.group]: months: 12 is not a month of the schedule" in joined
    assert "plan/2025.yaml [rules.holidays.2026]: 2027-01-01 is not in 2026" in joined
    assert len(problems) == 2, problems
    # Once the schedule and the rules agree, the catalogue check names the unknown codes.
    _write_plan(content / "plan/2025.yaml", lambda d: (
        d["rules"]["sectoral"][3]["levels"].append("poder-municipal"),
        d["sectoral_audiences"].append({"level": "poder-municipal"}),
    ))
    problems = [str(p) for p in check_content(content)]
    assert problems == [
        "plan/2025.yaml [sectoral_audiences[7]]: level: unknown level code poder-municipal",
        "plan/2025.yaml [rules.sectoral[otros-niveles]]: levels: unknown level code "
        "poder-municipal",
    ]


# --------------------------------------------------------------------------------------------
# The console command (a real process, a real SQLite file)
# --------------------------------------------------------------------------------------------

BIN = [sys.executable, "-m", "bot.cli"]
NEXT_YEAR = datetime.now(UTC).year + 1


def _run(args: list[str], tmp_path: Path) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items()
             if not k.startswith(("TELEGRAM_", "DATABASE_", "WEBHOOK_", "ADMIN_", "CONTENT_"))}
    clean["DATABASE_URL"] = f"sqlite:///{tmp_path / 'cli.db'}"
    return subprocess.run(BIN + args, capture_output=True, text=True, cwd=tmp_path, env=clean,
                          timeout=120, check=False)


def _next_year_plan(tmp_path: Path, **group: Any) -> Path:
    """The shipped plan with a (made-up) holiday list for next year, so no warning is due."""
    def edit(data: dict[str, Any]) -> None:
        data["rules"]["holidays"][NEXT_YEAR] = [f"{NEXT_YEAR}-01-01", f"{NEXT_YEAR}-12-25"]
        data["rules"]["group"].update(group)
    return _write_plan(tmp_path / "plan.yaml", edit)


def _no_traceback(result: subprocess.CompletedProcess[str]) -> None:
    assert "Traceback" not in result.stderr and "Traceback" not in result.stdout


def test_cli_generates_once_and_reports(tmp_path: Path) -> None:
    plan_path = _next_year_plan(tmp_path)
    args = ["schedule", "generate", "--plan", str(plan_path), "--year", str(NEXT_YEAR)]
    dry = _run([*args, "--dry-run"], tmp_path)
    assert dry.returncode == 0, dry.stderr
    assert "Creadas: 40. Reprogramadas: 0. Sin cambios: 0." in dry.stdout
    assert "--dry-run" in dry.stdout
    first = _run(args, tmp_path)
    assert first.returncode == 0, first.stderr
    _no_traceback(first)
    assert f"aplicados a {NEXT_YEAR}; 40 sesiones" in first.stdout
    assert "Creadas: 40. Reprogramadas: 0. Sin cambios: 0." in first.stdout  # dry run wrote none
    assert f"Asistencia técnica grupal de marzo {NEXT_YEAR}" in first.stdout
    assert "10:00" in first.stdout and first.stderr == ""
    second = _run(args, tmp_path)
    assert second.returncode == 0
    assert "Creadas: 0. Reprogramadas: 0. Sin cambios: 40." in second.stdout


async def test_cli_lists_moved_convened_sessions(tmp_path: Path) -> None:
    args = ["schedule", "generate", "--year", str(NEXT_YEAR)]
    first = _run([*args, "--plan", str(_next_year_plan(tmp_path))], tmp_path)
    assert first.returncode == 0, first.stderr
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}")
    try:
        await upgrade(db)
        key = f"{NEXT_YEAR}-05-grupal"
        async with db.session() as s:
            session_id = await s.scalar(select(Session.id).where(Session.plan_key == key))
        assert session_id is not None
        await _convene(db, session_id, datetime.now(UTC))
        moved = _run([*args, "--plan", str(_next_year_plan(tmp_path, start="16:00", end="18:00"))],
                     tmp_path)
        assert moved.returncode == 0, moved.stderr
        assert "Reprogramadas: 8." in moved.stdout
        assert "Sesiones ya convocadas que cambiaron de fecha (1)" in moved.stdout
        assert f"#{session_id} Asistencia técnica grupal de mayo {NEXT_YEAR}" in moved.stdout
        assert "16:00" in moved.stdout
        assert "Se registraron 1 aviso(s) de cambio de fecha" in moved.stdout
        async with db.session() as s:
            row = await s.scalar(select(Session).where(Session.plan_key == key))
            pending = await s.scalar(
                select(func.count()).select_from(Reminder).where(Reminder.session_id == session_id)
            )
            # the notice waits as a broadcast for the running bot, addressed to the one invitee
            notices = (
                await s.execute(
                    select(Delivery.chat_id, Delivery.text)
                    .join(Broadcast, Broadcast.id == Delivery.broadcast_id)
                    .where(Broadcast.kind == "notice", Broadcast.session_id == session_id)
                )
            ).all()
        assert row is not None and row.sequence == 1 and _local(row.start_at).hour == 16
        assert pending == 3
        assert [chat for chat, _ in notices] == [555001]
        assert "16:00" in notices[0][1]
    finally:
        await db.dispose()


def test_cli_warns_when_the_year_has_no_holidays(tmp_path: Path) -> None:
    result = _run(["schedule", "generate", "--year", "2099", "--dry-run"], tmp_path)
    assert result.returncode == 0, result.stderr
    assert "no tienen feriados para 2099" in result.stderr


def test_cli_refuses_bad_plans_without_a_traceback(tmp_path: Path) -> None:
    broken = tmp_path / "roto.yaml"
    broken.write_text("year: 2025\nmonths: [: nope\n", "utf-8")
    result = _run(["schedule", "generate", "--plan", str(broken)], tmp_path)
    assert result.returncode == 1
    _no_traceback(result)
    assert "problema(s); no se generó ninguna sesión" in result.stderr
    assert "invalid YAML" in result.stderr

    bad_rule = _write_plan(
        tmp_path / "malo.yaml", lambda d: d["rules"]["group"].update(weekday="martes")
    )
    result = _run(["schedule", "generate", "--plan", str(bad_rule)], tmp_path)
    assert result.returncode == 1
    _no_traceback(result)
    assert "[rules.group]: weekday:" in result.stderr

    no_rules = _write_plan(tmp_path / "sin-reglas.yaml", lambda d: d.pop("rules"))
    result = _run(["schedule", "generate", "--plan", str(no_rules)], tmp_path)
    assert result.returncode == 1
    assert "no tiene reglas (rules:)" in result.stderr

    missing = _run(["schedule", "generate", "--plan", str(tmp_path / "nada.yaml")], tmp_path)
    assert missing.returncode == 2 and "No existe el archivo" in missing.stderr
    _no_traceback(missing)

    bad_year = _run(["schedule", "generate", "--year", "1990"], tmp_path)
    assert bad_year.returncode == 2 and "Año no válido: 1990" in bad_year.stderr
    _no_traceback(bad_year)
    assert not (tmp_path / "cli.db").exists()  # nothing was opened for a refused plan
