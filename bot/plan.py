"""The yearly plan's schedule (``content/plan/<year>.yaml``): typed, loaded and validated.

The file holds section IX of the Plan de Trabajo de Asistencias Técnicas ("Cronograma de
asistencias técnicas") as data: for each month its objective, the activities of each type of
assistance (the plan's numbered alternatives, joined in the plan by "y/o", text verbatim), the
modality and the purpose ("finalidad"); plus ``group_topics``, the components of the group
assistance (section 5.1). The scheduling code builds sessions from it; the FAQ builds one answer
per month from it.

It also holds ``sectoral_audiences`` (section 5.2: the levels the sectoral assistance is for;
their components live in the catalogue, never copied) and ``rules`` for dating the sessions
(``PlanRules``: weekday, week of the month, times in Lima, holidays per year), used by
``scheduling/generator.py``. Both are optional so that a plan without them still feeds the FAQ;
``schedule generate`` refuses a plan without rules.

Other top-level keys are accepted and kept (``PlanData.model_extra``), so that other parts of the
product can add their own sections without this loader refusing the file.
"""

from __future__ import annotations

import string
from datetime import date, time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from bot.content_problems import ContentProblem

if TYPE_CHECKING:
    from bot.catalog import Catalog

PLAN_DIR = "plan"
PLAN_YEAR = 2025
ASSISTANCE_TYPES = ("grupal", "sectorial", "individual")

# libyaml's loader when PyYAML has it: the content is read at start-up and on every reload.
SAFE_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class PlanLoader(SAFE_LOADER):  # type: ignore[misc, valid-type]
    """The safe loader, with dates kept as text: pydantic then reports a bad holiday date
    (2025-02-30) with its entry instead of PyYAML failing on the whole file."""


PlanLoader.add_constructor(
    "tag:yaml.org,2002:timestamp", lambda loader, node: loader.construct_scalar(node)
)

NonEmptyStr = Annotated[str, Field(min_length=1)]
ComponentNumber = Annotated[int, Field(ge=1, le=9)]
Code = Annotated[str, Field(pattern=r"^[a-z0-9]+(?:-[a-z0-9]+)*$", max_length=48)]

# Sessions are dated on working days only.
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday")
Weekday = Literal["monday", "tuesday", "wednesday", "thursday", "friday"]
Modality = Literal["virtual", "presencial", "mixta"]
HolidayPolicy = Literal["next_working_day", "same_weekday_next_week"]
TITLE_FIELDS = frozenset({"month", "year"})
DESCRIPTION_FIELDS = frozenset({"month", "year", "objective", "purpose"})


def plan_file(year: int = PLAN_YEAR) -> str:
    """The plan's path relative to the content directory, e.g. ``plan/2025.yaml``."""
    return f"{PLAN_DIR}/{year}.yaml"


class MonthActivities(BaseModel):
    """The activities of one month, by type of assistance (the plan's alternatives, in order)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    grupal: tuple[NonEmptyStr, ...] = Field(min_length=1)
    sectorial: tuple[NonEmptyStr, ...] = Field(min_length=1)
    individual: tuple[NonEmptyStr, ...] = Field(min_length=1)

    def of_type(self, kind: str) -> tuple[str, ...]:
        """The activities of ``kind`` (``grupal``, ``sectorial`` or ``individual``)."""
        if kind not in ASSISTANCE_TYPES:
            raise KeyError(kind)
        return tuple(getattr(self, kind))


class PlanMonth(BaseModel):
    """One row of the plan's schedule."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    month: int = Field(ge=1, le=12)
    name: NonEmptyStr  # as the plan spells it ("Setiembre")
    objective: NonEmptyStr
    activities: MonthActivities
    modality: NonEmptyStr
    purpose: NonEmptyStr  # the plan's "Finalidad"
    components: tuple[ComponentNumber, ...] = ()  # components the activities name explicitly


