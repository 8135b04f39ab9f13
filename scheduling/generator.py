"""The yearly plan → dated sessions (``integridad-bot schedule generate``).

``plan_schedule`` applies the plan's rules (``content/plan/<year>.yaml``, ``rules:``) to its months
and gives one ``PlannedSession`` per slot: the group session of each month and one sectoral
session per audience and month, with the day, the times in UTC, the topics (the month's
activities of that kind, as the plan states them) and the components (from the catalogue).

``generate_sessions`` writes them to the ``sessions`` table, keyed by ``plan_key``
(``2025-04-grupal``, ``2025-04-sectorial-poder-ejecutivo``):

- a slot with no session yet, still ahead: created (``uid`` generated once, ``sequence`` 0);
- a slot whose time has passed and has no session: not created (nobody could attend it);
- a session in the past, edited by a coordinator (``edited_by``) or cancelled: left alone;
- an unedited future session whose rule now gives another time: moved (start and end, ``sequence``
  up, ``updated_at``); if it has invitees its reminders are re-planned in the same transaction and
  its id is listed in ``GenerationReport.convened_moved`` so that they can be told.

Running it twice changes nothing. It knows nothing of Telegram; ``now`` is a parameter.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import uuid4

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.audience import ALL, normalise
from bot.catalog import Catalog
from bot.db import Database
from bot.models import Session, SessionInvite, SessionKind, SessionStatus
from bot.plan import PlanData, PlanMonth, PlanRules, SessionRule
from scheduling.reminders import plan_reminders

UID_DOMAIN = "integridad-bot"


class PlanWithoutRules(ValueError):
    """The plan has no ``rules:`` section, so its months cannot be dated."""


@dataclass(frozen=True)
class PlannedSession:
    """One slot of the plan: what a generated session must be."""

    plan_key: str
    kind: SessionKind
    month: int
    title: str
    description: str
    topics: tuple[str, ...]
    components: tuple[int, ...]
    audience: dict[str, Any]
    mandatory: bool
    modality: str
    planned_day: date  # the rule's day, before skipping holidays
    day: date  # the day held (local time)
    start_at: datetime  # UTC
    end_at: datetime  # UTC

    @property
    def holiday_moved(self) -> bool:
        return self.day != self.planned_day


@dataclass(frozen=True)
class PlannedSchedule:
    """The slots of one year, and whether that year's holidays were known."""

    year: int
    sessions: tuple[PlannedSession, ...]
    holidays_listed: bool


@dataclass(frozen=True)
class SessionLine:
    """A session named in the report."""

    plan_key: str
    title: str
    start_at: datetime
    session_id: int | None = None


@dataclass(frozen=True)
class MovedSession:
    session_id: int
    plan_key: str
    title: str
    old_start_at: datetime
    start_at: datetime
    convened: bool  # it has invitees: they must be told (the sessions' notices)


@dataclass
class GenerationReport:
    """What ``generate_sessions`` did (or, with ``dry_run``, would do)."""

    year: int
    plan_year: int
    dry_run: bool
    planned: int = 0
    holidays_listed: bool = True
    holiday_moves: list[PlannedSession] = field(default_factory=list)
    created: list[SessionLine] = field(default_factory=list)
    moved: list[MovedSession] = field(default_factory=list)
    unchanged: list[SessionLine] = field(default_factory=list)
    past: list[SessionLine] = field(default_factory=list)  # left alone or not created: past
    edited: list[SessionLine] = field(default_factory=list)  # edited by a coordinator, cancelled
    not_in_plan: list[SessionLine] = field(default_factory=list)  # generated, no slot any more

    @property
    def convened_moved(self) -> list[int]:
        """Ids of moved sessions that have invitees: they must be told of the new time."""
        return [m.session_id for m in self.moved if m.convened]

    @property
    def changed(self) -> bool:
        return bool(self.created or self.moved)


# --------------------------------------------------------------------------------------------
# Dates
# --------------------------------------------------------------------------------------------


def nth_weekday(year: int, month: int, weekday: int, week: int) -> date:
    """The ``week``-th ``weekday`` (Monday 0) of the month; ``week`` 1-4 always exists."""
    first = date(year, month, 1)
    offset = (weekday - first.weekday()) % 7
    day = first + timedelta(days=offset + 7 * (week - 1))
    if day.month != month:
        raise ValueError(f"no week {week} weekday {weekday} in {year}-{month:02d}")
    return day


