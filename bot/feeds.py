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

HTTP caching: the ETag is a digest of the versions of the sessions shown (id, sequence, status,
``updated_at``: :func:`scheduling.ical.session_version`) and of the builder's fingerprint
(words and template); Last-Modified is the newest ``updated_at`` of all sessions in the
window, the officer's own change (a new entity changes the sectoral sessions), and the moment
a session last left the feed by ageing out, so that a client asking with ``If-Modified-Since``
alone never misses a change either (it may refetch after a change that did not concern it).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
import secrets
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    Integer,
    Select,
    String,
    Text,
    and_,
    bindparam,
    cast,
    false,
    func,
    or_,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from bot.audience import matches
from bot.db import Database, UTCDateTime, utcnow
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
from scheduling.ical import CalendarBuilder, CalendarWords, version_key

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


@dataclass(frozen=True, slots=True)
class FeedEntry:
    """What choosing and validating a feed needs of one session (no text, no topics)."""

    id: int
    kind: str
    status: str
    sequence: int
    end_at: datetime
    cancelled_at: datetime | None
    updated_at: datetime
    audience: str  # the stored JSON, as text: decoded only when it may concern the officer
    invited: bool = False

    @property
    def version(self) -> tuple[Hashable, ...]:
        return version_key(self.id, self.sequence, self.status, self.updated_at)

    @property
    def leaves_at(self) -> datetime:
        """When the session leaves the feeds: a year after its end or, if cancelled, thirty
        days after its cancellation, whichever comes first."""
        leaves = self.end_at + PAST_KEPT
        if self.status == SessionStatus.CANCELLED.value:
            leaves = min(leaves, (self.cancelled_at or self.updated_at) + CANCELLED_KEPT)
        return leaves


@dataclass(frozen=True)
class FeedSnapshot:
    """The sessions of one feed at one moment, with its validators; the text is built only
    when needed (a conditional request answered 304 never builds it), from the builder's
    cached events, loading only the sessions whose current version it has not serialised."""

    name_key: str
    entries: Sequence[FeedEntry]
    etag: str  # quoted, ready for the header
    last_modified: datetime | None
    builder: CalendarBuilder
    db: Database

    @property
    def session_ids(self) -> list[int]:
        return [entry.id for entry in self.entries]

    async def render(self) -> bytes:
        builder = self.builder
        texts = {entry.id: builder.cached_event(entry.version) for entry in self.entries}
        missing = [session_id for session_id, text in texts.items() if text is None]
        if missing:
            async with self.db.session() as session:
                rows = await session.execute(
                    select(Session).where(Session.id.in_(missing))  # type: ignore[union-attr]
                )
                for row in rows.scalars():
                    texts[row.id or 0] = builder.event_text(row)
        return builder.assemble(
            (text for text in texts.values() if text is not None), name_key=self.name_key
        )


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
        row = (await session.execute(_OWNER, {"token_hash": hash_token(token)})).first()
        return FeedOwner(*row) if row is not None else None

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
            level = f'%"{owner.level}"%'
            values = {
                **_window_values(now),
                "officer_id": owner.officer_id,
                "level": level,
                "network": f'%"{owner.network}"%' if owner.network else level,
                "entity_digits": f"%{owner.entity_id}%",
                "officer_digits": f"%{owner.officer_id}%",
            }
            rows = (await session.execute(_PERSONAL, values)).all()
        entries = [FeedEntry(*row[:-1]) for row in rows]
        relevant = [e for e in entries if _for_owner(e, owner)]
        changed = [owner.changed_at, *(rows[0][-1:] if rows else ())]
        return self._snapshot(PERSONAL, builder, now, relevant, changed)

    async def public(self, builder: CalendarBuilder, now: datetime | None = None) -> FeedSnapshot:
        """The public feed: group sessions only."""
        now = now or utcnow()
        async with self._db.session() as session:
            rows = (await session.execute(_PUBLIC, _window_values(now))).all()
        entries = [FeedEntry(*row[:-1]) for row in rows]
        return self._snapshot(PUBLIC, builder, now, entries, rows[0][-1:] if rows else ())

    async def warm(self, builder: CalendarBuilder, now: datetime | None = None) -> int:
        """Serialise, ahead of any request, every session in the feeds' window whose current
        version ``builder`` has not cached yet (after a start, a content reload or an edit), so
        the first calendar client to ask is served from the cache. Returns how many it built.

        One query of four columns when nothing changed; the event loop is given back between
        events, so a cold start does not hold up the bot."""
        async with self._db.session() as session:
            rows = (await session.execute(_VERSIONS, _window_values(now or utcnow()))).all()
            missing = [row[0] for row in rows if builder.cached_event(version_key(*row)) is None]
            if not missing:
                return 0
            loaded = await session.execute(
                select(Session).where(Session.id.in_(missing))  # type: ignore[union-attr]
            )
            sessions = list(loaded.scalars())
        for row in sessions:
            builder.event_text(row)
            await asyncio.sleep(0)
        return len(sessions)

    def _snapshot(
        self,
        name_key: str,
        builder: CalendarBuilder,
        now: datetime,
        relevant: Iterable[FeedEntry],
        changed: Iterable[datetime | None],
    ) -> FeedSnapshot:
        shown: list[FeedEntry] = []
        moments = [moment for moment in changed if moment is not None]
        for entry in relevant:
            leaves = entry.leaves_at
            if leaves > now:
                shown.append(entry)
            else:
                moments.append(leaves)
        digest = hashlib.sha256(f"{name_key}\0{builder.fingerprint}".encode())
        for entry in shown:
            digest.update(repr(entry.version).encode())
        return FeedSnapshot(
            name_key=name_key,
            entries=shown,
            etag=f'"{digest.hexdigest()[:40]}"',
            last_modified=min(max(moments), now) if moments else None,
            builder=builder,
            db=self._db,
        )


