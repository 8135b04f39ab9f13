"""Individual assistance requests: intake with a ticket code, triage transitions, history,
queries and the overdue rule. Knows nothing of Telegram.

Ticket codes ``AT-AAAA-NNNN`` are sequential per year (Lima time): the next number is
``max + 1`` read inside the inserting transaction, and a unique violation (two creations at
once) retries with the new maximum; on PostgreSQL a transaction-scoped advisory lock per year
serialises the creations so they do not need to retry.

Every change is a conditional ``UPDATE … WHERE version = :seen`` so two coordinators acting at
once never overwrite each other: the loser re-reads the request and is told what happened (e.g.
who took it).
"""

from __future__ import annotations

import asyncio
import random
import re
from collections.abc import Callable
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Any
from uuid import uuid4
from zoneinfo import ZoneInfo

import yaml
from sqlalchemy import func, select, text, update
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.content_problems import ContentProblem
from bot.db import Database, utcnow
from bot.models import (
    AssistanceRequest,
    Entity,
    Officer,
    OfficerStatus,
    RequestEvent,
    RequestStatus,
    RsvpResponse,
    Session,
    SessionInvite,
    SessionKind,
    SessionStatus,
)
from scheduling.reminders import plan_reminders

TOPIC_MAX = 2000
AVAILABILITY_MAX = 500
MESSAGE_MAX = 2000
WHERE_MAX = 500
CHANNELS = ("presencial", "virtual", "correo", "llamada")
MEETING_MODALITIES = ("presencial", "virtual", "llamada")
SOURCES = ("bot", "phone", "email", "faq")
COMPONENTS = range(1, 10)
MEETING_LENGTH = timedelta(hours=1)
FILTERS = ("abiertas", "mias", "todas")
OPEN = tuple(s.value for s in RequestStatus if s is not RequestStatus.CLOSED)
CODE_RE = re.compile(r"^\s*AT\s*-?\s*(\d{4})\s*-?\s*(\d{1,6})\s*$", re.IGNORECASE)
_URL_RE = re.compile(r"^(https?://|www\.)\S+$", re.IGNORECASE)
_CREATE_ATTEMPTS = 30
_CODE_LOCK_BASE = 0x41540000  # "AT" + the year: the advisory lock of the year's counter
_CHANGE_ATTEMPTS = 8


def format_code(year: int, number: int) -> str:
    return f"AT-{year}-{number:04d}"


def parse_code(text: str) -> tuple[int, int] | None:
    """``AT-2026-0001`` (also ``at-2026-1``, ``AT 2026 0001``) → (year, number)."""
    match = CODE_RE.match(text or "")
    if not match:
        return None
    return int(match.group(1)), int(match.group(2))


def clean_text(text: str) -> str:
    """Trim outer blank space and collapse runs of blank lines (keeps line breaks)."""
    lines = [line.rstrip() for line in (text or "").strip().splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines))


def add_working_days(
    start: datetime, days: int, tz: ZoneInfo, holidays: AbstractSet[date] = frozenset()
) -> datetime:
    """``start`` plus ``days`` working days (Monday to Friday in ``tz``, not ``holidays``), same
    time of day."""
    local = start.astimezone(tz)
    added = 0
    while added < days:
        local += timedelta(days=1)
        if local.weekday() < 5 and local.date() not in holidays:
            added += 1
    return local


class Outcome(StrEnum):
    DONE = "done"
    NOT_FOUND = "not_found"
    CLOSED = "closed"  # the request is closed: only Reabrir applies
    NOT_CLOSED = "not_closed"  # Reabrir on an open request
    TAKEN = "taken"  # someone else took it (``Change.by_name`` says who)
    ALREADY_YOURS = "already_yours"
    BUSY = "busy"  # still conflicting after several attempts (very unlikely)


@dataclass(frozen=True)
class RequestDraft:
    entity_id: int
    topic: str
    channel: str
    availability: str = ""
    component: int | None = None
    officer_id: int | None = None
    source: str = "bot"


@dataclass
class RequestView:
    request: AssistanceRequest
    entity: Entity
    officer: Officer | None = None
    session: Session | None = None

    @property
    def code(self) -> str:
        return self.request.code

    @property
    def is_open(self) -> bool:
        return self.request.status != RequestStatus.CLOSED.value

    @property
    def officer_chat_id(self) -> int | None:
        """Where to tell the officer about changes; None once they left or were removed."""
        officer = self.officer
        if officer is None or officer.status != OfficerStatus.APPROVED.value:
            return None
        return officer.telegram_user_id

    @property
    def officer_left(self) -> bool:
        return self.officer is not None and self.officer.status == OfficerStatus.DELETED.value


