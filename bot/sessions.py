"""Sessions as coordinators and officers use them: listing, ad-hoc creation, changes of time,
place and status, convening, answers (RSVP), agenda, attendance and mandatory-session nudges.

Knows nothing of Telegram. Every change of time, place or status raises ``Session.sequence`` and
``updated_at`` (iCalendar), records the coordinator in ``edited_by`` and keeps the reminder
outbox in step (``scheduling.reminders.plan_reminders``). A change of title or topics (SUMMARY
and DESCRIPTION: minor in iCalendar terms) sets ``updated_at`` and ``edited_by`` only.
"""

from __future__ import annotations

import csv
import io
import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.audience import Audience, normalise, officer_filter
from bot.db import Database, utcnow
from bot.models import (
    Entity,
    Officer,
    OfficerStatus,
    RsvpResponse,
    Session,
    SessionInvite,
    SessionKind,
    SessionStatus,
)
from scheduling.reminders import plan_reminders

NUDGE_LEAD = timedelta(days=3)
MODALITIES = ("virtual", "presencial", "mixta")
KINDS = (SessionKind.GROUP.value, SessionKind.SECTORAL.value)
TITLE_MAX = 200
LOCATION_MAX = 500
EDIT_TITLE_MAX = 300  # the column: an edited title may use all of it
TOPICS_MAX = 12
TOPIC_MAX = 200
#: All topics together: with a 300-character title and a 500-character link and place, an
#: invitation stays well under Telegram's 4096 characters.
TOPICS_TOTAL_MAX = 1500
_URL = re.compile(r"https?://\S+", re.IGNORECASE)
#: A first line that starts as a bullet: topics without a title.
_TITLE_BULLET = re.compile(r"^[•·◦▪‣*\-–—]")
#: A topic line's leading bullet or number: "•", "-", "*" (and their cousins), "1.", "2)", "3.-",
#: "4 -". "1.5 horas" keeps its number.
_BULLET = re.compile(r"^(?:[•·◦▪‣*\-–—]+\s*|\d{1,2}\s*[.)]-?(?!\d)\s*|\d{1,2}\s+-\s+)")


# ---------------------------------------------------------------- values


@dataclass(frozen=True)
class SessionDraft:
    kind: str
    title: str
    start_at: datetime
    end_at: datetime
    modality: str = "virtual"
    link: str | None = None
    place: str | None = None
    audience: Audience = field(default_factory=lambda: {"all": True})
    topics: list[str] = field(default_factory=list)
    components: list[int] = field(default_factory=list)
    description: str = ""
    mandatory: bool | None = None  # None: mandatory exactly when sectoral


@dataclass(frozen=True)
class SessionLine:
    """A session in a listing, with its invitation and answer counts."""

    session: Session
    invited: int
    yes: int
    no: int


@dataclass(frozen=True)
class ListPage:
    lines: list[SessionLine]
    page: int
    pages: int
    total: int


@dataclass(frozen=True)
class Recipient:
    officer: Officer
    entity: Entity

    @property
    def chat_id(self) -> int:
        return int(self.officer.telegram_user_id or 0)


class Outcome(StrEnum):
    DONE = "done"
    NOT_FOUND = "not_found"
    CANCELLED = "cancelled"  # the session is cancelled
    PAST = "past"  # the session already started
    UNCHANGED = "unchanged"  # nothing to do (same answer, nobody new to convene…)
    NOT_INVITED = "not_invited"
    STALE = "stale"  # someone else changed the session since the coordinator saw it


@dataclass(frozen=True)
class ConvenePreview:
    outcome: Outcome
    session: Session | None = None
    new: list[Recipient] = field(default_factory=list)
    already: int = 0


@dataclass(frozen=True)
class Change:
    """The outcome of a coordinator's change, and who must be told."""

    outcome: Outcome
    session: Session | None = None
    notify: list[Recipient] = field(default_factory=list)
    previous_start: datetime | None = None


class TitleTopicsError(StrEnum):
    EMPTY = "empty"
    NO_TITLE = "no_title"  # the first line is a bullet: topics without a title
    TITLE_LONG = "title_long"
    TOPIC_LONG = "topic_long"
    TOO_MANY = "too_many"
    TOO_LONG = "too_long"  # all topics together


