"""Reports for coordinators: the figures of the report service on a small world built with the
services (SQLite and PostgreSQL), and /reporte through the real bot — each section, the Excel
workbook read back with openpyxl, bad years, and refused forged presses — and the
``export reporte`` command."""

from __future__ import annotations

import asyncio
import io
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import openpyxl
import pytest
from sqlalchemy import update
from typer.testing import CliRunner

from bot.assistance import Meeting, RequestDraft
from bot.catalog import EntityRow
from bot.cli import app as cli_app
from bot.db import utcnow
from bot.models import AssistanceRequest
from bot.officers import RegistrationDraft
from bot.reports import FIRST_YEAR, LIMA, Coverage, CoverageRow, parse_year, year_bounds
from bot.services import Services
from bot.sessions import SessionDraft
from tests.conftest import BotFactory
from tests.fakebot import FakeTelegram
from tests.flows import press, say

COORDINATOR_ID = 777_000_001

# key → (entity code, name, what becomes of the registration)
OFFICERS = {
    "rosa": ("minsa", "Rosa Díaz Paredes", "approved"),
    "raul": ("minsa", "Raúl Vera Ñique", "approved"),
    "sara": ("mef", "Sara Pinto Loza", "approved"),
    "tito": ("gr-cusco", "Tito Quispe Mamani", "approved"),
    "pepa": ("gr-cusco", "Pepa Soto Ruiz", "pending"),
    "juan": ("pj", "Juan Ríos Lara", "pending"),
    "ema": ("minem", "Ema Cruz Vega", "removed"),
}
TITLES = {
    "group": "Alcances de la Guía de Evaluación 1",
    "sectoral": "Sectorial: Salud y Gobierno Regional de Cusco",
    "cancelled": "Sectorial del Poder Ejecutivo (cancelada)",
    "empty": "Sectorial de Gobiernos Locales",
    "last_year": "Grupal del año pasado",
    "future": "Uso del Sistema ICP",
}


@dataclass
class World:
    year: int
    officers: dict[str, int] = field(default_factory=dict)  # key → officer id
    sessions: dict[str, int] = field(default_factory=dict)  # key → session id
    codes: dict[str, str] = field(default_factory=dict)  # key → request code


