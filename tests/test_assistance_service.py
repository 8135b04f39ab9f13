"""The assistance-request service on a real database (SQLite and PostgreSQL): ticket codes under
concurrency, the conditional updates, the overdue rule, canned replies and the exports read back
with the csv module and openpyxl, row by row; and the ``export solicitudes`` command."""

from __future__ import annotations

import asyncio
import csv
import io
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import openpyxl
import pytest
from sqlalchemy import update
from typer.testing import CliRunner

from bot.assistance import (
    AssistanceService,
    Meeting,
    Outcome,
    RequestDraft,
    add_working_days,
    load_canned_replies,
    parse_code,
)
from bot.cli import app as cli_app
from bot.db import Database, utcnow
from bot.models import AssistanceRequest
from bot.request_export import export_bytes
from bot.services import Services
from bot.settings import DEFAULT_CONTENT_DIR

LIMA = ZoneInfo("America/Lima")


async def _entity_id(services: Services, query: str) -> int:
    [match, *_] = await services.entities.search(query, limit=1)
    return int(match.id)


def _draft(entity_id: int, **values: object) -> RequestDraft:
    base: dict[str, object] = {"entity_id": entity_id, "topic": "Consulta", "channel": "virtual"}
    base.update(values)
    return RequestDraft(**base)  # type: ignore[arg-type]


async def test_codes_are_sequential_and_unique_under_concurrency(services: Services) -> None:
    entity = await _entity_id(services, "minsa")
    created = await asyncio.gather(
        *[
            services.assistance.create(
                _draft(entity, topic=f"Consulta {i}"), actor_id=None, actor_name=None
            )
            for i in range(25)
        ]
    )
    year = utcnow().astimezone(LIMA).year
    codes = sorted(v.code for v in created)
    assert codes == [f"AT-{year}-{n:04d}" for n in range(1, 26)]
    assert len({v.request.id for v in created}) == 25
    if services.db.url.startswith("sqlite"):
        # another process (a second engine on the same file) keeps counting from the maximum
        other = Database(services.db.url)
        try:
            view = await AssistanceService(other, LIMA).create(
                _draft(entity), actor_id=None, actor_name=None
            )
        finally:
            await other.dispose()
        assert view.code == f"AT-{year}-0026"


async def test_codes_restart_each_year(services: Services) -> None:
    entity = await _entity_id(services, "minsa")
    first = await services.assistance.create(_draft(entity), actor_id=None, actor_name=None)
    async with services.db.session() as s:  # as if it had been filed last year
        await s.execute(
            update(AssistanceRequest)
            .where(AssistanceRequest.id == first.request.id)  # type: ignore[arg-type]
            .values(year=first.request.year - 1, number=7, code=f"AT-{first.request.year - 1}-0007")
        )
    second = await services.assistance.create(_draft(entity), actor_id=None, actor_name=None)
    assert second.code.endswith("-0001") and second.request.year == first.request.year


async def test_two_takes_at_once_one_wins(services: Services) -> None:
    entity = await _entity_id(services, "mef")
    view = await services.assistance.create(_draft(entity), actor_id=None, actor_name=None)
    rid = view.request.id or 0
    results = await asyncio.gather(
        *[services.assistance.take(rid, 1000 + i, f"Coordinador {i}") for i in range(6)]
    )
    winners = [r for r in results if r.outcome is Outcome.DONE]
    assert len(winners) == 1
    winner = winners[0].view
    assert winner is not None
    losers = [r for r in results if r.outcome is not Outcome.DONE]
    assert {r.outcome for r in losers} == {Outcome.TAKEN}
    assert {r.by_name for r in losers} == {winner.request.assignee_name}
    history = await services.assistance.history(rid)
    assert [e.kind for e in history] == ["created", "taken"]
    assert winner.request.version == 1


async def test_concurrent_changes_are_not_lost(services: Services) -> None:
    entity = await _entity_id(services, "mef")
    view = await services.assistance.create(_draft(entity), actor_id=None, actor_name=None)
    rid = view.request.id or 0
    await asyncio.gather(
        services.assistance.answer(rid, 1, "Ana", "Primera respuesta"),
        services.assistance.wait_for_entity(rid, 2, "Beto", "Envíe el informe"),
        services.assistance.answer(rid, 1, "Ana", "Segunda respuesta"),
    )
    history = await services.assistance.history(rid)
    assert sorted(e.text or "" for e in history if e.kind != "created") == [
        "Envíe el informe",
        "Primera respuesta",
        "Segunda respuesta",
    ]
    final = await services.assistance.get(rid)
    assert final is not None and final.request.version == 3


