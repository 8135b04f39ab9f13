"""The yearly plan's schedule (``content/plan/<year>.yaml``): typed, loaded and validated.

The file holds section IX of the Plan de Trabajo de Asistencias Técnicas ("Cronograma de
asistencias técnicas") as data: for each month its objective, the activities of each type of
assistance (the plan's numbered alternatives, joined in the plan by "y/o", text verbatim), the
modality and the purpose ("finalidad"); plus ``group_topics``, the components of the group
assistance (section 5.1). The scheduling code builds sessions from it; the FAQ builds one answer
per month from it.

Top-level keys other than ``year``, ``source``, ``months`` and ``group_topics`` are accepted and
kept (``PlanData.model_extra``), so that other parts of the product can add their own sections
(e.g. rules for dating the sessions) without this loader refusing the file.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from bot.content_problems import ContentProblem

PLAN_DIR = "plan"
PLAN_YEAR = 2025
ASSISTANCE_TYPES = ("grupal", "sectorial", "individual")

# libyaml's loader when PyYAML has it: the content is read at start-up and on every reload.
SAFE_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

NonEmptyStr = Annotated[str, Field(min_length=1)]
ComponentNumber = Annotated[int, Field(ge=1, le=9)]


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


class PlanData(BaseModel):
    """The plan's schedule for one year, months in calendar order."""

    model_config = ConfigDict(extra="allow", frozen=True)

    year: int = Field(ge=2000, le=2100)
    source: NonEmptyStr
    group_topics: tuple[ComponentNumber, ...] = Field(min_length=1)
    months: tuple[PlanMonth, ...] = Field(min_length=1)

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


def _problems_from(exc: ValidationError, relative: str, data: Any) -> list[ContentProblem]:
    problems: list[ContentProblem] = []
    months = data.get("months") if isinstance(data, dict) else None
    for error in exc.errors():
        loc = list(error["loc"])
        entry = ""
        if len(loc) >= 2 and loc[0] == "months" and isinstance(loc[1], int):
            raw = months[loc[1]] if isinstance(months, list) and loc[1] < len(months) else None
            number = raw.get("month") if isinstance(raw, dict) else None
            entry = f"month {number}" if number is not None else f"months[{loc[1]}]"
            loc = loc[2:]
        where = ".".join(str(part) for part in loc) or "entry"
        problems.append(ContentProblem(relative, entry, f"{where}: {error['msg']}"))
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
        data = yaml.load(text, Loader=SAFE_LOADER)
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