@dataclass(frozen=True)
class TitleTopics:
    """A typed title and topics, or why they cannot be saved (``error``): ``number`` and
    ``length`` tell which topic and how long (or how many topics, or the title's length)."""

    title: str = ""
    topics: list[str] = field(default_factory=list)
    error: TitleTopicsError | None = None
    number: int = 0
    length: int = 0

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass(frozen=True)
class Rsvp:
    outcome: Outcome
    session: Session | None = None
    invite: SessionInvite | None = None


@dataclass(frozen=True)
class AgendaItem:
    session: Session
    invite: SessionInvite


@dataclass(frozen=True)
class AttendanceLine:
    invite: SessionInvite
    officer: Officer


@dataclass(frozen=True)
class EntityAttendance:
    entity: Entity
    lines: list[AttendanceLine]

    @property
    def confirmed(self) -> bool:
        return any(line.invite.response == RsvpResponse.YES for line in self.lines)

    @property
    def declined(self) -> bool:
        return bool(self.lines) and all(
            line.invite.response == RsvpResponse.NO for line in self.lines
        )


@dataclass(frozen=True)
class Attendance:
    session: Session
    entities: list[EntityAttendance]

    @property
    def unconfirmed(self) -> list[Entity]:
        return [e.entity for e in self.entities if not e.confirmed]

    @property
    def attended(self) -> int:
        return sum(1 for e in self.entities for line in e.lines if line.invite.attended)


@dataclass(frozen=True)
class Nudge:
    session: Session
    recipient: Recipient


# ---------------------------------------------------------------- helpers


def split_location(text: str) -> tuple[str | None, str | None]:
    """A typed "link or place": the first web address is the link, the rest is the place."""
    text = " ".join(text.split())
    found = _URL.search(text)
    link = found.group(0).rstrip(".,;)") if found else None
    place = _URL.sub(" ", text) if found else text
    place = " ".join(place.split()).strip(" ,;:-|") or None
    return link, place


def parse_title_topics(text: str, keep: Sequence[str] = ()) -> TitleTopics:
    """One message: the first line is the title (not a bullet: that is topics without a title),
    each further line a topic (its bullet or number dropped, blank lines skipped, spaces
    collapsed). Limits: a title of 1 to ``EDIT_TITLE_MAX`` characters, up to ``TOPICS_MAX``
    topics of up to ``TOPIC_MAX`` each — except that a topic the session already has (``keep``,
    e.g. a long one from the yearly plan) may be sent back as it is."""
    lines = [" ".join(line.split()) for line in text.splitlines()]
    lines = [line for line in lines if line]
    if not lines:
        return TitleTopics(error=TitleTopicsError.EMPTY)
    title = lines[0]
    if _TITLE_BULLET.match(title):
        return TitleTopics(error=TitleTopicsError.NO_TITLE)
    topics = [t for t in (_BULLET.sub("", line, count=1).strip() for line in lines[1:]) if t]
    if len(title) > EDIT_TITLE_MAX:
        return TitleTopics(title, topics, TitleTopicsError.TITLE_LONG, length=len(title))
    if len(topics) > TOPICS_MAX:
        return TitleTopics(title, topics, TitleTopicsError.TOO_MANY, number=len(topics))
    kept = {" ".join(t.split()) for t in keep}
    for number, topic in enumerate(topics, start=1):
        if len(topic) > TOPIC_MAX and topic not in kept:
            return TitleTopics(
                title, topics, TitleTopicsError.TOPIC_LONG, number=number, length=len(topic)
            )
    total = sum(len(topic) for topic in topics)
    if total > TOPICS_TOTAL_MAX:
        return TitleTopics(title, topics, TitleTopicsError.TOO_LONG, length=total)
    return TitleTopics(title, topics)


def new_uid() -> str:
    return f"sesion-{uuid.uuid4().hex}@integridad-bot"


def _recipients_query(audience: Audience) -> Any:
    return (
        select(Officer, Entity)
        .join(Entity, Entity.id == Officer.entity_id)  # type: ignore[arg-type]
        .where(
            officer_filter(audience),
            Officer.status == OfficerStatus.APPROVED.value,  # type: ignore[arg-type]
            Officer.telegram_user_id.is_not(None),  # type: ignore[union-attr]
        )
        .order_by(Entity.name, Officer.full_name, Officer.id)
    )


def _touch(session: Session, by: int | None, now: datetime) -> None:
    session.sequence += 1
    session.updated_at = now
    session.edited_by = by