async def build_world(s: Services, telegram_ids: dict[str, int]) -> World:
    """Officers approved, pending and removed; six requests of this year in several statuses and
    components and one of last year; sessions held, cancelled, never convened, of last year and
    to come, with answers and attendance. Everything through the services, except the clock of
    a few rows (no service backdates a request)."""
    now = utcnow()
    year = now.astimezone(LIMA).year
    world = World(year)
    coordinator, name = COORDINATOR_ID, "Ana Coordinadora"
    # a municipality imported without a network
    await s.entities.upsert(
        [EntityRow(code="muni-test", name="Municipalidad de Prueba", level="gobiernos-locales")]
    )

    # -- officers
    for key, (code, full_name, fate) in OFFICERS.items():
        entity = await s.entities.by_code(code)
        assert entity is not None and entity.id is not None
        result = await s.officers.submit(
            telegram_ids[key], RegistrationDraft(entity.id, full_name, "Oficial de Integridad"), now
        )
        assert result.officer is not None and result.officer.id is not None
        officer_id = result.officer.id
        world.officers[key] = officer_id
        if fate in ("approved", "removed"):
            await s.officers.decide(officer_id, True, coordinator)
        if fate == "removed":
            await s.officers.remove(officer_id, coordinator)

    # -- requests
    async def create(
        key: str, officer: str | None, code: str, component: int | None, source: str = "bot"
    ) -> int:
        entity = await s.entities.by_code(code)
        assert entity is not None and entity.id is not None
        view = await s.assistance.create(
            RequestDraft(
                entity_id=entity.id,
                topic=f"Consulta {key}",
                channel="virtual",
                component=component,
                officer_id=world.officers[officer] if officer else None,
                source=source,
            ),
            actor_id=telegram_ids[officer] if officer else coordinator,
            actor_name=name,
        )
        world.codes[key] = view.code
        return view.request.id or 0

    a = s.assistance
    r1 = await create("r1", "rosa", "minsa", 7)
    await a.answer(r1, coordinator, name, "Respuesta.")
    await a.close(r1, coordinator, name, "Atendida.", [])
    r2 = await create("r2", "raul", "minsa", 7)
    await a.answer(r2, coordinator, name, "Respuesta.")
    r3 = await create("r3", "sara", "mef", 2)
    await a.take(r3, coordinator, name)
    r4 = await create("r4", "tito", "gr-cusco", None)  # "otro tema", two weeks unanswered
    r5 = await create("r5", "tito", "gr-cusco", 2)
    await a.wait_for_entity(r5, coordinator, name, "Envíe su matriz de riesgos.")
    await create("r6", None, "pj", 8, source="phone")  # new today: not overdue
    r0 = await create("r0", "rosa", "minsa", 1)  # becomes last year's

    # -- sessions
    sessions = s.sessions
    year_start, _ = year_bounds(year, LIMA)
    span = now - year_start

    def at(fraction: float) -> datetime:
        return year_start + span * fraction

    length = min(timedelta(hours=2), span * 0.05)

    async def session(key: str, kind: str, start: datetime, audience: dict[str, object]) -> int:
        created = await sessions.create(
            SessionDraft(
                kind=kind,
                title=TITLES[key],
                start_at=start,
                end_at=start + length,
                audience=audience,
            ),
            by=coordinator,
        )
        world.sessions[key] = created.id or 0
        return created.id or 0

    async def convene(session_id: int, start: datetime) -> None:
        done = await sessions.convene(session_id, by=coordinator, now=start - timedelta(seconds=2))
        assert done.new, "nobody convened"

    async def rsvp(session_id: int, start: datetime, key: str, yes: bool) -> None:
        await sessions.respond(session_id, telegram_ids[key], yes, now=start - timedelta(seconds=1))

    async def attended(session_id: int, *keys: str) -> None:
        report = await sessions.attendance(session_id)
        assert report is not None
        for group in report.entities:
            for line in group.lines:
                if line.officer.id in {world.officers[k] for k in keys}:
                    await sessions.mark_attended(session_id, line.invite.id or 0, by=coordinator)

    start = at(0.2)  # group, open to all: Rosa, Raúl, Sara and Tito invited
    sid = await session("group", "grupal", start, {"all": True})
    await convene(sid, start)
    await rsvp(sid, start, "rosa", True)
    await rsvp(sid, start, "raul", False)
    await rsvp(sid, start, "sara", True)
    await attended(sid, "rosa", "sara")
    start = at(0.4)  # sectoral (mandatory): Salud (Rosa, Raúl) and GR Cusco (Tito)
    sid = await session("sectoral", "sectorial", start, {"networks": ["red-salud", "red-gr-cusco"]})
    await convene(sid, start)
    await rsvp(sid, start, "rosa", True)
    await rsvp(sid, start, "tito", True)
    await attended(sid, "rosa")
    start = at(0.5)  # cancelled before it took place: not counted
    sid = await session("cancelled", "sectorial", start, {"levels": ["poder-ejecutivo"]})
    await convene(sid, start)
    await attended(sid, "rosa")
    await sessions.cancel(sid, by=coordinator, now=start - timedelta(seconds=1))
    await session("empty", "sectorial", at(0.6), {"levels": ["gobiernos-locales"]})
    start = year_start - timedelta(days=30)  # last year's
    sid = await session("last_year", "grupal", start, {"all": True})
    await convene(sid, start)
    await attended(sid, "rosa", "raul", "sara", "tito")
    start = now + timedelta(days=30)  # still to come
    sid = await session("future", "grupal", start, {"all": True})
    await convene(sid, now)
    # an individual meeting already held (Programar on r3): never in the attendance report
    meeting_at = max(year_start, min(at(0.7), now - timedelta(hours=2)))
    await a.schedule(
        r3,
        coordinator,
        name,
        Meeting(meeting_at, "virtual", "https://meet.example.org/x", "Reunión", "", []),
    )

    # -- the clock of a few requests (hours to the first response: 2, 10, 30, 40)
    async with s.db.session() as db:
        for request_id, hours in ((r1, 2), (r2, 10), (r3, 30), (r5, 40)):
            created = now - timedelta(days=3)
            await db.execute(
                update(AssistanceRequest)
                .where(AssistanceRequest.id == request_id)
                .values(created_at=created, first_response_at=created + timedelta(hours=hours))
            )
        await db.execute(
            update(AssistanceRequest)
            .where(AssistanceRequest.id == r4)
            .values(created_at=now - timedelta(days=14))
        )
        await db.execute(
            update(AssistanceRequest)
            .where(AssistanceRequest.id == r0)
            .values(
                year=year - 1,
                number=9999,
                code=f"AT-{year - 1}-9999",
                created_at=year_start - timedelta(days=40),
            )
        )
    world.codes["r0"] = f"AT-{year - 1}-9999"
    return world