@dataclass
class Change:
    outcome: Outcome
    view: RequestView | None = None
    event: RequestEvent | None = None
    by_name: str | None = None  # for TAKEN: who has it
    meeting_cancelled: bool = False
    meeting_moved: bool = False

    @property
    def done(self) -> bool:
        return self.outcome is Outcome.DONE


@dataclass
class RequestPage:
    views: list[RequestView]
    page: int
    pages: int
    total: int


@dataclass(frozen=True)
class ExportRecord:
    code: str
    created_at: datetime
    first_response_at: datetime | None
    closed_at: datetime | None
    entity_name: str
    network: str | None
    level: str
    component: int | None
    channel: str
    source: str
    status: str
    assignee: str | None

    @property
    def first_response_hours(self) -> float | None:
        if self.first_response_at is None:
            return None
        return round((self.first_response_at - self.created_at).total_seconds() / 3600, 1)

    @property
    def resolution_hours(self) -> float | None:
        if self.closed_at is None:
            return None
        return round((self.closed_at - self.created_at).total_seconds() / 3600, 1)


@dataclass(frozen=True)
class Meeting:
    """What a coordinator typed for Programar."""

    start_at: datetime
    modality: str
    where: str | None
    title: str
    description: str
    offsets: list[timedelta] = field(default_factory=list)


Check = Callable[[AssistanceRequest], Outcome | None]
Values = Callable[[AssistanceRequest, datetime], dict[str, Any]]