def _touched(
    values: dict[str, Any], session: Session, by: int | None, now: datetime
) -> dict[str, Any]:
    """``values`` plus what :func:`_touch` changes, for :func:`_write_if_unchanged`."""
    return {**values, "sequence": session.sequence + 1, "updated_at": now, "edited_by": by}


async def _write_if_unchanged(s: AsyncSession, session: Session, values: dict[str, Any]) -> bool:
    """``UPDATE … WHERE updated_at = <the value read>``: of two changes made from the same
    version, one is written and the other gets False (nothing written). The session is
    refreshed after the write."""
    result = await s.execute(
        update(Session)
        .where(
            Session.id == session.id,  # type: ignore[arg-type]
            Session.updated_at == session.updated_at,  # type: ignore[arg-type]
        )
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        return False
    await s.refresh(session)
    return True


# ---------------------------------------------------------------- the service


class SessionService:
    def __init__(self, db: Database, offsets: Sequence[timedelta]) -> None:
        self.db = db
        self.offsets = list(offsets)

    # -- reading --------------------------------------------------------------------------

    async def get(self, session_id: int) -> Session | None:
        async with self.db.session() as s:
            return await s.get(Session, session_id)

    async def upcoming(
        self, *, now: datetime | None = None, page: int = 0, per_page: int = 6
    ) -> ListPage:
        """Sessions not yet over (scheduled or cancelled), soonest first. Individual meetings
        are not listed: they belong to their assistance request, which schedules them."""
        now = now or utcnow()
        condition = (Session.end_at > now) & (  # type: ignore[operator]
            Session.kind != SessionKind.INDIVIDUAL
        )
        async with self.db.session() as s:
            total = int(
                (
                    await s.execute(select(func.count()).select_from(Session).where(condition))
                ).scalar_one()
            )
            pages = max(1, -(-total // per_page))
            page = min(max(page, 0), pages - 1)
            sessions = list(
                (
                    await s.execute(
                        select(Session)
                        .where(condition)
                        .order_by(Session.start_at, Session.id)
                        .offset(page * per_page)
                        .limit(per_page)
                    )
                ).scalars()
            )
            counts = await self._counts(s, [x.id or 0 for x in sessions])
        lines = [SessionLine(x, *counts.get(x.id or 0, (0, 0, 0))) for x in sessions]
        return ListPage(lines, page, pages, total)

    async def line(self, session_id: int) -> SessionLine | None:
        async with self.db.session() as s:
            session = await s.get(Session, session_id)
            if session is None or session.kind == SessionKind.INDIVIDUAL:
                return None
            counts = await self._counts(s, [session_id])
        return SessionLine(session, *counts.get(session_id, (0, 0, 0)))

    @staticmethod
    async def _counts(s: AsyncSession, ids: list[int]) -> dict[int, tuple[int, int, int]]:
        if not ids:
            return {}
        rows = await s.execute(
            select(SessionInvite.session_id, SessionInvite.response, func.count())
            .where(SessionInvite.session_id.in_(ids))  # type: ignore[attr-defined]
            .group_by(SessionInvite.session_id, SessionInvite.response)
        )
        out: dict[int, list[int]] = {}
        for session_id, response, n in rows.all():
            counts = out.setdefault(session_id, [0, 0, 0])
            counts[0] += n
            if response == RsvpResponse.YES:
                counts[1] += n
            elif response == RsvpResponse.NO:
                counts[2] += n
        return {k: (v[0], v[1], v[2]) for k, v in out.items()}

    async def audience(self, audience: Audience) -> list[Recipient]:
        """Approved officers with a Telegram chat in the audience."""
        async with self.db.session() as s:
            rows = (await s.execute(_recipients_query(normalise(audience)))).all()
        return [Recipient(o, e) for o, e in rows]

    async def invitees(self, session_id: int) -> list[Recipient]:
        async with self.db.session() as s:
            return await self._invitees(s, session_id)

    @staticmethod
    async def _invitees(s: AsyncSession, session_id: int) -> list[Recipient]:
        rows = (
            await s.execute(
                select(Officer, Entity)
                .join(SessionInvite, SessionInvite.officer_id == Officer.id)  # type: ignore[arg-type]
                .join(Entity, Entity.id == Officer.entity_id)  # type: ignore[arg-type]
                .where(
                    SessionInvite.session_id == session_id,  # type: ignore[arg-type]
                    Officer.status == OfficerStatus.APPROVED.value,  # type: ignore[arg-type]
                    Officer.telegram_user_id.is_not(None),  # type: ignore[union-attr]
                )
                .order_by(Officer.id)
            )
        ).all()
        return [Recipient(o, e) for o, e in rows]

    # -- creating -------------------------------------------------------------------------

    async def create(self, draft: SessionDraft, *, by: int | None) -> Session:
        now = utcnow()
        mandatory = (
            draft.kind == SessionKind.SECTORAL.value if draft.mandatory is None else draft.mandatory
        )
        session = Session(
            uid=new_uid(),
            kind=draft.kind,
            title=draft.title[:TITLE_MAX],
            description=draft.description,
            topics=list(draft.topics),
            components=list(draft.components),
            audience=normalise(draft.audience),
            mandatory=mandatory,
            start_at=draft.start_at,
            end_at=draft.end_at,
            modality=draft.modality,
            link=draft.link,
            place=draft.place,
            created_by=by,
            edited_by=by,
            created_at=now,
            updated_at=now,
        )
        async with self.db.session() as s:
            s.add(session)
            await s.flush()
        return session

    # -- convening ------------------------------------------------------------------------

    async def convene_preview(
        self, session_id: int, *, now: datetime | None = None
    ) -> ConvenePreview:
        async with self.db.session() as s:
            return await self._convene_plan(s, session_id, now or utcnow())

    async def _convene_plan(
        self, s: AsyncSession, session_id: int, now: datetime
    ) -> ConvenePreview:
        session = await s.get(Session, session_id)
        if session is None or session.kind == SessionKind.INDIVIDUAL:
            return ConvenePreview(Outcome.NOT_FOUND)
        if session.status == SessionStatus.CANCELLED:
            return ConvenePreview(Outcome.CANCELLED, session)
        if session.start_at <= now:
            return ConvenePreview(Outcome.PAST, session)
        invited = set(
            (
                await s.execute(
                    select(SessionInvite.officer_id).where(
                        SessionInvite.session_id == session_id  # type: ignore[arg-type]
                    )
                )
            ).scalars()
        )
        rows = (await s.execute(_recipients_query(session.audience))).all()
        new = [Recipient(o, e) for o, e in rows if o.id not in invited]
        outcome = Outcome.DONE if new else Outcome.UNCHANGED
        return ConvenePreview(outcome, session, new, len(invited))

    async def convene(
        self, session_id: int, *, by: int | None, now: datetime | None = None
    ) -> ConvenePreview:
        """Invite the audience's officers not yet invited; returns who was just invited.

        Two coordinators confirming at once: the unique (session, officer) constraint makes the
        second one fail, and it reports that nobody new was left to invite.
        """
        now = now or utcnow()
        try:
            return await self._convene(session_id, by, now)
        except IntegrityError:
            plan = await self.convene_preview(session_id, now=now)
            return ConvenePreview(
                Outcome.UNCHANGED if plan.outcome is Outcome.DONE else plan.outcome,
                plan.session,
                [],
                plan.already,
            )

    async def _convene(self, session_id: int, by: int | None, now: datetime) -> ConvenePreview:
        async with self.db.session() as s:
            plan = await self._convene_plan(s, session_id, now)
            if plan.outcome is not Outcome.DONE or plan.session is None:
                return plan
            for r in plan.new:
                s.add(
                    SessionInvite(
                        session_id=session_id,
                        officer_id=r.officer.id or 0,
                        entity_id=r.entity.id or 0,
                        invited_at=now,
                    )
                )
            if plan.session.convened_at is None:
                plan.session.convened_at = now
            await s.flush()
            await plan_reminders(s, session_id, self.offsets, now=now)
        return plan

    # -- changes --------------------------------------------------------------------------

    async def _changeable(
        self, s: AsyncSession, session_id: int, now: datetime, expected: datetime | None = None
    ) -> tuple[Outcome, Session | None]:
        """Whether the session can still change; STALE when ``expected`` (the ``updated_at``
        the coordinator saw) is given and the session changed since."""
        session = await s.get(Session, session_id)
        if session is None or session.kind == SessionKind.INDIVIDUAL:  # moved from its request
            return Outcome.NOT_FOUND, None
        if session.status == SessionStatus.CANCELLED:
            return Outcome.CANCELLED, session
        if session.end_at <= now:
            return Outcome.PAST, session
        if expected is not None and session.updated_at != expected:
            return Outcome.STALE, session
        return Outcome.DONE, session

    async def reschedule(
        self,
        session_id: int,
        start_at: datetime,
        *,
        by: int | None,
        expected: datetime | None = None,
        now: datetime | None = None,
    ) -> Change:
        """Move the session keeping its duration; reminders follow. ``expected`` is the
        ``updated_at`` the coordinator saw: any other value means someone changed the session
        since, and nothing is saved (STALE)."""
        now = now or utcnow()
        async with self.db.session() as s:
            outcome, session = await self._changeable(s, session_id, now, expected)
            if outcome is not Outcome.DONE or session is None:
                return Change(outcome, session)
            previous = session.start_at
            if start_at == previous:
                return Change(Outcome.UNCHANGED, session)
            duration = session.end_at - session.start_at
            moved = {"start_at": start_at, "end_at": start_at + duration}
            if not await _write_if_unchanged(s, session, _touched(moved, session, by, now)):
                return Change(Outcome.STALE, session)
            await plan_reminders(s, session_id, self.offsets, now=now)
            notify = await self._invitees(s, session_id)
        return Change(Outcome.DONE, session, notify, previous)

    async def change_location(
        self,
        session_id: int,
        typed: str,
        *,
        by: int | None,
        expected: datetime | None = None,
        now: datetime | None = None,
    ) -> Change:
        """The typed text is the whole new location: a web address (the link), a place, or
        both; the modality follows (virtual, presencial, or mixta for both). ``expected`` as
        in :meth:`reschedule`."""
        now = now or utcnow()
        link, place = split_location(typed)
        link = link[:LOCATION_MAX] if link else None
        place = place[:LOCATION_MAX] if place else None
        modality = "mixta" if link and place else "virtual" if link else "presencial"
        async with self.db.session() as s:
            outcome, session = await self._changeable(s, session_id, now, expected)
            if outcome is not Outcome.DONE or session is None:
                return Change(outcome, session)
            if not (link or place):
                return Change(Outcome.UNCHANGED, session)
            if (link, place, modality) == (session.link, session.place, session.modality):
                return Change(Outcome.UNCHANGED, session)
            placed = {"link": link, "place": place, "modality": modality}
            if not await _write_if_unchanged(s, session, _touched(placed, session, by, now)):
                return Change(Outcome.STALE, session)
            notify = await self._invitees(s, session_id)
        return Change(Outcome.DONE, session, notify)

    async def check_title_topics(
        self,
        session_id: int,
        edit: TitleTopics,
        *,
        expected: datetime | None = None,
        now: datetime | None = None,
    ) -> Change:
        """What :meth:`edit_title_topics` would do, saving nothing: a refusal, UNCHANGED (the
        same title and topics) or DONE. ``expected`` is the ``updated_at`` the coordinator saw;
        any other value means someone changed the session since (STALE)."""
        async with self.db.session() as s:
            return await self._title_topics_plan(s, session_id, edit, expected, now or utcnow())

    async def _title_topics_plan(
        self,
        s: AsyncSession,
        session_id: int,
        edit: TitleTopics,
        expected: datetime | None,
        now: datetime,
    ) -> Change:
        outcome, session = await self._changeable(s, session_id, now, expected)
        if outcome is not Outcome.DONE or session is None:
            return Change(outcome, session)
        if (session.title, list(session.topics or [])) == (edit.title, list(edit.topics)):
            return Change(Outcome.UNCHANGED, session)
        return Change(Outcome.DONE, session)

    async def edit_title_topics(
        self,
        session_id: int,
        edit: TitleTopics,
        *,
        expected: datetime | None,
        by: int | None,
        now: datetime | None = None,
    ) -> Change:
        """Save a new title and topics. Not a change of time, place or status: ``sequence``
        stays, ``updated_at`` (the feeds' DTSTAMP, LAST-MODIFIED and validators) and
        ``edited_by`` move, and nobody is notified (``notify`` is empty). The write is
        ``UPDATE … WHERE updated_at = seen``, so of two coordinators saving at once only one
        wins; the other gets STALE."""
        if not edit.ok:
            raise ValueError(f"invalid title or topics: {edit.error}")
        now = now or utcnow()
        async with self.db.session() as s:
            plan = await self._title_topics_plan(s, session_id, edit, expected, now)
            session = plan.session
            if plan.outcome is not Outcome.DONE or session is None:
                return plan
            edited = {"title": edit.title, "topics": list(edit.topics)}
            if not await _write_if_unchanged(
                s, session, {**edited, "updated_at": now, "edited_by": by}
            ):
                return Change(Outcome.STALE, session)
        return Change(Outcome.DONE, session)

    async def cancel(
        self, session_id: int, *, by: int | None, now: datetime | None = None
    ) -> Change:
        now = now or utcnow()
        async with self.db.session() as s:
            outcome, session = await self._changeable(s, session_id, now)
            if outcome is not Outcome.DONE or session is None:
                return Change(outcome, session)
            session.status = SessionStatus.CANCELLED
            session.cancelled_at = now
            _touch(session, by, now)
            await s.flush()
            await plan_reminders(s, session_id, self.offsets, now=now)
            notify = await self._invitees(s, session_id)
        return Change(Outcome.DONE, session, notify)

    # -- officers' answers ----------------------------------------------------------------

    async def _own_invite(
        self, s: AsyncSession, session_id: int, telegram_user_id: int
    ) -> tuple[Session | None, SessionInvite | None]:
        session = await s.get(Session, session_id)
        if session is None:
            return None, None
        invite = (
            await s.execute(
                select(SessionInvite)
                .join(Officer, Officer.id == SessionInvite.officer_id)  # type: ignore[arg-type]
                .where(
                    SessionInvite.session_id == session_id,  # type: ignore[arg-type]
                    Officer.telegram_user_id == telegram_user_id,  # type: ignore[arg-type]
                    Officer.status == OfficerStatus.APPROVED.value,  # type: ignore[arg-type]
                )
            )
        ).scalar_one_or_none()
        return session, invite

    async def own_invite(self, session_id: int, telegram_user_id: int) -> Rsvp:
        """The officer's own invitation to a session (nobody sees another's)."""
        async with self.db.session() as s:
            session, invite = await self._own_invite(s, session_id, telegram_user_id)
        if session is None:
            return Rsvp(Outcome.NOT_FOUND)
        if invite is None:
            return Rsvp(Outcome.NOT_INVITED, session)
        return Rsvp(Outcome.DONE, session, invite)

    async def respond(
        self, session_id: int, telegram_user_id: int, yes: bool, *, now: datetime | None = None
    ) -> Rsvp:
        now = now or utcnow()
        async with self.db.session() as s:
            session, invite = await self._own_invite(s, session_id, telegram_user_id)
            if session is None:
                return Rsvp(Outcome.NOT_FOUND)
            if invite is None:
                return Rsvp(Outcome.NOT_INVITED, session)
            if session.status == SessionStatus.CANCELLED:
                return Rsvp(Outcome.CANCELLED, session, invite)
            if session.start_at <= now:
                return Rsvp(Outcome.PAST, session, invite)
            response = RsvpResponse.YES if yes else RsvpResponse.NO
            if invite.response == response:
                return Rsvp(Outcome.UNCHANGED, session, invite)
            invite.response = response
            invite.responded_at = now
            await s.flush()
            await plan_reminders(s, session_id, self.offsets, now=now)
        return Rsvp(Outcome.DONE, session, invite)

    async def agenda(
        self, telegram_user_id: int, *, now: datetime | None = None
    ) -> list[AgendaItem]:
        """The officer's invitations to sessions not yet over, soonest first."""
        now = now or utcnow()
        async with self.db.session() as s:
            rows = (
                await s.execute(
                    select(Session, SessionInvite)
                    .join(SessionInvite, SessionInvite.session_id == Session.id)  # type: ignore[arg-type]
                    .join(Officer, Officer.id == SessionInvite.officer_id)  # type: ignore[arg-type]
                    .where(
                        Officer.telegram_user_id == telegram_user_id,  # type: ignore[arg-type]
                        Officer.status == OfficerStatus.APPROVED.value,  # type: ignore[arg-type]
                        Session.end_at > now,  # type: ignore[arg-type, operator]
                    )
                    .order_by(Session.start_at, Session.id)
                )
            ).all()
        return [AgendaItem(session, invite) for session, invite in rows]

    # -- attendance -----------------------------------------------------------------------

    async def attendance(self, session_id: int) -> Attendance | None:
        async with self.db.session() as s:
            session = await s.get(Session, session_id)
            if session is None:
                return None
            rows = (
                await s.execute(
                    select(SessionInvite, Officer, Entity)
                    .join(Officer, Officer.id == SessionInvite.officer_id)  # type: ignore[arg-type]
                    .join(Entity, Entity.id == SessionInvite.entity_id)  # type: ignore[arg-type]
                    .where(SessionInvite.session_id == session_id)  # type: ignore[arg-type]
                    .order_by(Entity.name, Officer.full_name, Officer.id)
                )
            ).all()
        by_entity: dict[int, EntityAttendance] = {}
        for invite, officer, entity in rows:
            group = by_entity.setdefault(entity.id or 0, EntityAttendance(entity, []))
            group.lines.append(AttendanceLine(invite, officer))
        return Attendance(session, list(by_entity.values()))

    async def mark_attended(
        self, session_id: int, invite_id: int, *, by: int | None
    ) -> SessionInvite | None:
        """Toggle whether the invitee attended (unknown → yes → no → yes…)."""
        async with self.db.session() as s:
            invite = await s.get(SessionInvite, invite_id)
            if invite is None or invite.session_id != session_id:
                return None
            invite.attended = not invite.attended
            invite.attendance_marked_by = by
            await s.flush()
            return invite

    @staticmethod
    def attendance_csv(
        attendance: Attendance,
        *,
        header: Sequence[str],
        network_name: Any,
        level_name: Any,
        answers: dict[str, str],
        attended_words: dict[str, str],
    ) -> str:
        """CSV (UTF-8 with BOM for spreadsheets): entity, network, level, officer, answer,
        attended — one row per invitee. Words come from the caller (the content)."""
        out = io.StringIO()
        out.write("\ufeff")
        writer = csv.writer(out)
        writer.writerow(header)
        for group in attendance.entities:
            entity = group.entity
            for line in group.lines:
                attended = line.invite.attended
                writer.writerow(
                    [
                        entity.name,
                        network_name(entity.network),
                        level_name(entity.level),
                        line.officer.full_name or "",
                        answers.get(line.invite.response, line.invite.response),
                        attended_words["unknown" if attended is None else str(attended).lower()],
                    ]
                )
        return out.getvalue()

    # -- mandatory-session nudges ---------------------------------------------------------

    async def claim_nudges(self, *, now: datetime | None = None) -> list[Nudge]:
        """Invitees of convened entities with nobody confirmed, in mandatory sessions starting
        within three days; each invitee is claimed once (``nudged_at``) so it never repeats.

        Only invitations made before the three-day mark count: an entity convened later has
        had no time to answer and is not nudged at once.
        """
        now = now or utcnow()
        async with self.db.session() as s:
            sessions = list(
                (
                    await s.execute(
                        select(Session).where(
                            Session.mandatory.is_(True),  # type: ignore[attr-defined]
                            Session.status == SessionStatus.SCHEDULED.value,  # type: ignore[arg-type]
                            Session.start_at > now,  # type: ignore[arg-type, operator]
                            Session.start_at <= now + NUDGE_LEAD,  # type: ignore[arg-type, operator]
                        )
                    )
                ).scalars()
            )
            nudges: list[Nudge] = []
            for session in sessions:
                rows = (
                    await s.execute(
                        select(SessionInvite, Officer, Entity)
                        .join(Officer, Officer.id == SessionInvite.officer_id)  # type: ignore[arg-type]
                        .join(Entity, Entity.id == SessionInvite.entity_id)  # type: ignore[arg-type]
                        .where(SessionInvite.session_id == session.id)  # type: ignore[arg-type]
                    )
                ).all()
                confirmed = {i.entity_id for i, _, _ in rows if i.response == RsvpResponse.YES}
                mark = session.start_at - NUDGE_LEAD
                chosen = [
                    (i, o, e)
                    for i, o, e in rows
                    if i.entity_id not in confirmed
                    and i.nudged_at is None
                    and i.invited_at <= mark
                    and o.status == OfficerStatus.APPROVED.value
                    and o.telegram_user_id is not None
                ]
                if not chosen:
                    continue
                claimed = await s.execute(
                    update(SessionInvite)
                    .where(
                        SessionInvite.id.in_([i.id for i, _, _ in chosen]),  # type: ignore[union-attr]
                        SessionInvite.nudged_at.is_(None),  # type: ignore[union-attr]
                    )
                    .values(nudged_at=now)
                    .returning(SessionInvite.id)
                )
                ids = set(claimed.scalars())
                nudges += [Nudge(session, Recipient(o, e)) for i, o, e in chosen if i.id in ids]
        return nudges
