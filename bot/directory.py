"""Imports run from the command line: SIP's list of entities and its directory of officers."""

from __future__ import annotations

import asyncio
import csv
import io
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import func, select

from bot.catalog import parse_entities_csv
from bot.content import Content
from bot.content_problems import ContentProblem
from bot.db import Database
from bot.entities import EntityDirectory, ImportReport
from bot.invitations import InvitationService
from bot.models import Entity, InvitationKind, Officer, OfficerStatus
from bot.settings import Settings
from bot.texts import format_lima
from bot.validation import check_email, check_name, check_position

OFFICER_COLUMNS = ("nombre", "entidad", "correo", "cargo")
OUTPUT_COLUMNS = ("nombre", "correo", "entidad", "enlace", "vence")


@dataclass
class DirectoryReport:
    invited: int = 0
    reissued: int = 0
    skipped: list[str] = field(default_factory=list)
    rejected: list[ContentProblem] = field(default_factory=list)


def _fold(text: str) -> str:
    text = unicodedata.normalize("NFKD", text.casefold())
    return " ".join("".join(c for c in text if not unicodedata.combining(c)).split())


async def import_entities(
    db: Database, content: Content, file: Path, *, dry_run: bool = False
) -> ImportReport:
    """Validate the whole file first; apply it in one transaction only if every row is valid."""
    rows, problems = parse_entities_csv(file, content.catalog)
    if problems:
        return ImportReport(rejected=problems)
    if dry_run:
        report = ImportReport()
        async with db.session() as session:
            known = set((await session.execute(select(Entity.code))).scalars())
        for row in rows:
            if row.code in known:
                report.updated += 1
            else:
                report.added += 1
        return report
    return await EntityDirectory(db, content.catalog).upsert(rows)


async def import_officers(
    db: Database, settings: Settings, file: Path, output: Path, bot_username: str
) -> DirectoryReport:
    """Invite SIP's directory: one officer row (status invited) and one personal link each."""
    report = DirectoryReport()
    text = await asyncio.to_thread(file.read_text, encoding="utf-8-sig")
    reader = csv.DictReader(io.StringIO(text))
    header = [h.strip().lower() for h in (reader.fieldnames or [])]
    missing = [c for c in OFFICER_COLUMNS if c not in header]
    if missing:
        report.rejected.append(
            ContentProblem(file.name, "línea 1", f"faltan columnas: {', '.join(missing)}")
        )
        return report
    async with db.session() as session:
        entities = list((await session.execute(select(Entity))).scalars())
    by_code = {e.code.casefold(): e for e in entities}
    by_name = {_fold(e.name): e for e in entities}
    by_acronym = {_fold(e.acronym): e for e in entities if e.acronym}
    parsed: list[tuple[int, str, Entity, str, str]] = []
    seen: set[tuple[int, str]] = set()
    for line, raw in enumerate(reader, start=2):
        row = {(k or "").strip().lower(): (v or "").strip() for k, v in raw.items()}
        where = f"línea {line}"
        name = check_name(row.get("nombre", ""))
        email = check_email(row.get("correo", ""))
        position = check_position(row.get("cargo", ""))
        key = row.get("entidad", "")
        entity = (
            by_code.get(key.casefold()) or by_name.get(_fold(key)) or by_acronym.get(_fold(key))
        )
        reasons = []
        if not name.ok:
            reasons.append(f"nombre no válido: {row.get('nombre', '')!r}")
        if not email.ok:
            reasons.append(f"correo no válido: {row.get('correo', '')!r}")
        if not position.ok:
            reasons.append(f"cargo no válido: {row.get('cargo', '')!r}")
        if entity is None:
            reasons.append(f"entidad desconocida: {key!r}")
        if reasons:
            report.rejected.append(ContentProblem(file.name, where, "; ".join(reasons)))
            continue
        assert entity is not None and entity.id is not None
        assert name.value and email.value and position.value
        if (entity.id, email.value.casefold()) in seen:
            report.rejected.append(
                ContentProblem(file.name, where, f"fila repetida: {email.value}")
            )
            continue
        seen.add((entity.id, email.value.casefold()))
        parsed.append((line, name.value, entity, email.value, position.value))
    if report.rejected:
        return report
    invitations = InvitationService(db, settings.invitation_ttl_days)
    out_rows: list[dict[str, str]] = []
    async with db.session() as session:
        for _line, name_v, entity, email_v, position_v in parsed:
            existing = (
                (
                    await session.execute(
                        select(Officer).where(
                            Officer.entity_id == entity.id,  # type: ignore[arg-type]
                            func.lower(Officer.email) == email_v.casefold(),
                        )
                    )
                )
                .scalars()
                .all()
            )
            active = [
                o
                for o in existing
                if o.status in (OfficerStatus.APPROVED.value, OfficerStatus.PENDING.value)
            ]
            if active:
                report.skipped.append(email_v)
                continue
            invited = next(
                (o for o in existing if o.status == OfficerStatus.INVITED.value), None
            )
            if invited is None:
                invited = Officer(
                    entity_id=entity.id or 0,
                    status=OfficerStatus.INVITED.value,
                    source="personal_link",
                )
                session.add(invited)
                report.invited += 1
            else:
                await invitations.revoke_for_officer(session, invited.id or 0)
                report.reissued += 1
            invited.full_name = name_v
            invited.position = position_v
            invited.email = email_v
            await session.flush()
            issued = await invitations.issue(
                InvitationKind.PERSONAL,
                entity_id=entity.id,
                officer_id=invited.id,
                session=session,
            )
            out_rows.append(
                {
                    "nombre": name_v,
                    "correo": email_v,
                    "entidad": entity.name,
                    "enlace": issued.link(bot_username),
                    "vence": format_lima(issued.invitation.expires_at, settings.tz),
                }
            )
        output.parent.mkdir(parents=True, exist_ok=True)
        with output.open("w", encoding="utf-8", newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=OUTPUT_COLUMNS)
            writer.writeheader()
            writer.writerows(out_rows)
    return report