def _row(rows: list[CoverageRow], code: str | None, level: str | None = None) -> CoverageRow:
    return next(r for r in rows if r.code == code and (level is None or r.level == level))


def _counts(row: CoverageRow) -> tuple[int, int, int, int, float | None]:
    return row.entities, row.covered, row.approved, row.pending, row.pct


# ---------------------------------------------------------------------- the service


async def test_report_figures(services: Services) -> None:
    ids = {key: 5000 + i for i, key in enumerate(OFFICERS)}
    world = await build_world(services, ids)
    reports = services.reports
    report = await reports.report()
    assert report.year == world.year == reports.current_year()
    shipped = len(services.content.entities) + 1  # and the municipality imported here
    levels = {e.level for e in services.content.entities}

    # coverage: Salud, MEF and GR Cusco have approved officers; Ema (MINEM) was removed
    coverage: Coverage = report.coverage
    assert _counts(coverage.total) == (shipped, 3, 4, 2, round(300 / shipped, 1))
    executive = sum(1 for e in services.content.entities if e.level == "poder-ejecutivo")
    assert _counts(_row(coverage.levels, "poder-ejecutivo")) == (
        executive,
        2,
        3,
        0,
        round(200 / executive, 1),
    )
    regional = sum(1 for e in services.content.entities if e.level == "gobiernos-regionales")
    assert _counts(_row(coverage.levels, "gobiernos-regionales"))[1:4] == (1, 1, 1)
    assert _row(coverage.levels, "gobiernos-regionales").entities == regional
    assert _counts(_row(coverage.levels, "poder-judicial")) == (1, 0, 0, 1, 0.0)
    assert _counts(_row(coverage.levels, "gobiernos-locales")) == (1, 0, 0, 0, 0.0)
    assert [r.code for r in coverage.levels][:2] == ["poder-ejecutivo", "poder-judicial"]
    assert {r.code for r in coverage.levels} >= levels

    def in_network(code: str) -> int:  # the ministry and its attached bodies
        return sum(1 for e in services.content.entities if e.network == code)

    salud, mef, minem = (
        in_network(c) for c in ("red-salud", "red-economia-finanzas", "red-energia-minas")
    )
    assert _counts(_row(coverage.networks, "red-salud")) == (salud, 1, 2, 0, round(100 / salud, 1))
    assert _counts(_row(coverage.networks, "red-economia-finanzas")) == (
        mef,
        1,
        1,
        0,
        round(100 / mef, 1),
    )
    assert _counts(_row(coverage.networks, "red-gr-cusco")) == (1, 1, 1, 1, 100.0)
    assert _counts(_row(coverage.networks, "red-energia-minas")) == (minem, 0, 0, 0, 0.0)
    assert _row(coverage.networks, "red-salud").short_name == "Salud"
    # every network of the catalogue is listed, with the group entries of whole levels
    catalogue = [n.code for n in services.content.catalog.networks]
    assert set(catalogue) <= {r.code for r in coverage.networks}
    assert _counts(_row(coverage.networks, "gobiernos-locales")) == (0, 0, 0, 0, None)
    assert _counts(_row(coverage.networks, None, "gobiernos-locales")) == (1, 0, 0, 0, 0.0)
    assert sum(r.entities for r in coverage.networks) == shipped
    assert sum(r.approved for r in coverage.networks) == 4

    # requests of the year
    q = report.requests
    assert (q.total, q.open, q.closed, q.overdue, q.responded) == (6, 5, 1, 1, 4)
    assert q.median_first_response_hours == 20.0  # of 2, 10, 30 and 40 hours
    assert {c.key: c.count for c in q.by_status} == {
        "new": 2,
        "assigned": 0,
        "scheduled": 1,
        "answered": 1,
        "waiting": 1,
        "closed": 1,
    }
    assert [c.key for c in q.by_component] == [1, 2, 3, 4, 5, 6, 7, 8, 9, None]
    assert {c.key: c.count for c in q.by_component if c.count} == {7: 2, 2: 2, 8: 1, None: 1}
    assert q.by_component[6].name == "Canal de Denuncias"
    assert [(c.key, c.count) for c in q.by_network[2:]] == [
        ("poder-judicial", 1),
        ("red-economia-finanzas", 1),
    ]
    assert {c.key: c.count for c in q.by_network[:2]} == {"red-salud": 2, "red-gr-cusco": 2}
    assert q.by_network[-1].level_name == "Poder Ejecutivo"

    # attendance: the group and sectoral sessions held this year, not the cancelled one
    a = report.attendance
    assert [x.title for x in a.sessions] == [TITLES["group"], TITLES["sectoral"], TITLES["empty"]]
    group, sectoral, empty = a.sessions
    assert (group.invited, group.accepted, group.declined, group.attended) == (4, 2, 1, 2)
    assert group.mandatory is False and group.entities_convened is None
    assert group.attended_pct == 50.0
    assert (sectoral.invited, sectoral.accepted, sectoral.declined, sectoral.attended) == (
        3,
        2,
        0,
        1,
    )
    assert (sectoral.entities_convened, sectoral.entities_present) == (2, 1)
    assert sectoral.present_pct == 50.0
    assert (empty.invited, empty.entities_convened, empty.present_pct) == (0, 0, None)
    assert (a.held, a.invited, a.accepted, a.declined, a.attended) == (3, 7, 4, 1, 3)
    assert (a.mandatory, a.entities_convened, a.entities_present) == (2, 2, 1)
    assert a.attended_pct == round(300 / 7, 1) and a.present_pct == 50.0

    # last year: its request and its session only
    before = await reports.report(world.year - 1)
    assert before.requests.total == 1 and before.requests.by_component[0].count == 1
    assert before.requests.median_first_response_hours is None
    assert [x.title for x in before.attendance.sessions] == [TITLES["last_year"]]
    assert before.attendance.sessions[0].attended == 4
    # a year with nothing
    empty_year = await reports.report(world.year - 2)
    assert empty_year.requests.total == 0 and empty_year.attendance.held == 0
    assert empty_year.attendance.attended_pct is None