def _parse_hhmm(value: object) -> str:
    if isinstance(value, int) and not isinstance(value, bool):
        # YAML reads an unquoted 10:00 as the number 600 (base 60).
        raise ValueError('write the time in quotes, e.g. "10:00"')
    if not isinstance(value, str):
        raise ValueError('expected a time such as "10:00"')
    try:
        parsed = time.fromisoformat(value)
    except ValueError:
        raise ValueError(f'{value!r} is not a time such as "10:00"') from None
    if len(value) != 5 or parsed.second:
        raise ValueError(f'{value!r} is not a time such as "10:00"')
    return value


def _fields_of(template: str) -> set[str]:
    try:
        return {name for _, name, _, _ in string.Formatter().parse(template) if name is not None}
    except ValueError as exc:
        raise ValueError(f"bad braces: {exc}") from None


class SessionRule(BaseModel):
    """When and how one kind of session is held each month (the group session, say)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    week: int = Field(ge=1, le=4)  # the n-th such weekday of the month
    weekday: Weekday
    start: str
    end: str
    modality: Modality = "virtual"
    months: tuple[int, ...] | None = None  # only these months of the schedule; None: all
    title: NonEmptyStr = Field(max_length=250)
    description: str = ""

    @field_validator("start", "end", mode="before")
    @classmethod
    def _time(cls, value: object) -> str:
        return _parse_hhmm(value)

    @field_validator("title")
    @classmethod
    def _title_fields(cls, value: str) -> str:
        unknown = _fields_of(value) - TITLE_FIELDS
        if unknown:
            raise ValueError(f"unknown field(s) {sorted(unknown)}; use {sorted(TITLE_FIELDS)}")
        return value

    @field_validator("description")
    @classmethod
    def _description_fields(cls, value: str) -> str:
        unknown = _fields_of(value) - DESCRIPTION_FIELDS
        if unknown:
            raise ValueError(
                f"unknown field(s) {sorted(unknown)}; use {sorted(DESCRIPTION_FIELDS)}"
            )
        return value

    @model_validator(mode="after")
    def _end_after_start(self) -> SessionRule:
        if self.end_time <= self.start_time:
            raise ValueError(f"end {self.end} is not after start {self.start}")
        return self

    @property
    def start_time(self) -> time:
        return time.fromisoformat(self.start)

    @property
    def end_time(self) -> time:
        return time.fromisoformat(self.end)

    @property
    def weekday_number(self) -> int:
        """Monday is 0, as ``date.weekday()``."""
        return WEEKDAYS.index(self.weekday)


class SectoralRule(SessionRule):
    """The sectoral session of one audience (one or more government levels), each month."""

    key: Code  # part of the plan key: 2025-04-sectorial-<key>
    levels: tuple[Code, ...] = Field(min_length=1)


class PlanRules(BaseModel):
    """How the plan's months become dated sessions."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    timezone: NonEmptyStr = "America/Lima"
    on_holiday: HolidayPolicy = "next_working_day"
    holidays: dict[int, tuple[date, ...]] = Field(default_factory=dict)
    group: SessionRule
    sectoral: tuple[SectoralRule, ...] = ()

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r}") from None
        return value

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def holidays_of(self, year: int) -> frozenset[date] | None:
        """The holidays listed for ``year``, or ``None`` when the rules have no list for it."""
        listed = self.holidays.get(year)
        return frozenset(listed) if listed is not None else None


class SectoralAudience(BaseModel):
    """One government level of section 5.2 (its components are in catalog/levels.yaml)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    level: Code
    per_network: bool = False  # the plan also gives one line per network (catalog/networks.yaml)


class PlanData(BaseModel):
    """The plan's schedule for one year, months in calendar order."""

    model_config = ConfigDict(extra="allow", frozen=True)

    year: int = Field(ge=2000, le=2100)
    source: NonEmptyStr
    group_topics: tuple[ComponentNumber, ...] = Field(min_length=1)
    months: tuple[PlanMonth, ...] = Field(min_length=1)
    sectoral_audiences: tuple[SectoralAudience, ...] = ()
    rules: PlanRules | None = None

    @model_validator(mode="after")
    def _months_in_order(self) -> PlanData:
        numbers = [m.month for m in self.months]
        if len(set(numbers)) != len(numbers):
            raise ValueError(f"a month appears twice: {numbers}")
        if numbers != sorted(numbers):
            raise ValueError(f"months must be in calendar order: {numbers}")
        if len(set(self.group_topics)) != len(self.group_topics):
            raise ValueError(f"group_topics repeats a component: {list(self.group_topics)}")
        return self

    def month(self, number: int) -> PlanMonth:
        """The month numbered ``number`` (3 = March); ``KeyError`` if the plan has none."""
        for item in self.months:
            if item.month == number:
                return item
        raise KeyError(number)

    def maybe_month(self, number: int) -> PlanMonth | None:
        """The month numbered ``number``, or ``None``."""
        return next((m for m in self.months if m.month == number), None)