async def test_transitions_and_refusals(services: Services) -> None:
    entity = await _entity_id(services, "minsa")
    view = await services.assistance.create(_draft(entity), actor_id=None, actor_name=None)
    rid = view.request.id or 0
    assert (await services.assistance.reopen(rid, 1, "Ana")).outcome is Outcome.NOT_CLOSED
    answered = await services.assistance.answer(rid, 1, "Ana", "Hola")
    assert answered.view is not None
    assert answered.view.request.status == "answered"
    assert answered.view.request.assignee_name == "Ana"  # answering assigns
    assert answered.view.request.first_response_at is not None
    closed = await services.assistance.close(rid, 2, "Beto", "Resuelta", [])
    assert closed.view is not None and closed.view.request.status == "closed"
    for change in (
        await services.assistance.take(rid, 3, "Carla"),
        await services.assistance.answer(rid, 1, "Ana", "Otra"),
        await services.assistance.close(rid, 1, "Ana", "Otra", []),
        await services.assistance.add_info(rid, 0, 5, None, "x"),
    ):
        assert change.outcome in (Outcome.CLOSED, Outcome.NOT_FOUND)
    reopened = await services.assistance.reopen(rid, 2, "Beto")
    assert reopened.view is not None and reopened.view.request.status == "assigned"
    assert reopened.view.request.closed_at is None
    assert (await services.assistance.take(999_999, 1, "Ana")).outcome is Outcome.NOT_FOUND


async def test_meeting_moved_keeps_uid_and_raises_sequence(services: Services) -> None:
    entity = await _entity_id(services, "minsa")
    view = await services.assistance.create(_draft(entity), actor_id=None, actor_name=None)
    rid = view.request.id or 0
    start = utcnow().replace(microsecond=0) + timedelta(days=5)
    meeting = Meeting(start, "presencial", "Jr. Carabaya 1, sala 3", "Asistencia", "Consulta")
    first = await services.assistance.schedule(rid, 1, "Ana", meeting)
    assert first.view is not None and first.view.session is not None
    uid = first.view.session.uid
    moved = await services.assistance.schedule(
        rid,
        1,
        "Ana",
        Meeting(
            start + timedelta(days=1), "virtual", "https://meet.example/x", "Asistencia", "Consulta"
        ),
    )
    assert moved.meeting_moved and moved.view is not None and moved.view.session is not None
    session = moved.view.session
    assert session.uid == uid and session.sequence == 1
    assert session.link == "https://meet.example/x" and session.place is None
    assert session.start_at == start + timedelta(days=1)
    assert session.audience == {"entities": [entity]}  # no officer: the entity


def test_parse_code() -> None:
    assert parse_code("AT-2026-0001") == (2026, 1)
    assert parse_code(" at-2026-12 ") == (2026, 12)
    assert parse_code("AT 2026 0003") == (2026, 3)
    for bad in ("", "AT-26-1", "2026-0001", "AT-2026-", "AT-2026-0001; DROP TABLE"):
        assert parse_code(bad) is None, bad


def test_working_days_skip_weekends() -> None:
    friday = datetime(2026, 4, 17, 15, 0, tzinfo=UTC)  # Friday 10:00 in Lima
    assert add_working_days(friday, 3, LIMA).strftime("%a %d %H") == "Wed 22 10"
    saturday = datetime(2026, 4, 18, 15, 0, tzinfo=UTC)
    assert add_working_days(saturday, 1, LIMA).strftime("%a %d") == "Mon 20"


