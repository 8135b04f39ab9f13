"""Reports for coordinators: coverage of the entities, assistance requests of a year, and the
attendance of the year's group and sectoral sessions already held. Knows nothing of Telegram.

Every figure is read here, with one query per kind of count, on SQLite and PostgreSQL alike;
the handlers and the spreadsheet only present what :class:`YearReport` holds. Times are UTC
inside; the *year* of a report is a calendar year in ``tz`` (America/Lima): a request counts in
the year of its ticket code (``AT-AAAA-NNNN``, Lima time) and a session in the year it started,
Lima time.

Coverage is the directory as it stands when the report is made (the database keeps no history
of approvals and removals), whatever the year asked for.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy import case, distinct, func, select

from bot.assistance import OPEN, AssistanceService
from bot.catalog import Catalog
from bot.db import Database, utcnow
from bot.models import (
    AssistanceRequest,
    Entity,
    Officer,
    OfficerStatus,
    RequestStatus,
    RsvpResponse,
    Session,
    SessionInvite,
    SessionKind,
    SessionStatus,
)

LIMA = ZoneInfo("America/Lima")
#: The first year a report can be asked for: the ICP results the 2025 plan starts from.
FIRST_YEAR = 2024
#: Kinds of sessions whose attendance is reported (individual meetings belong to requests).
REPORTED_KINDS = (SessionKind.GROUP.value, SessionKind.SECTORAL.value)
COMPONENTS = tuple(range(1, 10))
T = TypeVar("T")


# ---------------------------------------------------------------------- values


def percent(part: int, whole: int) -> float | None:
    """``part`` of ``whole`` in percent, one decimal; None when there is no whole."""
    return round(100 * part / whole, 1) if whole else None


@dataclass(frozen=True)
class CoverageRow:
    """Coverage of one government level, one network, or (``code`` None) the whole directory
    or a level's entities without a network."""

    code: str | None
    name: str | None  # the catalogue's name; None for "no network" or the total
    short_name: str | None
    level: str | None  # level code (None for the total)
    level_name: str | None
    entities: int = 0  # active entities in the directory
    covered: int = 0  # of them, with at least one approved officer
    approved: int = 0  # approved officers
    pending: int = 0  # registrations waiting for a coordinator

    @property
    def pct(self) -> float | None:
        return percent(self.covered, self.entities)


@dataclass(frozen=True)
class Coverage:
    total: CoverageRow
    levels: list[CoverageRow]
    networks: list[CoverageRow]  # by level order, then the catalogue's order; "no network" last


@dataclass(frozen=True)
class Count:
    """A count under a key: a status, a component (None: "otro tema"), a network."""

    key: str | int | None
    name: str | None
    count: int
    level_name: str | None = None  # for networks


@dataclass(frozen=True)
class RequestsReport:
    year: int
    total: int
    open: int
    closed: int
    overdue: int  # open, unanswered, older than the overdue rule allows
    responded: int  # with a first response
    median_first_response_hours: float | None
    by_status: list[Count]  # every status, in the order of the lifecycle
    by_component: list[Count]  # components 1–9, then "otro tema" (key None)
    by_network: list[Count]  # most requests first


@dataclass(frozen=True)
class SessionAttendance:
    session_id: int
    title: str
    kind: str
    mandatory: bool
    start_at: datetime
    invited: int
    accepted: int
    declined: int
    attended: int
    entities_convened: int | None  # mandatory sessions only
    entities_present: int | None  # convened entities with at least one attendee

    @property
    def attended_pct(self) -> float | None:
        return percent(self.attended, self.invited)

    @property
    def present_pct(self) -> float | None:
        if self.entities_convened is None or self.entities_present is None:
            return None
        return percent(self.entities_present, self.entities_convened)