def _rule_entry(loc: list[Any], rules: Any) -> tuple[str, list[Any]]:
    """The entry naming a rule (``rules.sectoral[poder-ejecutivo]``) and the rest of ``loc``."""
    if len(loc) >= 2 and loc[1] == "group":
        return "rules.group", loc[2:]
    if len(loc) >= 3 and loc[1] == "sectoral" and isinstance(loc[2], int):
        items = rules.get("sectoral") if isinstance(rules, dict) else None
        raw = items[loc[2]] if isinstance(items, list) and loc[2] < len(items) else None
        key = raw.get("key") if isinstance(raw, dict) else None
        return f"rules.sectoral[{key if key is not None else loc[2]}]", loc[3:]
    if len(loc) >= 3 and loc[1] == "holidays":
        return f"rules.holidays.{loc[2]}", loc[3:]
    return "rules", loc[1:]


def _problems_from(exc: ValidationError, relative: str, data: Any) -> list[ContentProblem]:
    problems: list[ContentProblem] = []
    months = data.get("months") if isinstance(data, dict) else None
    rules = data.get("rules") if isinstance(data, dict) else None
    for error in exc.errors():
        loc = list(error["loc"])
        entry = ""
        message = str(error["msg"]).removeprefix("Value error, ")
        if len(loc) >= 2 and loc[0] == "months" and isinstance(loc[1], int):
            raw = months[loc[1]] if isinstance(months, list) and loc[1] < len(months) else None
            number = raw.get("month") if isinstance(raw, dict) else None
            entry = f"month {number}" if number is not None else f"months[{loc[1]}]"
            loc = loc[2:]
        elif loc and loc[0] == "rules":
            entry, loc = _rule_entry(loc, rules)
            if entry.startswith("rules.holidays.") and loc and isinstance(loc[0], int):
                # name the bad date itself: "'2025-02-30': Input should be a valid date..."
                problems.append(ContentProblem(relative, entry, f"{error['input']!r}: {message}"))
                continue
        elif len(loc) >= 2 and loc[0] == "sectoral_audiences" and isinstance(loc[1], int):
            entry, loc = f"sectoral_audiences[{loc[1]}]", loc[2:]
        where = ".".join(str(part) for part in loc) or "entry"
        problems.append(ContentProblem(relative, entry, f"{where}: {message}"))
    return problems


def _rules_problems(plan: PlanData, relative: str) -> list[ContentProblem]:
    """Checks across the rules and the schedule that pydantic cannot make field by field."""
    problems: list[ContentProblem] = []
    audiences = [a.level for a in plan.sectoral_audiences]
    for level in sorted({c for c in audiences if audiences.count(c) > 1}):
        problems.append(
            ContentProblem(relative, "sectoral_audiences", f"level {level} listed twice")
        )
    rules = plan.rules
    if rules is None:
        return problems
    scheduled = [m.month for m in plan.months]
    named: list[tuple[str, SessionRule]] = [("rules.group", rules.group)]
    named += [(f"rules.sectoral[{r.key}]", r) for r in rules.sectoral]
    for entry, rule in named:
        for month in rule.months or ():
            if month not in scheduled:
                problems.append(
                    ContentProblem(
                        relative,
                        entry,
                        f"months: {month} is not a month of the schedule ({scheduled})",
                    )
                )
    keys = [r.key for r in rules.sectoral]
    for key in sorted({k for k in keys if keys.count(k) > 1}):
        problems.append(ContentProblem(relative, f"rules.sectoral[{key}]", "key used twice"))
    for rule in rules.sectoral:
        for level in rule.levels:
            if plan.sectoral_audiences and level not in audiences:
                problems.append(
                    ContentProblem(
                        relative,
                        f"rules.sectoral[{rule.key}]",
                        f"levels: {level} is not in sectoral_audiences",
                    )
                )
    for year, days in sorted(rules.holidays.items()):
        entry = f"rules.holidays.{year}"
        for day in days:
            if day.year != year:
                problems.append(
                    ContentProblem(relative, entry, f"{day.isoformat()} is not in {year}")
                )
        for day in sorted({d for d in days if days.count(d) > 1}):
            problems.append(ContentProblem(relative, entry, f"{day.isoformat()} listed twice"))
    return problems