def test_years() -> None:
    now = utcnow()
    year = now.astimezone(LIMA).year
    assert parse_year(str(year)) == year
    assert parse_year(f" {FIRST_YEAR} ") == FIRST_YEAR
    for typed in ("20x5", "1999", str(FIRST_YEAR - 1), str(year + 1), "２０２５", "", "25"):
        assert parse_year(typed) is None, typed
    # the year turns at midnight in Lima, five hours after UTC
    start, end = year_bounds(2026)
    assert start.isoformat() == "2026-01-01T05:00:00+00:00"
    assert end.isoformat() == "2027-01-01T05:00:00+00:00"


# ---------------------------------------------------------------------- through the bot


async def test_reporte_in_the_bot(fake: FakeTelegram, make_bot: BotFactory) -> None:
    ana = fake.user("Ana", last_name="Coordinadora")
    people = {
        key: fake.user(name.split()[0], last_name=name.split()[1])
        for key, (_, name, _) in OFFICERS.items()
    }
    for user in (ana, people["rosa"]):
        await user.send("/ayuda")
    bot = await make_bot()
    await bot.settle()
    await bot.appoint(ana)
    world = await build_world(bot.s, {key: user.id for key, user in people.items()})
    await bot.restart()  # the coordinator's command menu is set at start
    assert "reporte" in [c for c, _ in fake.commands_for(ana.id)]
    assert "reporte" not in [c for c, _ in fake.commands_for(people["rosa"].id)]
    year = world.year
    shipped = len(bot.s.content.entities) + 1

    # the summary
    [summary] = await say(bot, ana, "/reporte")
    text = summary.text or ""
    assert f"Reporte {year}" in text
    assert f"Entidades con al menos un oficial aprobado: 3 de {shipped}" in text
    assert "Oficiales aprobados: 4 · Registros pendientes: 2" in text
    assert "Recibidas: 6 · Abiertas: 5 · Cerradas: 1" in text
    assert "Abiertas y vencidas sin respuesta: 1" in text
    assert "Mediana hasta la primera respuesta: 20.0 horas" in text
    assert (
        "Sesiones realizadas: 3 · Convocados: 7 · Confirmaron: 4 · Asistieron: 3 (42.9 %)" in text
    )
    assert "con al menos un asistente: 1 de 2 (50.0 %)" in text
    assert summary.buttons == ["Cobertura", "Solicitudes", "Asistencia", "📊 Descargar Excel"]

    def current() -> str:
        message = fake.message(summary.chat_id, summary.message_id)
        assert message is not None
        return message.text or ""

    # Cobertura: levels, then the networks page by page
    await press(bot, ana, "Cobertura", message=summary)
    text = current()
    assert "Cobertura del directorio" in text and "Por nivel de gobierno" in text
    assert "• Poder Judicial: 0 de 1 (0.0 %) · 0 oficiales · 1 pendiente" in text
    assert f"Total: 3 de {shipped} ({300 / shipped:.1f} %)" in text
    entities = bot.s.content.entities
    in_salud = sum(1 for e in entities if e.network == "red-salud")  # MINSA and attached bodies
    minem = sum(1 for e in entities if e.network == "red-energia-minas")
    assert f"• Salud: 1 de {in_salud} ({100 / in_salud:.1f} %) · 2 oficiales · 0 pendientes" in text
    assert f"⚠️ Energía y Minas: 0 de {minem} (0.0 %)" in text
    assert "(página 1 de 3)" in text and "GR Cusco" not in text
    await press(bot, ana, "Siguiente »", message=summary)
    text = current()
    assert "(página 2 de 3)" in text
    assert "• GR Cusco: 1 de 1 (100.0 %) · 1 oficial · 1 pendiente" in text
    await press(bot, ana, "Siguiente »", message=summary)
    assert "Sin red asignada (Gobiernos Locales): 0 de 1" in current()
    assert "Siguiente »" not in fake.message(summary.chat_id, summary.message_id).buttons
    await press(bot, ana, "⬅️ Resumen", message=summary)
    assert f"Reporte {year}" in current() and "Recibidas: 6" in current()

    # Solicitudes
    await press(bot, ana, "Solicitudes", message=summary)
    text = current()
    for line in (
        "• Nueva: 2",
        "• Reunión programada: 1",
        "• Cerrada: 1",
        "• Asignada: 0",
        "• 7. Canal de Denuncias: 2",
        "• 2. Gestión de Riesgos: 2",
        "• Otro tema: 1",
        "• Red de Integridad de Salud: 2",
        "• Poder Judicial: 1",
        "Con primera respuesta: 4 · Mediana hasta la primera respuesta: 20.0 horas",
    ):
        assert line in text, line
    await press(bot, ana, "⬅️ Resumen", message=summary)

    # Asistencia
    await press(bot, ana, "Asistencia", message=summary)
    text = current()
    assert TITLES["group"] in text and TITLES["sectoral"] in text and TITLES["empty"] in text
    for absent in ("cancelled", "last_year", "future"):
        assert TITLES[absent] not in text, absent
    assert "Convocados: 4 · Confirmaron: 2 · No podían: 1 · Asistieron: 2" in text
    assert "Entidades con asistentes: 1 de 2 (50.0 %)" in text
    assert "Entidades con asistentes: 0 de 0 (—)" in text
    await press(bot, ana, "⬅️ Resumen", message=summary)

    # the workbook
    record = await ana.press("📊 Descargar Excel", message=summary)
    await bot.settle()
    assert record.answered and "Preparando" in (record.answer_text or "")
    document = ana.last.document
    assert document is not None and document.filename == f"reporte-{year}.xlsx"
    assert f"Reporte {year}" in (ana.last.caption or "")
    book = openpyxl.load_workbook(io.BytesIO(document.content))
    assert book.sheetnames == ["Cobertura", "Solicitudes", "Asistencia"]
    coverage, requests, attendance = (book[name] for name in book.sheetnames)
    assert coverage["A1"].value == "Nivel de gobierno" and coverage["A1"].font.bold
    rows = list(coverage.iter_rows(values_only=True))
    total = next(r for r in rows if r[0] == "Total")
    assert total[1:6] == (shipped, 3, pytest.approx(3 / shipped), 4, 2)
    salud = next(r for r in rows if r[1] == "Red de Integridad de Salud")
    assert salud[:7] == (
        "Poder Ejecutivo",
        "Red de Integridad de Salud",
        in_salud,
        1,
        pytest.approx(1 / in_salud),
        2,
        0,
    )
    network_header = next(i for i, r in enumerate(rows, start=1) if r[1] == "Red de integridad")
    assert coverage.cell(row=network_header, column=2).font.bold
    assert coverage.cell(row=network_header + 1, column=5).number_format == "0.0%"
    assert len(coverage._charts) == 1  # coverage by network
    figures = {r[0]: r[1] for r in requests.iter_rows(values_only=True) if r[0]}
    assert figures["Solicitudes del año"] == 6 and figures["Abiertas y vencidas sin respuesta"] == 1
    assert figures["Mediana de horas hasta la primera respuesta"] == 20.0
    assert figures["7. Canal de Denuncias"] == 2 and figures["Otro tema"] == 1
    assert figures["Nueva"] == 2 and requests["A1"].font.bold
    assert len(requests._charts) == 1  # requests by component
    rows = list(attendance.iter_rows(values_only=True))
    assert rows[0][:4] == ("Fecha (hora de Lima)", "Sesión", "Tipo", "Obligatoria")
    assert [r[1] for r in rows[1:4]] == [TITLES["group"], TITLES["sectoral"], TITLES["empty"]]
    assert isinstance(rows[1][0], datetime)
    assert rows[2][2:12] == (
        "Sectorial (obligatoria)",
        "Sí",
        3,
        2,
        0,
        1,
        pytest.approx(1 / 3),
        2,
        1,
        0.5,
    )
    assert rows[4][0] == "Total" and rows[4][4:8] == (7, 4, 1, 3)
    assert len(attendance._charts) == 1

    # a year typed badly, a year out of range, another year
    first, last = FIRST_YEAR, year
    for typed in ("20x5", "1999", str(year + 1), "2025 xlsx"):
        [reply] = await say(bot, ana, f"/reporte {typed}")
        assert f"entre {first} y {last}" in (reply.text or ""), typed
    [older] = await say(bot, ana, f"/reporte {year - 1}")
    assert f"Reporte {year - 1}" in (older.text or "") and "Recibidas: 1 ·" in (older.text or "")

    # stale or forged data from the coordinator: refused without a crash
    for data in (f"rp:c:{FIRST_YEAR - 1}:0", f"rp:zz:{year}", f"rp:c:{year}:x", "rp"):
        record = await ana.press_data(data, summary.message_id)
        await bot.settle()
        assert record.answered and "ya no está vigente" in (record.answer_text or ""), data

    # an officer: refused at the command and at every forged press, and shown nothing
    rosa = people["rosa"]
    [refusal] = await say(bot, rosa, "/reporte")
    assert "solo para coordinadores" in (refusal.text or "")
    before = len(rosa.messages)
    for view in (
        f"s:{year}",
        f"c:{year}:0",
        f"c:{year}:1",
        f"r:{year}",
        f"a:{year}:0",
        f"x:{year}",
    ):
        record = await rosa.press_data(f"rp:{view}", refusal.message_id)
        await bot.settle()
        assert record.answered and record.alert, view
        assert "solo para coordinadores" in (record.answer_text or ""), view
    assert len(rosa.messages) == before and fake.sent_documents(rosa.chat_id) == []
    assert all("Reporte" not in (m.text or "") for m in rosa.messages)
    assert fake.errors() == [] and fake.unanswered_callback_queries() == []