def _working(day: date, holidays: frozenset[date]) -> bool:
    return day.weekday() < 5 and day not in holidays


def skip_holidays(day: date, holidays: frozenset[date], policy: str) -> date:
    """``day``, or where a session planned on it goes when it is a holiday.

    ``next_working_day``: the next Monday-to-Friday that is not a holiday.
    ``same_weekday_next_week``: seven days later, again until it is not a holiday.
    """
    if day not in holidays:
        return day
    step = timedelta(days=7 if policy == "same_weekday_next_week" else 1)
    moved = day + step
    for _ in range(400):  # a year of holidays at most; the rules are data
        if _working(moved, holidays):
            return moved
        moved += step
    raise ValueError(f"no working day after {day.isoformat()}")


# --------------------------------------------------------------------------------------------
# The plan's slots
# --------------------------------------------------------------------------------------------


def _sectoral_components(catalog: Catalog, levels: tuple[str, ...]) -> tuple[int, ...]:
    """The union of the levels' section 5.2 lines, in order of first mention."""
    seen: list[int] = []
    for code in levels:
        for number in catalog.level(code).sectoral_components:
            if number not in seen:
                seen.append(number)
    return tuple(seen)


def _slot(
    *,
    plan_key: str,
    kind: SessionKind,
    rule: SessionRule,
    rules: PlanRules,
    month: PlanMonth,
    year: int,
    holidays: frozenset[date],
    topics: tuple[str, ...],
    components: tuple[int, ...],
    audience: dict[str, Any],
) -> PlannedSession:
    planned = nth_weekday(year, month.month, rule.weekday_number, rule.week)
    day = skip_holidays(planned, holidays, rules.on_holiday)
    tz = rules.tz
    values = {"month": month.name.lower(), "year": year}
    return PlannedSession(
        plan_key=plan_key,
        kind=kind,
        month=month.month,
        title=rule.title.format(**values),
        description=rule.description.format(
            **values, objective=month.objective, purpose=month.purpose
        ),
        topics=topics,
        components=components,
        audience=audience,
        mandatory=kind == SessionKind.SECTORAL,
        modality=rule.modality,
        planned_day=planned,
        day=day,
        start_at=datetime.combine(day, rule.start_time, tzinfo=tz).astimezone(UTC),
        end_at=datetime.combine(day, rule.end_time, tzinfo=tz).astimezone(UTC),
    )


def plan_schedule(plan: PlanData, catalog: Catalog, year: int | None = None) -> PlannedSchedule:
    """Every slot of the plan's months in ``year`` (default: the plan's year), in date order.

    Raises ``PlanWithoutRules`` when the plan has no rules and ``KeyError`` for a level code
    the catalogue does not know (``content check`` reports both).
    """
    rules = plan.rules
    if rules is None:
        raise PlanWithoutRules(plan.year)
    target = year if year is not None else plan.year
    listed = rules.holidays_of(target)
    holidays = listed or frozenset()
    slots: list[PlannedSession] = []
    for month in plan.months:
        if rules.group.months is None or month.month in rules.group.months:
            slots.append(
                _slot(
                    plan_key=f"{target}-{month.month:02d}-{SessionKind.GROUP.value}",
                    kind=SessionKind.GROUP,
                    rule=rules.group,
                    rules=rules,
                    month=month,
                    year=target,
                    holidays=holidays,
                    topics=month.activities.grupal,
                    components=month.components,
                    audience=dict(ALL),
                )
            )
        for rule in rules.sectoral:
            if rule.months is not None and month.month not in rule.months:
                continue
            slots.append(
                _slot(
                    plan_key=f"{target}-{month.month:02d}-{SessionKind.SECTORAL.value}-{rule.key}",
                    kind=SessionKind.SECTORAL,
                    rule=rule,
                    rules=rules,
                    month=month,
                    year=target,
                    holidays=holidays,
                    topics=month.activities.sectorial,
                    components=_sectoral_components(catalog, rule.levels),
                    audience=normalise({"levels": list(rule.levels)}),
                )
            )
    slots.sort(key=lambda p: (p.start_at, p.plan_key))
    return PlannedSchedule(year=target, sessions=tuple(slots), holidays_listed=listed is not None)