async def test_working_days_skip_the_plans_holidays(services: Services) -> None:
    # Wednesday 2026-07-22 10:00 in Lima; 23 July is a holiday, then the weekend, then 28 and 29
    # July (Fiestas Patrias): three working days later is Monday 27, then Thursday 30.
    wednesday = datetime(2026, 7, 22, 15, 0, tzinfo=UTC)
    holidays = services.assistance.holidays
    assert {date(2026, 7, 23), date(2026, 7, 28), date(2026, 7, 29)} <= holidays
    assert add_working_days(wednesday, 1, LIMA, holidays).strftime("%a %d") == "Fri 24"
    assert add_working_days(wednesday, 2, LIMA, holidays).strftime("%a %d") == "Mon 27"
    assert add_working_days(wednesday, 3, LIMA, holidays).strftime("%a %d %H") == "Thu 30 10"
    assert add_working_days(wednesday, 3, LIMA).strftime("%a %d") == "Mon 27"


async def test_overdue_after_configured_working_days(services: Services) -> None:
    entity = await _entity_id(services, "minsa")
    view = await services.assistance.create(_draft(entity), actor_id=None, actor_name=None)
    request = view.request
    request.created_at = datetime(2026, 4, 17, 15, 0, tzinfo=UTC)  # Friday
    service = AssistanceService(services.db, LIMA, overdue_days=3)
    assert not service.overdue(request, datetime(2026, 4, 22, 14, 59, tzinfo=UTC))
    assert service.overdue(request, datetime(2026, 4, 22, 15, 1, tzinfo=UTC))
    request.first_response_at = datetime(2026, 4, 18, tzinfo=UTC)
    assert not service.overdue(request, datetime(2026, 5, 1, tzinfo=UTC))


def test_canned_replies_checked(tmp_path: Path) -> None:
    replies, problems = load_canned_replies(DEFAULT_CONTENT_DIR)
    assert problems == [] and len(replies) >= 3
    (tmp_path / "assistance").mkdir()
    (tmp_path / "assistance" / "canned_replies.yaml").write_text(
        "replies:\n  - {id: a, title: Uno, text: Hola}\n  - {id: a, title: '', text: ''}\n"
        "  - {id: 'B C', title: x, text: " + "y" * 2001 + "}\n",
        encoding="utf-8",
    )
    replies, problems = load_canned_replies(tmp_path)
    messages = sorted(p.message for p in problems)
    assert replies == []
    assert "duplicate id" in messages and any("title" in m for m in messages)
    assert any("id must match" in m for m in messages)
    assert sum("text must be" in m for m in messages) == 2
    assert load_canned_replies(tmp_path / "nothing")[1][0].message == "file missing"


async def _export_fixture(services: Services) -> list[str]:
    minsa = await _entity_id(services, "minsa")
    cusco = await _entity_id(services, "gobierno regional de cusco")
    a = await services.assistance.create(
        _draft(minsa, component=7, channel="presencial"), actor_id=None, actor_name=None
    )
    b = await services.assistance.create(
        _draft(cusco, component=None, channel="correo", source="phone"),
        actor_id=1,
        actor_name="Ana",
    )
    await services.assistance.take(a.request.id or 0, 1, "Ana Coordinadora")
    await services.assistance.answer(a.request.id or 0, 1, "Ana Coordinadora", "Respuesta")
    await services.assistance.close(b.request.id or 0, 2, "Beto Coordinador", "Listo", [])
    # known times, to check the hours
    created = datetime(2026, 3, 2, 13, 0, tzinfo=UTC)  # 08:00 in Lima
    async with services.db.session() as s:
        await s.execute(
            update(AssistanceRequest)
            .where(AssistanceRequest.id == a.request.id)  # type: ignore[arg-type]
            .values(created_at=created, first_response_at=created + timedelta(hours=26, minutes=30))
        )
        await s.execute(
            update(AssistanceRequest)
            .where(AssistanceRequest.id == b.request.id)  # type: ignore[arg-type]
            .values(
                created_at=created,
                first_response_at=created + timedelta(hours=3),
                closed_at=created + timedelta(hours=3),
            )
        )
    return [a.code, b.code]


EXPECTED_HEADER = [
    "Código",
    "Fecha de registro (hora de Lima)",
    "Fecha de primera respuesta (hora de Lima)",
    "Fecha de cierre (hora de Lima)",
    "Entidad",
    "Red de integridad",
    "Nivel de gobierno",
    "Componente",
    "Canal preferido",
    "Origen",
    "Estado",
    "Responsable SIP",
    "Tiempo a primera respuesta (horas)",
    "Tiempo de resolución (horas)",
]