# The queries are built once, with bound parameters: building and keying a statement of this
# size costs more than running it.


def _window() -> ColumnElement[bool]:
    """Sessions inside the feed windows, widened by :data:`EXIT_SLACK` (see
    :func:`_window_values`)."""
    cancelled_at = func.coalesce(Session.cancelled_at, Session.updated_at)
    return and_(
        Session.end_at >= bindparam("ended_after", type_=UTCDateTime),  # type: ignore[arg-type]
        or_(
            Session.status != SessionStatus.CANCELLED.value,  # type: ignore[arg-type]
            cancelled_at >= bindparam("cancelled_after", type_=UTCDateTime),
        ),
    )


def _window_values(now: datetime) -> dict[str, Any]:
    return {
        "ended_after": now - PAST_KEPT - EXIT_SLACK,
        "cancelled_after": now - CANCELLED_KEPT - EXIT_SLACK,
    }


def _entries(invited: ColumnElement[bool]) -> Select[Any]:
    """The columns of :class:`FeedEntry` for the sessions in the window, by start, and last
    the newest ``updated_at`` of *every* session in the window: a change to any of them
    (say, an audience that no longer includes the officer) moves Last-Modified."""
    latest = select(func.max(Session.updated_at)).where(_window()).scalar_subquery()
    return (
        select(
            Session.id,
            Session.kind,
            Session.status,
            Session.sequence,
            Session.end_at,
            Session.cancelled_at,
            Session.updated_at,
            cast(Session.audience, Text),
            invited,
            latest,
        )
        .where(_window())
        .order_by(Session.start_at, Session.id)  # type: ignore[arg-type]
    )


def _personal_query() -> Select[Any]:
    officer = bindparam("officer_id", type_=Integer)
    invited = or_(
        Session.id.in_(  # type: ignore[union-attr]
            select(SessionInvite.session_id).where(
                SessionInvite.officer_id == officer  # type: ignore[arg-type]
            )
        ),
        Session.id.in_(  # type: ignore[union-attr]
            select(AssistanceRequest.session_id).where(
                AssistanceRequest.officer_id == officer,  # type: ignore[arg-type]
                AssistanceRequest.session_id.is_not(None),  # type: ignore[union-attr]
            )
        ),
    )
    # A cheap sieve on the audience's JSON text: false only when none of the officer's codes
    # and ids appears in it; ``_for_owner`` then decides exactly.
    audience = cast(Session.audience, Text)
    may_concern = or_(
        audience.like('%"all"%'),
        *(
            audience.like(bindparam(name, type_=String))
            for name in ("level", "network", "entity_digits", "officer_digits")
        ),
    )
    return _entries(invited).where(
        or_(
            Session.kind == SessionKind.GROUP.value,  # type: ignore[arg-type]
            invited,
            and_(Session.kind != SessionKind.INDIVIDUAL.value, may_concern),  # type: ignore[arg-type]
        )
    )


_PERSONAL = _personal_query()
_VERSIONS = select(Session.id, Session.sequence, Session.status, Session.updated_at).where(
    _window()
)
_PUBLIC = _entries(false()).where(Session.kind == SessionKind.GROUP.value)  # type: ignore[arg-type]
_OWNER = (
    select(Officer.id, Officer.entity_id, Entity.level, Entity.network, Officer.updated_at)
    .join(CalendarToken, CalendarToken.officer_id == Officer.id)  # type: ignore[arg-type]
    .join(Entity, Entity.id == Officer.entity_id)  # type: ignore[arg-type]
    .where(
        CalendarToken.token_hash == bindparam("token_hash", type_=String),  # type: ignore[arg-type]
        CalendarToken.revoked_at.is_(None),  # type: ignore[union-attr]
        Officer.status == OfficerStatus.APPROVED.value,  # type: ignore[arg-type]
        or_(
            Officer.decided_at.is_(None),  # type: ignore[union-attr]
            CalendarToken.created_at >= Officer.decided_at,  # type: ignore[operator]
        ),
    )
)


def _for_owner(entry: FeedEntry, owner: FeedOwner) -> bool:
    if entry.invited or entry.kind == SessionKind.GROUP.value:
        return True
    text = entry.audience or ""
    hints = (
        owner.level,
        owner.network or owner.level,
        str(owner.entity_id),
        str(owner.officer_id),
        "all",
    )
    if entry.kind != SessionKind.INDIVIDUAL.value and not any(h in text for h in hints):
        return False  # cheap and sure: none of the officer's codes appears in the audience
    audience = json.loads(text) if text else {}
    if not isinstance(audience, dict):
        return False
    if entry.kind == SessionKind.INDIVIDUAL.value:
        return owner.officer_id in (audience.get("officers") or [])
    return matches(
        audience,
        officer_id=owner.officer_id,
        entity_id=owner.entity_id,
        level=owner.level,
        network=owner.network,
    )