@dataclass(frozen=True)
class AttendanceReport:
    year: int
    sessions: list[SessionAttendance]  # held, not cancelled; oldest first

    def _sum(self, name: str, only_mandatory: bool = False) -> int:
        return sum(
            int(getattr(x, name) or 0)
            for x in self.sessions
            if x.mandatory or not only_mandatory
        )

    @property
    def held(self) -> int:
        return len(self.sessions)

    @property
    def invited(self) -> int:
        return self._sum("invited")

    @property
    def accepted(self) -> int:
        return self._sum("accepted")

    @property
    def declined(self) -> int:
        return self._sum("declined")

    @property
    def attended(self) -> int:
        return self._sum("attended")

    @property
    def attended_pct(self) -> float | None:
        return percent(self.attended, self.invited)

    @property
    def mandatory(self) -> int:
        return sum(1 for x in self.sessions if x.mandatory)

    @property
    def entities_convened(self) -> int:
        """Entity convocations of mandatory sessions (an entity once per session)."""
        return self._sum("entities_convened", only_mandatory=True)

    @property
    def entities_present(self) -> int:
        return self._sum("entities_present", only_mandatory=True)

    @property
    def present_pct(self) -> float | None:
        return percent(self.entities_present, self.entities_convened)


@dataclass(frozen=True)
class YearReport:
    year: int
    generated_at: datetime
    coverage: Coverage
    requests: RequestsReport
    attendance: AttendanceReport


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    page: int
    pages: int
    offset: int  # how many items come before this page
    total: int