def _expected_rows(codes: list[str]) -> list[list[str]]:
    return [
        [
            codes[0],
            "2026-03-02 08:00",
            "2026-03-03 10:30",
            "",
            "Ministerio de Salud",
            "Red de Integridad de Salud",
            "Poder Ejecutivo",
            "Canal de denuncias",
            "Presencial",
            "Bot",
            "Respondida",
            "Ana Coordinadora",
            "26.5",
            "",
        ],
        [
            codes[1],
            "2026-03-02 08:00",
            "2026-03-02 11:00",
            "2026-03-02 11:00",
            "Gobierno Regional de Cusco",
            "Red de Integridad del Gobierno Regional de Cusco",
            "Gobiernos Regionales",
            "Otro tema",
            "Correo electrónico",
            "Teléfono",
            "Cerrada",
            "Beto Coordinador",
            "3.0",
            "3.0",
        ],
    ]


async def test_csv_export_read_back(services: Services) -> None:
    codes = await _export_fixture(services)
    records = await services.assistance.export()
    data = export_bytes("csv", records, services.content.catalog, services.texts, LIMA)
    assert data.startswith(b"\xef\xbb\xbf")  # BOM: Excel reads the accents
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows[0] == EXPECTED_HEADER
    assert len(rows) == 3
    expected = _expected_rows(codes)
    for got, want in zip(rows[1:], expected, strict=True):
        for column, (g, w) in enumerate(zip(got, want, strict=True)):
            assert g == w, (EXPECTED_HEADER[column], g, w)
    other_year = await services.assistance.export(2001)
    assert other_year == []


async def test_xlsx_export_read_back(services: Services) -> None:
    codes = await _export_fixture(services)
    records = await services.assistance.export(utcnow().astimezone(LIMA).year)
    data = export_bytes("xlsx", records, services.content.catalog, services.texts, LIMA)
    sheet = openpyxl.load_workbook(io.BytesIO(data)).active
    assert sheet is not None and sheet.title == "Solicitudes"
    rows = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert rows[0] == EXPECTED_HEADER
    assert [r[0] for r in rows[1:]] == codes
    first, second = rows[1], rows[2]
    assert first[1] == datetime(2026, 3, 2, 8, 0) and first[2] == datetime(2026, 3, 3, 10, 30)
    assert first[3] is None and first[12] == 26.5 and first[13] is None
    assert first[4:12] == [
        "Ministerio de Salud",
        "Red de Integridad de Salud",
        "Poder Ejecutivo",
        "Canal de denuncias",
        "Presencial",
        "Bot",
        "Respondida",
        "Ana Coordinadora",
    ]
    assert second[3] == datetime(2026, 3, 2, 11, 0) and second[12] == 3.0 and second[13] == 3.0
    assert second[7:12] == [
        "Otro tema",
        "Correo electrónico",
        "Teléfono",
        "Cerrada",
        "Beto Coordinador",
    ]


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
async def test_export_command(
    services: Services, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fmt: str
) -> None:
    codes = await _export_fixture(services)
    if not services.db.url.startswith("sqlite"):
        pytest.skip("the command is exercised on the SQLite file")
    monkeypatch.setenv("DATABASE_URL", services.db.url)
    monkeypatch.chdir(tmp_path)
    target = tmp_path / f"out.{fmt}"
    result = await asyncio.to_thread(
        CliRunner().invoke,
        cli_app,
        ["export", "solicitudes", "--format", fmt, "--output", str(target)],
    )
    assert result.exit_code == 0, result.output
    assert "Solicitudes exportadas: 2" in result.output
    if fmt == "csv":
        rows = list(csv.reader(target.read_text(encoding="utf-8-sig").splitlines()))
        assert [r[0] for r in rows] == ["Código", *codes]
    else:
        sheet = openpyxl.load_workbook(target).active
        assert sheet is not None
        assert [r[0] for r in sheet.iter_rows(values_only=True)] == ["Código", *codes]
    bad = await asyncio.to_thread(
        CliRunner().invoke, cli_app, ["export", "solicitudes", "--format", "pdf"]
    )
    assert bad.exit_code == 2 and "csv" in bad.output