# ---------------------------------------------------------------------- the command line


async def test_export_reporte_command(
    services: Services, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if not services.db.url.startswith("sqlite"):
        pytest.skip("the command is exercised on the SQLite file")
    world = await build_world(services, {key: 6000 + i for i, key in enumerate(OFFICERS)})
    monkeypatch.setenv("DATABASE_URL", services.db.url)
    monkeypatch.chdir(tmp_path)
    result = await asyncio.to_thread(CliRunner().invoke, cli_app, ["export", "reporte"])
    assert result.exit_code == 0, result.output
    default = tmp_path / f"reporte-{world.year}.xlsx"
    assert default.is_file() and f"Reporte {world.year}" in result.output
    target = tmp_path / "anterior.xlsx"
    result = await asyncio.to_thread(
        CliRunner().invoke,
        cli_app,
        ["export", "reporte", "--year", str(world.year - 1), "--output", str(target)],
    )
    assert result.exit_code == 0, result.output
    book = openpyxl.load_workbook(target)
    figures = {r[0]: r[1] for r in book["Solicitudes"].iter_rows(values_only=True) if r[0]}
    assert figures["Solicitudes del año"] == 1
    assert [r[1] for r in book["Asistencia"].iter_rows(min_row=2, values_only=True)] == [
        TITLES["last_year"],
        None,
    ]
    bad = await asyncio.to_thread(
        CliRunner().invoke, cli_app, ["export", "reporte", "--year", "1999"]
    )
    assert bad.exit_code == 2 and f"entre {FIRST_YEAR} y {world.year}" in bad.output
