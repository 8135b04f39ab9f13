"""Calendar feeds: officers' personal links (issue, change, revoke, resolve) and which sessions
each feed holds.

A personal link is ``/calendario/<token>.ics`` with 192 random bits (``secrets``); only the
token's SHA-256 is stored, so a link is shown once, when it is issued. Each ``/calendario``
issues a new link and the earlier ones keep working (an officer may be subscribed with any of
them) until "Cambiar enlace" or ``/baja`` revokes them all. A link also stops working while its
officer is not approved, and for good once the officer is approved again after a removal (a
link belongs to one approval: it must be newer than ``Officer.decided_at``).

What a feed holds (``now`` is the request time):

- personal: every group session; the sectoral (and other non-individual) sessions whose audience
  matches the officer's entity, level or network (:func:`bot.audience.matches`); and the
  sessions the officer is invited to (``session_invites``) or that schedule one of the officer's
  requests — which is how an individual meeting gets in: nobody else's meetings ever do;
- public: group sessions only.

In both, a session stays until :data:`PAST_KEPT` after its end (a year: the whole programme
stays visible in the calendar the year round), and a cancelled one until
:data:`CANCELLED_KEPT` after its cancellation, with ``STATUS:CANCELLED``.

HTTP caching: the ETag is a digest of every field the feed shows (:func:`session_version`)
plus the builder's fingerprint (words and template); Last-Modified is the newest
``updated_at`` among the sessions considered, the officer's own change (a new entity changes
the sectoral sessions), and the moment a session last left the feed by ageing out, so that a
client asking with ``If-Modified-Since`` alone never misses a change either.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Select, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.audience import matches
from bot.db import Database, utcnow
from bot.models import (
    AssistanceRequest,
    CalendarToken,
    Entity,
    Officer,
    OfficerStatus,
    Session,
    SessionInvite,
    SessionKind,
    SessionStatus,
)
from bot.texts import Texts
from scheduling.ical import CalendarBuilder, CalendarWords, session_version

TOKEN_BYTES = 24  # 192 random bits, 32 URL-safe characters
TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{20,100}$")
PAST_KEPT = timedelta(days=365)
CANCELLED_KEPT = timedelta(days=30)
#: Sessions this much beyond the windows are still read, only to date their leaving the feed.
EXIT_SLACK = timedelta(days=30)
PERSONAL = "personal"
PUBLIC = "public"
PUBLIC_FEED_PATH = "/calendario/publico.ics"


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("ascii")).hexdigest()


def feed_path(token: str) -> str:
    return f"/calendario/{token}.ics"


@dataclass(frozen=True, slots=True)
class FeedLinks:
    """The two forms of a feed's address shown to officers."""

    https: str
    webcal: str

    @classmethod
    def at(cls, base_url: str, path: str) -> FeedLinks:
        https = base_url.rstrip("/") + path
        return cls(https=https, webcal="webcal://" + https.split("://", 1)[-1])


@dataclass(frozen=True, slots=True)
class IssuedLink:
    """A personal link just issued: the token is known only now."""

    token: str
    token_id: int

    def links(self, base_url: str) -> FeedLinks:
        return FeedLinks.at(base_url, feed_path(self.token))


@dataclass(frozen=True, slots=True)
class FeedOwner:
    officer_id: int
    entity_id: int
    level: str
    network: str | None
    changed_at: datetime


@dataclass(frozen=True)
class FeedSnapshot:
    """The sessions of one feed at one moment, with its validators; the text is built only
    when needed (a conditional request answered 304 never builds it)."""

    name_key: str
    sessions: Sequence[Session]
    etag: str  # quoted, ready for the header
    last_modified: datetime | None
    builder: CalendarBuilder

    def render(self) -> bytes:
        return self.builder.feed(self.sessions, name_key=self.name_key)