def page_of(items: Sequence[T], page: int, per_page: int) -> Page[T]:
    """One page of ``items`` (the page number clamped to the ones there are)."""
    pages = max(1, -(-len(items) // per_page))
    page = min(max(page, 0), pages - 1)
    start = page * per_page
    return Page(list(items[start : start + per_page]), page, pages, start, len(items))


# ---------------------------------------------------------------------- years


def current_year(tz: ZoneInfo = LIMA, now: datetime | None = None) -> int:
    return (now or utcnow()).astimezone(tz).year


def year_range(tz: ZoneInfo = LIMA, now: datetime | None = None) -> tuple[int, int]:
    """The years a report can be asked for: from :data:`FIRST_YEAR` to the current one."""
    return FIRST_YEAR, max(FIRST_YEAR, current_year(tz, now))


def parse_year(text: str, tz: ZoneInfo = LIMA, now: datetime | None = None) -> int | None:
    """A typed year within :func:`year_range`, or None (``20x5``, ``1999``, ``2099``…)."""
    text = text.strip()
    if not (text.isascii() and text.isdigit() and len(text) == 4):
        return None
    year = int(text)
    first, last = year_range(tz, now)
    return year if first <= year <= last else None


def year_bounds(year: int, tz: ZoneInfo = LIMA) -> tuple[datetime, datetime]:
    """The first instant of ``year`` and of the next one in ``tz``, as UTC."""
    start = datetime(year, 1, 1, tzinfo=tz).astimezone(UTC)
    end = datetime(year + 1, 1, 1, tzinfo=tz).astimezone(UTC)
    return start, end


# ---------------------------------------------------------------------- the service


class ReportService:
    def __init__(
        self,
        db: Database,
        catalog: Catalog,
        *,
        assistance: AssistanceService | None = None,
        tz: ZoneInfo = LIMA,
    ) -> None:
        self.db = db
        self.catalog = catalog
        self.tz = tz
        # the overdue rule (working days, holidays) is the one /solicitudes shows with ⚠️
        self.assistance = assistance or AssistanceService(db, tz)

    def current_year(self, now: datetime | None = None) -> int:
        return current_year(self.tz, now)

    def year_range(self, now: datetime | None = None) -> tuple[int, int]:
        return year_range(self.tz, now)

    def parse_year(self, text: str, now: datetime | None = None) -> int | None:
        return parse_year(text, self.tz, now)

    async def report(self, year: int | None = None, *, now: datetime | None = None) -> YearReport:
        """The three sections for ``year`` (default: the current year in Lima)."""
        now = now or utcnow()
        year = year if year is not None else self.current_year(now)
        return YearReport(
            year=year,
            generated_at=now,
            coverage=await self.coverage(),
            requests=await self.requests(year, now=now),
            attendance=await self.attendance(year, now=now),
        )

    # -- coverage -------------------------------------------------------------------------

    async def coverage(self) -> Coverage:
        """Per level and per network: entities, entities with an approved officer, approved
        officers and pending registrations (active entities only)."""
        approved = OfficerStatus.APPROVED.value
        pending = OfficerStatus.PENDING.value
        active = Entity.active.is_(True)  # type: ignore[attr-defined]
        async with self.db.session() as s:
            entities = (
                await s.execute(
                    select(Entity.level, Entity.network, func.count())
                    .where(active)
                    .group_by(Entity.level, Entity.network)
                )
            ).all()
            covered = (
                await s.execute(
                    select(Entity.level, Entity.network, func.count(distinct(Entity.id)))
                    .join(Officer, Officer.entity_id == Entity.id)  # type: ignore[arg-type]
                    .where(active, Officer.status == approved)  # type: ignore[arg-type]
                    .group_by(Entity.level, Entity.network)
                )
            ).all()
            officers = (
                await s.execute(
                    select(Entity.level, Entity.network, Officer.status, func.count())
                    .join(Officer, Officer.entity_id == Entity.id)  # type: ignore[arg-type]
                    .where(active, Officer.status.in_([approved, pending]))  # type: ignore[attr-defined]
                    .group_by(Entity.level, Entity.network, Officer.status)
                )
            ).all()
        counts: dict[tuple[str, str | None], dict[str, int]] = {}

        def slot(level: str, network: str | None) -> dict[str, int]:
            return counts.setdefault(
                (level, network), {"entities": 0, "covered": 0, "approved": 0, "pending": 0}
            )

        for level, network, n in entities:
            slot(level, network)["entities"] += int(n)
        for level, network, n in covered:
            slot(level, network)["covered"] += int(n)
        for level, network, status, n in officers:
            slot(level, network)["approved" if status == approved else "pending"] += int(n)

        level_codes = [lv.code for lv in self.catalog.ordered_levels()]
        level_codes += sorted({lv for lv, _ in counts} - set(level_codes))
        levels: list[CoverageRow] = []
        networks: list[CoverageRow] = []
        for code in level_codes:
            level = self.catalog.maybe_level(code)
            level_name = level.name if level else None
            here = {net: c for (lv, net), c in counts.items() if lv == code}
            levels.append(
                CoverageRow(code, level_name, level_name, code, level_name, **_add(here.values()))
            )
            known = [n.code for n in self.catalog.networks_of(code)]
            others = sorted(net for net in here if net is not None and net not in known)
            for net in [*known, *others]:
                network = self.catalog.maybe_network(net)
                networks.append(
                    CoverageRow(
                        net,
                        network.name if network else None,
                        network.short_name if network else None,
                        code,
                        level_name,
                        **here.get(net, _zero()),
                    )
                )
            if None in here:  # entities of the level imported without a network
                networks.append(CoverageRow(None, None, None, code, level_name, **here[None]))
        total = CoverageRow(None, None, None, None, None, **_add(counts.values()))
        return Coverage(total, levels, networks)

    # -- requests -------------------------------------------------------------------------

    async def requests(self, year: int, *, now: datetime | None = None) -> RequestsReport:
        """The year's requests by status, component and network; median hours to the first
        response; how many open ones are overdue."""
        now = now or utcnow()
        of_year = AssistanceRequest.year == year  # type: ignore[arg-type]
        async with self.db.session() as s:
            statuses = dict(
                (
                    await s.execute(
                        select(AssistanceRequest.status, func.count())
                        .where(of_year)
                        .group_by(AssistanceRequest.status)
                    )
                ).all()
            )
            components = dict(
                (
                    await s.execute(
                        select(AssistanceRequest.component, func.count())
                        .where(of_year)
                        .group_by(AssistanceRequest.component)
                    )
                ).all()
            )
            networks = (
                await s.execute(
                    select(Entity.level, Entity.network, func.count())
                    .select_from(AssistanceRequest)
                    .join(Entity, Entity.id == AssistanceRequest.entity_id)  # type: ignore[arg-type]
                    .where(of_year)
                    .group_by(Entity.level, Entity.network)
                )
            ).all()
            responses = (
                await s.execute(
                    select(AssistanceRequest.created_at, AssistanceRequest.first_response_at).where(
                        of_year,
                        AssistanceRequest.first_response_at.is_not(None),  # type: ignore[union-attr]
                    )
                )
            ).all()
            waiting = list(
                (
                    await s.execute(
                        select(AssistanceRequest).where(
                            of_year,
                            AssistanceRequest.status.in_(OPEN),  # type: ignore[attr-defined]
                            AssistanceRequest.first_response_at.is_(None),  # type: ignore[union-attr]
                        )
                    )
                ).scalars()
            )
        by_status = [
            Count(status.value, None, int(statuses.get(status.value, 0)))
            for status in RequestStatus
        ]
        by_component = [
            Count(n, self.catalog.component(n).short_name, int(components.get(n, 0)))
            for n in COMPONENTS
        ]
        by_component.append(Count(None, None, int(components.get(None, 0))))
        merged: dict[tuple[str, str | None], int] = {}
        for level, network, n in networks:
            merged[(level, network)] = merged.get((level, network), 0) + int(n)
        by_network = []
        for (level_code, network_code), n in merged.items():
            network = self.catalog.maybe_network(network_code)
            level = self.catalog.maybe_level(level_code)
            by_network.append(
                Count(
                    network_code,
                    network.name if network else None,
                    n,
                    level.name if level else level_code,
                )
            )
        by_network.sort(key=lambda c: (-c.count, c.key is None, c.name or str(c.key or "")))
        hours = [
            (answered - created).total_seconds() / 3600 for created, answered in responses
        ]
        total = sum(c.count for c in by_status)
        closed = int(statuses.get(RequestStatus.CLOSED.value, 0))
        return RequestsReport(
            year=year,
            total=total,
            open=total - closed,
            closed=closed,
            overdue=sum(1 for r in waiting if self.assistance.overdue(r, now)),
            responded=len(hours),
            median_first_response_hours=round(statistics.median(hours), 1) if hours else None,
            by_status=by_status,
            by_component=by_component,
            by_network=by_network,
        )

    # -- attendance -----------------------------------------------------------------------

    async def attendance(self, year: int, *, now: datetime | None = None) -> AttendanceReport:
        """The year's group and sectoral sessions already held (ended, not cancelled): invited,
        accepted, declined and attended; for mandatory ones, entities convened and present."""
        now = now or utcnow()
        start, end = year_bounds(year, self.tz)
        yes = case((SessionInvite.response == RsvpResponse.YES.value, 1), else_=0)
        no = case((SessionInvite.response == RsvpResponse.NO.value, 1), else_=0)
        present = SessionInvite.attended.is_(True)  # type: ignore[union-attr]
        async with self.db.session() as s:
            sessions = list(
                (
                    await s.execute(
                        select(Session)
                        .where(
                            Session.kind.in_(REPORTED_KINDS),  # type: ignore[attr-defined]
                            Session.status != SessionStatus.CANCELLED.value,
                            Session.end_at < now,  # type: ignore[arg-type, operator]
                            Session.start_at >= start,  # type: ignore[arg-type, operator]
                            Session.start_at < end,  # type: ignore[arg-type, operator]
                        )
                        .order_by(Session.start_at, Session.id)
                    )
                ).scalars()
            )
            ids = [x.id for x in sessions]
            rows: dict[int, Any] = {}
            if ids:
                counted = await s.execute(
                    select(
                        SessionInvite.session_id,
                        func.count(),
                        func.sum(yes),
                        func.sum(no),
                        func.sum(case((present, 1), else_=0)),
                        func.count(distinct(SessionInvite.entity_id)),
                        func.count(distinct(case((present, SessionInvite.entity_id)))),
                    )
                    .where(SessionInvite.session_id.in_(ids))  # type: ignore[attr-defined]
                    .group_by(SessionInvite.session_id)
                )
                rows = {row[0]: row for row in counted.all()}
        lines = []
        for x in sessions:
            row = rows.get(x.id or 0)
            invited, accepted, declined, attended, convened, with_attendee = (
                (int(v or 0) for v in row[1:]) if row is not None else (0, 0, 0, 0, 0, 0)
            )
            lines.append(
                SessionAttendance(
                    session_id=x.id or 0,
                    title=x.title,
                    kind=x.kind,
                    mandatory=bool(x.mandatory),
                    start_at=x.start_at,
                    invited=invited,
                    accepted=accepted,
                    declined=declined,
                    attended=attended,
                    entities_convened=convened if x.mandatory else None,
                    entities_present=with_attendee if x.mandatory else None,
                )
            )
        return AttendanceReport(year, lines)


# ---------------------------------------------------------------------- helpers


def _zero() -> dict[str, int]:
    return {"entities": 0, "covered": 0, "approved": 0, "pending": 0}


def _add(parts: Iterable[dict[str, int]]) -> dict[str, int]:
    out = _zero()
    for part in parts:
        for key in out:
            out[key] += part[key]
    return out