def check_plan_catalog(plan: PlanData, catalog: Catalog, relative: str) -> list[ContentProblem]:
    """The plan's level codes against the catalogue (``content check``, ``schedule generate``)."""
    problems: list[ContentProblem] = []
    for index, audience in enumerate(plan.sectoral_audiences):
        entry = f"sectoral_audiences[{index}]"
        if catalog.maybe_level(audience.level) is None:
            problems.append(
                ContentProblem(relative, entry, f"level: unknown level code {audience.level}")
            )
        elif audience.per_network and not [
            n for n in catalog.networks_of(audience.level) if not n.group
        ]:
            problems.append(
                ContentProblem(
                    relative, entry, f"per_network: level {audience.level} has no networks"
                )
            )
    if plan.rules is not None:
        for rule in plan.rules.sectoral:
            for level in rule.levels:
                if catalog.maybe_level(level) is None:
                    problems.append(
                        ContentProblem(
                            relative,
                            f"rules.sectoral[{rule.key}]",
                            f"levels: unknown level code {level}",
                        )
                    )
    return problems


def load_plan_file(
    path: Path, relative: str | None = None
) -> tuple[PlanData | None, list[ContentProblem]]:
    """Load and validate one plan file (``schedule generate --plan FILE``).

    ``relative`` names the file in the problems (default: the file's name). Returns the plan and
    no problems, or ``None`` and every problem found.
    """
    label = relative or path.name
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None, [ContentProblem(label, "", "file not found")]
    except (OSError, UnicodeDecodeError) as exc:
        return None, [ContentProblem(label, "", f"cannot read file: {exc}")]
    try:
        data = yaml.load(text, Loader=PlanLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark is not None else ""
        reason = getattr(exc, "problem", None) or str(exc)
        return None, [ContentProblem(label, where, f"invalid YAML: {reason}")]
    if not isinstance(data, dict):
        return None, [ContentProblem(label, "", "expected a mapping with year, source, months")]
    try:
        plan = PlanData.model_validate(data)
    except ValidationError as exc:
        return None, _problems_from(exc, label, data)
    problems = _rules_problems(plan, label)
    if problems:
        return None, problems
    return plan, []


def load_plan(
    content_dir: Path, year: int = PLAN_YEAR
) -> tuple[PlanData | None, list[ContentProblem]]:
    """Load ``content_dir/plan/<year>.yaml``; the plan and no problems, or ``None`` and all."""
    relative = plan_file(year)
    plan, problems = load_plan_file(content_dir / relative, relative)
    if plan is not None and plan.year != year:
        return None, [ContentProblem(relative, "", f"year is {plan.year}, expected {year}")]
    return plan, problems


def check_plan(content_dir: Path, catalog: Catalog) -> list[ContentProblem]:
    """The plan's references to the catalogue, for ``content check``.

    The plan's own problems (schedule, rules) are reported by the FAQ check, which loads the
    plan too; this adds only what needs the catalogue, and nothing when the plan cannot load.
    """
    plan, problems = load_plan(content_dir)
    if plan is None or problems:
        return []
    return check_plan_catalog(plan, catalog, plan_file())