class AssistanceService:
    def __init__(
        self,
        db: Database,
        tz: ZoneInfo,
        overdue_days: int = 3,
        holidays: AbstractSet[date] = frozenset(),
    ) -> None:
        self.db = db
        self.tz = tz
        self.overdue_days = overdue_days
        self.holidays = frozenset(holidays)  # the plan's national holidays: not working days

    # ------------------------------------------------------------------ intake

    async def create(
        self, draft: RequestDraft, *, actor_id: int | None, actor_name: str | None
    ) -> RequestView:
        """Record a request with the next code of the year; safe when many arrive at once."""
        if draft.channel not in CHANNELS or draft.source not in SOURCES:
            raise ValueError(f"bad channel or source: {draft.channel!r} {draft.source!r}")
        if draft.component is not None and draft.component not in COMPONENTS:
            raise ValueError(f"bad component: {draft.component!r}")
        for attempt in range(_CREATE_ATTEMPTS):
            now = utcnow()
            year = now.astimezone(self.tz).year
            try:
                async with self.db.session() as s:
                    if s.bind.dialect.name == "postgresql":
                        # one creation per year at a time (released at commit): no retries
                        await s.execute(
                            text("SELECT pg_advisory_xact_lock(:key)"),
                            {"key": _CODE_LOCK_BASE + year},
                        )
                    top = (
                        await s.execute(
                            select(func.max(AssistanceRequest.number)).where(
                                AssistanceRequest.year == year  # type: ignore[arg-type]
                            )
                        )
                    ).scalar()
                    number = int(top or 0) + 1
                    row = AssistanceRequest(
                        code=format_code(year, number),
                        year=year,
                        number=number,
                        officer_id=draft.officer_id,
                        entity_id=draft.entity_id,
                        component=draft.component,
                        topic=draft.topic[:TOPIC_MAX],
                        channel=draft.channel,
                        availability=draft.availability[:AVAILABILITY_MAX],
                        source=draft.source,
                        created_by=actor_id,
                        created_at=now,
                        updated_at=now,
                    )
                    s.add(row)
                    await s.flush()
                    s.add(
                        RequestEvent(
                            request_id=row.id or 0,
                            kind="created",
                            actor_telegram_id=actor_id,
                            actor_name=actor_name,
                            text=row.topic,
                            data={"source": draft.source},
                            created_at=now,
                        )
                    )
                    request_id = row.id or 0
            except (IntegrityError, OperationalError):
                await asyncio.sleep(random.uniform(0.001, 0.01 * (attempt + 1)))
                continue
            view = await self.get(request_id)
            assert view is not None
            return view
        raise RuntimeError("could not allocate a request code")

    # ------------------------------------------------------------------ reading

    async def get(self, request_id: int) -> RequestView | None:
        async with self.db.session() as s:
            row = await s.get(AssistanceRequest, request_id)
            return await self._view(s, row) if row is not None else None

    async def by_code(self, code: str) -> RequestView | None:
        parsed = parse_code(code)
        if parsed is None:
            return None
        async with self.db.session() as s:
            row = (
                await s.execute(
                    select(AssistanceRequest).where(
                        AssistanceRequest.year == parsed[0],  # type: ignore[arg-type]
                        AssistanceRequest.number == parsed[1],  # type: ignore[arg-type]
                    )
                )
            ).scalar_one_or_none()
            return await self._view(s, row) if row is not None else None

    async def for_officer(self, officer_id: int) -> list[RequestView]:
        async with self.db.session() as s:
            rows = (
                await s.execute(
                    select(AssistanceRequest)
                    .where(AssistanceRequest.officer_id == officer_id)  # type: ignore[arg-type]
                    .order_by(AssistanceRequest.created_at.desc(), AssistanceRequest.id.desc())  # type: ignore[attr-defined,union-attr]
                )
            ).scalars()
            return [await self._view(s, r) for r in rows]

    async def listing(
        self, which: str, user_id: int, page: int = 0, per_page: int = 8
    ) -> RequestPage:
        """``abiertas`` (oldest first), ``mias`` (open ones assigned to ``user_id``), ``todas``
        (newest first)."""
        conditions: list[Any] = []
        order: list[Any] = [AssistanceRequest.created_at, AssistanceRequest.id]
        if which in ("abiertas", "mias"):
            conditions.append(AssistanceRequest.status.in_(OPEN))  # type: ignore[attr-defined]
        if which == "mias":
            conditions.append(AssistanceRequest.assignee_telegram_id == user_id)
        if which == "todas":
            order = [AssistanceRequest.created_at.desc(), AssistanceRequest.id.desc()]  # type: ignore[attr-defined,union-attr]
        async with self.db.session() as s:
            total = int(
                (
                    await s.execute(
                        select(func.count()).select_from(AssistanceRequest).where(*conditions)
                    )
                ).scalar()
                or 0
            )
            pages = max(1, -(-total // per_page))
            page = min(max(page, 0), pages - 1)
            rows = (
                await s.execute(
                    select(AssistanceRequest)
                    .where(*conditions)
                    .order_by(*order)
                    .offset(page * per_page)
                    .limit(per_page)
                )
            ).scalars()
            views = [await self._view(s, r) for r in rows]
        return RequestPage(views, page, pages, total)

    async def history(self, request_id: int) -> list[RequestEvent]:
        async with self.db.session() as s:
            rows = await s.execute(
                select(RequestEvent)
                .where(RequestEvent.request_id == request_id)  # type: ignore[arg-type]
                .order_by(RequestEvent.created_at, RequestEvent.id)  # type: ignore[arg-type]
            )
            return list(rows.scalars())

    def overdue(self, request: AssistanceRequest, now: datetime | None = None) -> bool:
        """Open, not yet answered, and older than the configured working days."""
        if request.status == RequestStatus.CLOSED.value or request.first_response_at is not None:
            return False
        deadline = add_working_days(request.created_at, self.overdue_days, self.tz, self.holidays)
        return (now or utcnow()) > deadline

    async def export(self, year: int | None = None) -> list[ExportRecord]:
        async with self.db.session() as s:
            query = (
                select(AssistanceRequest, Entity)
                .join(Entity, Entity.id == AssistanceRequest.entity_id)  # type: ignore[arg-type]
                .order_by(AssistanceRequest.year, AssistanceRequest.number)  # type: ignore[arg-type]
            )
            if year is not None:
                query = query.where(AssistanceRequest.year == year)  # type: ignore[arg-type]
            rows = (await s.execute(query)).all()
        return [
            ExportRecord(
                code=r.code,
                created_at=r.created_at,
                first_response_at=r.first_response_at,
                closed_at=r.closed_at,
                entity_name=e.name,
                network=e.network,
                level=e.level,
                component=r.component,
                channel=r.channel,
                source=r.source,
                status=r.status,
                assignee=r.assignee_name,
            )
            for r, e in rows
        ]

    async def _view(self, s: AsyncSession, row: AssistanceRequest) -> RequestView:
        entity = await s.get(Entity, row.entity_id)
        assert entity is not None
        officer = await s.get(Officer, row.officer_id) if row.officer_id else None
        session = await s.get(Session, row.session_id) if row.session_id else None
        return RequestView(row, entity, officer, session)

    # ------------------------------------------------------------------ changes

    async def _change(
        self,
        request_id: int,
        *,
        kind: str,
        actor_id: int | None,
        actor_name: str | None,
        check: Check,
        values: Values,
        text: str | None = None,
        data: dict[str, Any] | None = None,
        after: Callable[[AsyncSession, AssistanceRequest, datetime], Any] | None = None,
    ) -> Change:
        """Read, check, ``UPDATE … WHERE version = seen``, record the event; retry when another
        change won the race (the check then sees the new state)."""
        for attempt in range(_CHANGE_ATTEMPTS):
            extra: Any = None
            try:
                async with self.db.session() as s:
                    row = await s.get(AssistanceRequest, request_id, populate_existing=True)
                    if row is None:
                        return Change(Outcome.NOT_FOUND)
                    refusal = check(row)
                    if refusal is not None:
                        return Change(refusal, await self._view(s, row), by_name=row.assignee_name)
                    now = utcnow()
                    seen = row.version
                    new_values = values(row, now)
                    new_values.update(version=seen + 1, updated_at=now)
                    result = await s.execute(
                        update(AssistanceRequest)
                        .where(
                            AssistanceRequest.id == request_id,  # type: ignore[arg-type]
                            AssistanceRequest.version == seen,  # type: ignore[arg-type]
                        )
                        .values(**new_values)
                        .execution_options(synchronize_session=False)
                    )
                    if result.rowcount != 1:
                        raise _Lost
                    row = await s.get(AssistanceRequest, request_id, populate_existing=True)
                    assert row is not None
                    if after is not None:
                        extra = await after(s, row, now)
                    event = RequestEvent(
                        request_id=request_id,
                        kind=kind,
                        actor_telegram_id=actor_id,
                        actor_name=actor_name,
                        text=text,
                        data=dict(data or {}),
                        created_at=now,
                    )
                    s.add(event)
                    await s.flush()
                    view = await self._view(s, row)
            except (_Lost, OperationalError):
                await asyncio.sleep(random.uniform(0.001, 0.01 * (attempt + 1)))
                continue
            change = Change(Outcome.DONE, view, event)
            if extra == "cancelled":
                change.meeting_cancelled = True
            elif extra == "moved":
                change.meeting_moved = True
            return change
        return Change(Outcome.BUSY)

    async def take(self, request_id: int, actor_id: int, actor_name: str) -> Change:
        def check(r: AssistanceRequest) -> Outcome | None:
            if r.status == RequestStatus.CLOSED.value:
                return Outcome.CLOSED
            if r.assignee_telegram_id == actor_id:
                return Outcome.ALREADY_YOURS
            if r.assignee_telegram_id is not None:
                return Outcome.TAKEN
            return None

        def values(r: AssistanceRequest, now: datetime) -> dict[str, Any]:
            status = RequestStatus.ASSIGNED.value if r.status == "new" else r.status
            return {
                "assignee_telegram_id": actor_id,
                "assignee_name": actor_name[:120],
                "status": status,
            }

        return await self._change(
            request_id,
            kind="taken",
            actor_id=actor_id,
            actor_name=actor_name,
            check=check,
            values=values,
        )

    def _respond(self, status: RequestStatus, actor_id: int, actor_name: str) -> Values:
        """A message to the officer: sets the status, the first response, and an assignee."""

        def values(r: AssistanceRequest, now: datetime) -> dict[str, Any]:
            out: dict[str, Any] = {"status": status.value}
            if r.first_response_at is None:
                out["first_response_at"] = now
            if r.assignee_telegram_id is None:
                out.update(assignee_telegram_id=actor_id, assignee_name=actor_name[:120])
            return out

        return values

    async def answer(self, request_id: int, actor_id: int, actor_name: str, text: str) -> Change:
        return await self._change(
            request_id,
            kind="answered",
            actor_id=actor_id,
            actor_name=actor_name,
            check=_open_only,
            values=self._respond(RequestStatus.ANSWERED, actor_id, actor_name),
            text=text[:MESSAGE_MAX],
        )

    async def wait_for_entity(
        self, request_id: int, actor_id: int, actor_name: str, text: str
    ) -> Change:
        return await self._change(
            request_id,
            kind="waiting",
            actor_id=actor_id,
            actor_name=actor_name,
            check=_open_only,
            values=self._respond(RequestStatus.WAITING, actor_id, actor_name),
            text=text[:MESSAGE_MAX],
        )

    async def schedule(
        self, request_id: int, actor_id: int, actor_name: str, meeting: Meeting
    ) -> Change:
        """Create the meeting (a Session of kind individual) or move the one already set."""
        is_link = bool(meeting.where and _URL_RE.match(meeting.where))

        async def after(s: AsyncSession, r: AssistanceRequest, now: datetime) -> str:
            session = await s.get(Session, r.session_id) if r.session_id else None
            outcome = "moved"
            if session is None:
                outcome = "created"
                session = Session(
                    uid=f"{uuid4().hex}@integridad-bot",
                    kind=SessionKind.INDIVIDUAL.value,
                    title=meeting.title,
                    start_at=meeting.start_at,
                    end_at=meeting.start_at + MEETING_LENGTH,
                    audience=(
                        {"officers": [r.officer_id]}
                        if r.officer_id
                        else {"entities": [r.entity_id]}
                    ),
                    created_by=actor_id,
                    convened_at=now,
                    created_at=now,
                )
                s.add(session)
            else:
                session.sequence += 1
                session.status = SessionStatus.SCHEDULED.value
                session.cancelled_at = None
                session.start_at = meeting.start_at
                session.end_at = meeting.start_at + MEETING_LENGTH
            session.title = meeting.title
            session.description = meeting.description
            session.components = [r.component] if r.component else []
            session.modality = meeting.modality
            session.link = meeting.where if is_link else None
            session.place = None if is_link else meeting.where
            session.edited_by = actor_id
            session.updated_at = now
            await s.flush()
            assert session.id is not None
            r.session_id = session.id
            await s.execute(
                update(AssistanceRequest)
                .where(AssistanceRequest.id == r.id)  # type: ignore[arg-type]
                .values(session_id=session.id)
                .execution_options(synchronize_session=False)
            )
            if r.officer_id:
                officer = await s.get(Officer, r.officer_id)
                invite = (
                    await s.execute(
                        select(SessionInvite).where(
                            SessionInvite.session_id == session.id,  # type: ignore[arg-type]
                            SessionInvite.officer_id == r.officer_id,  # type: ignore[arg-type]
                        )
                    )
                ).scalar_one_or_none()
                if (
                    invite is None
                    and officer is not None
                    and officer.status == OfficerStatus.APPROVED.value
                ):
                    s.add(
                        SessionInvite(
                            session_id=session.id,
                            officer_id=r.officer_id,
                            entity_id=r.entity_id,
                            response=RsvpResponse.YES.value,
                            responded_at=now,
                            invited_at=now,
                        )
                    )
                    await s.flush()
            await plan_reminders(s, session.id, meeting.offsets, now=now)
            return outcome

        return await self._change(
            request_id,
            kind="scheduled",
            actor_id=actor_id,
            actor_name=actor_name,
            check=_open_only,
            values=self._respond(RequestStatus.SCHEDULED, actor_id, actor_name),
            data={
                "start_at": meeting.start_at.isoformat(),
                "modality": meeting.modality,
                "where": meeting.where,
            },
            after=after,
        )

    async def close(
        self,
        request_id: int,
        actor_id: int,
        actor_name: str,
        resolution: str,
        offsets: list[timedelta],
    ) -> Change:
        """Close with a resolution; a meeting still ahead is cancelled (reminders dropped)."""

        def values(r: AssistanceRequest, now: datetime) -> dict[str, Any]:
            out: dict[str, Any] = {
                "status": RequestStatus.CLOSED.value,
                "closed_at": now,
                "resolution": resolution[:MESSAGE_MAX],
            }
            if r.first_response_at is None:
                out["first_response_at"] = now
            if r.assignee_telegram_id is None:
                out.update(assignee_telegram_id=actor_id, assignee_name=actor_name[:120])
            return out

        async def after(s: AsyncSession, r: AssistanceRequest, now: datetime) -> str | None:
            session = await s.get(Session, r.session_id) if r.session_id else None
            if (
                session is None
                or session.status != SessionStatus.SCHEDULED.value
                or session.start_at <= now
            ):
                return None
            session.status = SessionStatus.CANCELLED.value
            session.cancelled_at = now
            session.sequence += 1
            session.updated_at = now
            session.edited_by = actor_id
            await s.flush()
            await plan_reminders(s, session.id or 0, offsets, now=now)
            return "cancelled"

        return await self._change(
            request_id,
            kind="closed",
            actor_id=actor_id,
            actor_name=actor_name,
            check=_open_only,
            values=values,
            text=resolution[:MESSAGE_MAX],
            after=after,
        )

    async def reopen(self, request_id: int, actor_id: int, actor_name: str) -> Change:
        def check(r: AssistanceRequest) -> Outcome | None:
            return None if r.status == RequestStatus.CLOSED.value else Outcome.NOT_CLOSED

        def values(r: AssistanceRequest, now: datetime) -> dict[str, Any]:
            status = RequestStatus.ASSIGNED if r.assignee_telegram_id else RequestStatus.NEW
            return {"status": status.value, "closed_at": None, "resolution": None}

        return await self._change(
            request_id,
            kind="reopened",
            actor_id=actor_id,
            actor_name=actor_name,
            check=check,
            values=values,
        )

    async def add_info(
        self, request_id: int, officer_id: int, actor_id: int, actor_name: str | None, text: str
    ) -> Change:
        """The officer adds a message to their open request; a request waiting for the entity
        goes back to the coordinators."""

        def check(r: AssistanceRequest) -> Outcome | None:
            if r.officer_id != officer_id:
                return Outcome.NOT_FOUND
            return _open_only(r)

        def values(r: AssistanceRequest, now: datetime) -> dict[str, Any]:
            if r.status != RequestStatus.WAITING.value:
                return {}
            status = RequestStatus.ASSIGNED if r.assignee_telegram_id else RequestStatus.NEW
            return {"status": status.value}

        return await self._change(
            request_id,
            kind="info_added",
            actor_id=actor_id,
            actor_name=actor_name,
            check=check,
            values=values,
            text=text[:MESSAGE_MAX],
        )


class _Lost(Exception):
    """Another change committed between our read and our conditional update."""


def _open_only(r: AssistanceRequest) -> Outcome | None:
    return Outcome.CLOSED if r.status == RequestStatus.CLOSED.value else None


# ---------------------------------------------------------------------- canned replies

CANNED_FILE = "assistance/canned_replies.yaml"
CANNED_TITLE_MAX = 48


@dataclass(frozen=True)
class CannedReply:
    id: str
    title: str  # the button
    text: str  # sent to the officer as SIP's answer


def load_canned_replies(content_dir: Path) -> tuple[list[CannedReply], list[ContentProblem]]:
    """``content/assistance/canned_replies.yaml``: ``replies: [{id, title, text}, …]``."""
    path = content_dir / CANNED_FILE
    problems: list[ContentProblem] = []
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except FileNotFoundError:
        return [], [ContentProblem(CANNED_FILE, "", "file missing")]
    except yaml.YAMLError as exc:
        return [], [ContentProblem(CANNED_FILE, "", f"invalid YAML: {exc}")]
    items = data.get("replies") if isinstance(data, dict) else None
    if not isinstance(items, list) or not items:
        return [], [ContentProblem(CANNED_FILE, "replies", "must be a non-empty list")]
    replies: list[CannedReply] = []
    seen: set[str] = set()
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            problems.append(ContentProblem(CANNED_FILE, f"#{index + 1}", "must be a mapping"))
            continue
        rid = str(item.get("id") or "")
        title = str(item.get("title") or "").strip()
        text = str(item.get("text") or "").strip()
        where = rid or f"#{index + 1}"
        if not re.fullmatch(r"[a-z0-9_]{1,24}", rid):
            problems.append(ContentProblem(CANNED_FILE, where, "id must match [a-z0-9_]{1,24}"))
        elif rid in seen:
            problems.append(ContentProblem(CANNED_FILE, where, "duplicate id"))
        seen.add(rid)
        if not title or len(title) > CANNED_TITLE_MAX:
            problems.append(
                ContentProblem(CANNED_FILE, where, f"title must be 1-{CANNED_TITLE_MAX} chars")
            )
        if not text or len(text) > MESSAGE_MAX:
            problems.append(
                ContentProblem(CANNED_FILE, where, f"text must be 1-{MESSAGE_MAX} chars")
            )
        replies.append(CannedReply(rid, title, text))
    return (replies if not problems else []), problems