# --------------------------------------------------------------------------------------------
# Writing the sessions
# --------------------------------------------------------------------------------------------


def new_uid() -> str:
    """A session's calendar UID: generated once, never changed (not even when it moves)."""
    return f"{uuid4()}@{UID_DOMAIN}"


def _line(row: Session | PlannedSession, session_id: int | None = None) -> SessionLine:
    return SessionLine(row.plan_key or "", row.title, row.start_at, session_id)


async def _has_invitees(s: AsyncSession, session_id: int) -> bool:
    count = await s.scalar(
        select(func.count())
        .select_from(SessionInvite)
        .where(SessionInvite.session_id == session_id)
    )
    return bool(count)


async def generate_sessions(
    db: Database,
    plan: PlanData,
    catalog: Catalog,
    *,
    now: datetime,
    year: int | None = None,
    reminder_offsets: list[timedelta] | None = None,
    dry_run: bool = False,
) -> GenerationReport:
    """Create, move or leave alone the sessions of the plan's slots in ``year``; one transaction.

    ``reminder_offsets`` are the settings' offsets (``Settings.reminder_offset_list``), used to
    re-plan the reminders of a moved session that has invitees. With ``dry_run`` nothing is
    written; the report says what would be done.
    """
    schedule = plan_schedule(plan, catalog, year)
    report = GenerationReport(
        year=schedule.year,
        plan_year=plan.year,
        dry_run=dry_run,
        planned=len(schedule.sessions),
        holidays_listed=schedule.holidays_listed,
        holiday_moves=[p for p in schedule.sessions if p.holiday_moved],
    )
    offsets = list(reminder_offsets or [])
    keys = [p.plan_key for p in schedule.sessions]
    async with db.session() as s:
        existing = {
            row.plan_key: row
            for row in (
                await s.execute(
                    select(Session)
                    .where(Session.plan_key.in_(keys))  # type: ignore[union-attr]
                    .with_for_update()  # PostgreSQL: a coordinator's edit waits for this run
                )
            ).scalars()
        }
        for planned in schedule.sessions:
            row = existing.get(planned.plan_key)
            if row is None:
                if planned.start_at <= now:
                    report.past.append(_line(planned))
                    continue
                session_id = None
                if not dry_run:
                    row = _new_session(planned, now)
                    s.add(row)
                    await s.flush()
                    session_id = row.id
                report.created.append(_line(planned, session_id))
                continue
            assert row.id is not None
            if row.start_at <= now or planned.start_at <= now:
                report.past.append(_line(row, row.id))
            elif row.edited_by is not None or row.status != SessionStatus.SCHEDULED:
                report.edited.append(_line(row, row.id))
            elif row.start_at == planned.start_at and row.end_at == planned.end_at:
                report.unchanged.append(_line(row, row.id))
            else:
                convened = await _has_invitees(s, row.id)
                report.moved.append(
                    MovedSession(
                        session_id=row.id,
                        plan_key=planned.plan_key,
                        title=row.title,
                        old_start_at=row.start_at,
                        start_at=planned.start_at,
                        convened=convened,
                    )
                )
                if not dry_run:
                    row.start_at, row.end_at = planned.start_at, planned.end_at
                    row.sequence += 1
                    row.updated_at = now
                    await s.flush()
                    if convened:
                        await plan_reminders(s, row.id, offsets, now=now)
        stale = (
            await s.execute(
                select(Session)
                .where(
                    Session.plan_key.like(f"{schedule.year}-%"),  # type: ignore[union-attr]
                    Session.plan_key.not_in(keys),  # type: ignore[union-attr]
                )
                .order_by(Session.start_at)
            )
        ).scalars()
        report.not_in_plan = [_line(row, row.id) for row in stale]
    return report


def _new_session(planned: PlannedSession, now: datetime) -> Session:
    return Session(
        uid=new_uid(),
        plan_key=planned.plan_key,
        kind=planned.kind.value,
        title=planned.title,
        description=planned.description,
        topics=list(planned.topics),
        components=list(planned.components),
        audience=dict(planned.audience),
        mandatory=planned.mandatory,
        start_at=planned.start_at,
        end_at=planned.end_at,
        modality=planned.modality,
        place=None,
        link=None,
        status=SessionStatus.SCHEDULED.value,
        sequence=0,
        created_at=now,
        updated_at=now,
    )