async def revoke_tokens(session: AsyncSession, officer_id: int) -> int:
    """Revoke every active link of an officer (inside the caller's transaction)."""
    result = await session.execute(
        update(CalendarToken)
        .where(
            CalendarToken.officer_id == officer_id,  # type: ignore[arg-type]
            CalendarToken.revoked_at.is_(None),  # type: ignore[union-attr]
        )
        .values(revoked_at=utcnow())
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


class FeedService:
    def __init__(self, db: Database) -> None:
        self._db = db
        self._builder: CalendarBuilder | None = None

    def builder(self, texts: Texts) -> CalendarBuilder:
        """The calendar builder of the live content (a new one after each reload)."""
        if self._builder is None or self._builder.texts is not texts:
            words = CalendarWords.load(texts.content_dir)
            self._builder = CalendarBuilder(texts, words, texts.tz)
        return self._builder

    # ------------------------------------------------------------------ links

    async def issue(self, officer_id: int) -> IssuedLink:
        async with self._db.session() as session:
            return await self._issue(session, officer_id)

    async def latest_token_id(self, officer_id: int) -> int | None:
        """The newest active link of an officer (what a "Cambiar enlace" button refers to)."""
        async with self._db.session() as session:
            return await self._latest(session, officer_id)

    async def change(self, officer_id: int, expected_latest: int) -> IssuedLink | None:
        """Revoke all of the officer's links and issue a new one — unless the newest active link
        (0: none) is no longer ``expected_latest`` (a stale or repeated press): then None."""
        async with self._db.session() as session:
            if (await self._latest(session, officer_id) or 0) != expected_latest:
                return None
            await revoke_tokens(session, officer_id)
            return await self._issue(session, officer_id)

    async def revoke(self, officer_id: int) -> int:
        async with self._db.session() as session:
            return await revoke_tokens(session, officer_id)

    async def owner(self, token: str) -> FeedOwner | None:
        """Whose feed a token opens; None for unknown, revoked or malformed tokens alike."""
        if not TOKEN_RE.match(token):
            return None
        async with self._db.session() as session:
            return await self._owner(session, token)

    async def _issue(self, session: AsyncSession, officer_id: int) -> IssuedLink:
        token = secrets.token_urlsafe(TOKEN_BYTES)
        row = CalendarToken(officer_id=officer_id, token_hash=hash_token(token))
        session.add(row)
        await session.flush()
        return IssuedLink(token, row.id or 0)

    async def _latest(self, session: AsyncSession, officer_id: int) -> int | None:
        return (
            await session.execute(
                select(func.max(CalendarToken.id)).where(
                    CalendarToken.officer_id == officer_id,  # type: ignore[arg-type]
                    CalendarToken.revoked_at.is_(None),  # type: ignore[union-attr]
                )
            )
        ).scalar_one_or_none()

    async def _owner(self, session: AsyncSession, token: str) -> FeedOwner | None:
        row = (
            await session.execute(
                select(Officer, Entity)
                .join(CalendarToken, CalendarToken.officer_id == Officer.id)  # type: ignore[arg-type]
                .join(Entity, Entity.id == Officer.entity_id)  # type: ignore[arg-type]
                .where(
                    CalendarToken.token_hash == hash_token(token),  # type: ignore[arg-type]
                    CalendarToken.revoked_at.is_(None),  # type: ignore[union-attr]
                    Officer.status == OfficerStatus.APPROVED.value,  # type: ignore[arg-type]
                    or_(
                        Officer.decided_at.is_(None),  # type: ignore[union-attr]
                        CalendarToken.created_at >= Officer.decided_at,  # type: ignore[operator]
                    ),
                )
            )
        ).first()
        if row is None:
            return None
        officer, entity = row
        return FeedOwner(
            officer_id=officer.id or 0,
            entity_id=entity.id or 0,
            level=entity.level,
            network=entity.network,
            changed_at=officer.updated_at,
        )

    # ------------------------------------------------------------------ feeds

    async def personal(
        self, token: str, builder: CalendarBuilder, now: datetime | None = None
    ) -> FeedSnapshot | None:
        """The personal feed a token opens, or None (unknown, revoked, not approved)."""
        if not TOKEN_RE.match(token):
            return None
        now = now or utcnow()
        async with self._db.session() as session:
            owner = await self._owner(session, token)
            if owner is None:
                return None
            oid = owner.officer_id
            invited = or_(
                Session.id.in_(  # type: ignore[union-attr]
                    select(SessionInvite.session_id).where(
                        SessionInvite.officer_id == oid  # type: ignore[arg-type]
                    )
                ),
                Session.id.in_(  # type: ignore[union-attr]
                    select(AssistanceRequest.session_id).where(
                        AssistanceRequest.officer_id == oid,  # type: ignore[arg-type]
                        AssistanceRequest.session_id.is_not(None),  # type: ignore[union-attr]
                    )
                ),
            )
            statement = _candidates(now, select(Session, invited)).where(
                or_(Session.kind != SessionKind.INDIVIDUAL.value, invited)  # type: ignore[arg-type]
            )
            rows = [(s, bool(i)) for s, i in (await session.execute(statement)).all()]
        relevant = [s for s, is_invited in rows if _for_owner(s, is_invited, owner)]
        return _snapshot(
            PERSONAL,
            builder,
            now,
            relevant,
            considered=[s for s, _ in rows],
            changed=[owner.changed_at],
        )

    async def public(self, builder: CalendarBuilder, now: datetime | None = None) -> FeedSnapshot:
        """The public feed: group sessions only."""
        now = now or utcnow()
        statement = _candidates(now, select(Session)).where(
            Session.kind == SessionKind.GROUP.value  # type: ignore[arg-type]
        )
        async with self._db.session() as session:
            sessions = list((await session.execute(statement)).scalars().all())
        return _snapshot(PUBLIC, builder, now, sessions, considered=sessions, changed=[])


def _candidates(now: datetime, statement: Select[tuple[Session]]) -> Select[tuple[Session]]:
    """Sessions inside the feed windows, widened by :data:`EXIT_SLACK`."""
    cancelled_at = func.coalesce(Session.cancelled_at, Session.updated_at)
    return statement.where(
        Session.end_at >= now - PAST_KEPT - EXIT_SLACK,  # type: ignore[arg-type]
        or_(
            Session.status != SessionStatus.CANCELLED.value,  # type: ignore[arg-type]
            cancelled_at >= now - CANCELLED_KEPT - EXIT_SLACK,
        ),
    ).order_by(Session.start_at, Session.id)  # type: ignore[arg-type]


def _for_owner(session: Session, invited: bool, owner: FeedOwner) -> bool:
    if invited or session.kind == SessionKind.GROUP.value:
        return True
    audience = session.audience or {}
    if session.kind == SessionKind.INDIVIDUAL.value:
        return owner.officer_id in (audience.get("officers") or [])
    return matches(
        audience,
        officer_id=owner.officer_id,
        entity_id=owner.entity_id,
        level=owner.level,
        network=owner.network,
    )


def _leaves_at(session: Session) -> datetime:
    """When a session leaves the feeds (the earlier of ageing out and, if cancelled, the end of
    the cancellation's stay)."""
    leaves = session.end_at + PAST_KEPT
    if session.status == SessionStatus.CANCELLED.value:
        cancelled_at = session.cancelled_at or session.updated_at
        leaves = min(leaves, cancelled_at + CANCELLED_KEPT)
    return leaves


def _snapshot(
    name_key: str,
    builder: CalendarBuilder,
    now: datetime,
    relevant: Iterable[Session],
    *,
    considered: Iterable[Session],
    changed: Iterable[datetime],
) -> FeedSnapshot:
    shown: list[Session] = []
    moments = [s.updated_at for s in considered]
    moments.extend(changed)
    for session in relevant:
        leaves = _leaves_at(session)
        if leaves > now:
            shown.append(session)
        else:
            moments.append(leaves)
    digest = hashlib.sha256(f"{name_key}\0{builder.fingerprint}".encode())
    for session in shown:
        digest.update(b"\0" + repr(session_version(session)).encode("utf-8"))
    last_modified = min(max(moments), now) if moments else None
    return FeedSnapshot(
        name_key=name_key,
        sessions=shown,
        etag=f'"{digest.hexdigest()[:40]}"',
        last_modified=last_modified,
        builder=builder,
    )
