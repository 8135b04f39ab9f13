"""The FAQ knowledge base in ``content/faq/``: typed entries, loaded and validated.

Curated entries live in ``content/faq/*.yaml`` (``entries: [...]``), one file per topic. Data-driven
entries (a network's priorities, a month's activities, the year's schedule) are generated from the
catalogue and the plan data, so their numbers are never copied by hand: their question and
alternative phrasings come from ``content/faq/_generated.yaml`` (files whose name starts with
``_`` hold no entries) and their answers from the templates in ``content/templates/faq/``.

``load_faq`` returns every entry and every problem found, each naming its file and entry id:
invalid YAML, schema errors, ids (format, length, duplicates across files), unknown or repeated
component numbers, answers that Telegram would refuse or longer than ``ANSWER_MAX`` characters
of plain text, a question or alternative that repeats another one, missing sources, and
unconfirmed sources whose answer does not ask the officer to verify the norm. It is pure: it
reads files and touches no database.
"""

from __future__ import annotations

import re
import string
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import yaml
from jinja2 import Environment, FileSystemLoader, StrictUndefined, TemplateError, select_autoescape
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from bot.catalog import Catalog, EntityRow, Level, Network, fold, load_entities
from bot.content_problems import ContentProblem
from bot.plan import SAFE_LOADER, PlanData, PlanMonth, load_plan
from bot.telegram_html import parse_telegram_html
from bot.texts import TEMPLATE_SUFFIX, format_lima

__all__ = [
    "ANSWER_MAX",
    "FaqEntry",
    "FaqSource",
    "PlanData",
    "PlanMonth",
    "faq_files",
    "fold_question",
    "load_faq",
    "load_plan",
]

FAQ_DIR = "faq"
GENERATED_FILE = "faq/_generated.yaml"
TEMPLATES_DIR = "templates"
ANSWER_MAX = 1200  # characters of plain text after Telegram's HTML parsing
QUESTION_MAX = 200  # the question is the answer's title
LABEL_MAX = 60  # a suggestion button shows ``FaqEntry.label``: ``short``, else the question
ID_MAX = 48
ID_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
ENTRY_KEYS = ("entries",)
# An unconfirmed source must make the answer tell the officer to check the norm in force.
VERIFY_RE = re.compile(r"\bverifique\b", re.IGNORECASE)
ARTICLE_RE = re.compile(r"\bart[íi]culos?\b|\bart\.", re.IGNORECASE)
SOURCE_LINE_RE = re.compile(r"^\s*fuente\s*:", re.IGNORECASE | re.MULTILINE)

# Ids of the generated entries: prefix + the network / level code or the folded month name.
NETWORK_ID = "brechas-{code}"
LEVEL_ID = "brechas-nivel-{code}"
MONTH_ID = "cronograma-{month}"
SCHEDULE_ID = "cronograma-{year}"


class FaqSource(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    document: str = Field(min_length=3)  # e.g. "Plan de Trabajo de Asistencias Técnicas 2025"
    section: str | None = None  # e.g. "2.1", "IX (abril)"; required by the loader
    confirmed: bool  # False: the answer must tell the officer to verify the norm in force


class FaqEntry(BaseModel):
    """One question and its answer (Telegram HTML)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    question: str = Field(min_length=5)
    short: str | None = None  # button label when the question is longer than LABEL_MAX
    alternatives: tuple[str, ...] = ()  # other phrasings: they tune the ranker
    answer: str = Field(min_length=10)
    components: tuple[int, ...] = ()  # 1-9
    source: FaqSource
    topic: str = "general"  # free label to group entries (icp, asistencias, cronograma…)
    generated: bool = False  # True for entries built from data (networks, months)
    network: str | None = None  # generated from this network's (or level's) data: its code
    month: int | None = None  # generated from this month of the plan's schedule
    # shown after the answer, for the officer asking: "own_network_gaps" adds their own
    # network's priorities (what /brechas shows) to an answer about "mi red"
    then: Literal["own_network_gaps"] | None = None

    @property
    def label(self) -> str:
        """The text for a suggestion button: ``short`` when set, else the question."""
        return self.short or self.question


def faq_files(content_dir: Path) -> list[Path]:
    """The curated entry files (``content/faq/*.yaml``, except those starting with ``_``)."""
    return sorted(
        path for path in (content_dir / FAQ_DIR).glob("*.yaml") if not path.name.startswith("_")
    )


def fold_question(text: str) -> str:
    """A question folded for duplicate detection: no accents, case, punctuation or extra spaces."""
    return " ".join(re.sub(r"[^0-9a-z]+", " ", fold(text)).split())


@dataclass(frozen=True, slots=True)
class _Located:
    """An entry and the file it comes from (a YAML file, or the template that rendered it)."""

    file: str
    entry: FaqEntry


# --------------------------------------------------------------------------------------------
# Curated entries
# --------------------------------------------------------------------------------------------


def _read_yaml(path: Path, relative: str, problems: list[ContentProblem]) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        problems.append(ContentProblem(relative, "", "file not found"))
        return None
    except (OSError, UnicodeDecodeError) as exc:
        problems.append(ContentProblem(relative, "", f"cannot read file: {exc}"))
        return None
    try:
        return yaml.load(text, Loader=SAFE_LOADER)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark is not None else ""
        reason = getattr(exc, "problem", None) or str(exc)
        problems.append(ContentProblem(relative, where, f"invalid YAML: {reason}"))
        return None


def _entry_name(raw: Any, index: int) -> str:
    if isinstance(raw, dict) and isinstance(raw.get("id"), str) and raw["id"].strip():
        return raw["id"]
    return f"#{index + 1}"


def _load_curated(content_dir: Path, problems: list[ContentProblem]) -> list[_Located]:
    located: list[_Located] = []
    for path in faq_files(content_dir):
        relative = path.relative_to(content_dir).as_posix()
        before = len(problems)
        data = _read_yaml(path, relative, problems)
        if len(problems) > before:
            continue
        if not isinstance(data, dict) or not isinstance(data.get("entries"), list):
            problems.append(
                ContentProblem(relative, "", "expected a mapping with an 'entries' list")
            )
            continue
        extra = sorted(str(key) for key in data if key not in ENTRY_KEYS)
        if extra:
            problems.append(ContentProblem(relative, "", f"unknown top-level keys: {extra}"))
        for index, raw in enumerate(data["entries"]):
            name = _entry_name(raw, index)
            if not isinstance(raw, dict):
                problems.append(ContentProblem(relative, name, "entry must be a mapping"))
                continue
            if raw.get("generated"):
                problems.append(
                    ContentProblem(relative, name, "generated: curated entries cannot set it")
                )
            try:
                entry = FaqEntry.model_validate(raw)
            except ValidationError as exc:
                for error in exc.errors():
                    loc = ".".join(str(part) for part in error["loc"]) or "entry"
                    problems.append(ContentProblem(relative, name, f"{loc}: {error['msg']}"))
                continue
            located.append(_Located(relative, entry))
    return located


# --------------------------------------------------------------------------------------------
# Generated entries
# --------------------------------------------------------------------------------------------


class _Phrasing(BaseModel):
    """How a kind of generated entry is asked: a question and alternatives with placeholders."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    template: str = Field(min_length=1)
    topic: str = Field(min_length=1)
    question: str = Field(min_length=5)
    short: str | None = None  # button label pattern, for questions longer than LABEL_MAX
    alternatives: tuple[str, ...] = Field(min_length=1)


class _NetworkPhrasing(_Phrasing):
    group_alternatives: tuple[str, ...] = Field(min_length=1)  # for a level's group entry
    of_name: dict[str, str] = Field(default_factory=dict)  # network code -> "del Poder Judicial"
    default_of_name: str = "de la {name}"
    extra_alternatives: dict[str, tuple[str, ...]] = Field(default_factory=dict)  # by code
    # for each other name of the network's entities in entities.csv ({entity}: acronyms and
    # aliases such as "mintra", "gore arequipa", "fiscalia")
    entity_alternatives: tuple[str, ...] = ()


class _LevelPhrasing(_Phrasing):
    of_name: dict[str, str] = Field(default_factory=dict)  # level code -> "del Poder Ejecutivo"
    default_of_name: str = "del nivel {name}"
    extra_alternatives: dict[str, tuple[str, ...]] = Field(default_factory=dict)
    intro: dict[str, str] = Field(default_factory=dict)  # level code -> a sentence or two


class _MonthPhrasing(_Phrasing):
    month_aliases: dict[int, tuple[str, ...]] = Field(default_factory=dict)


class _SinglePhrasing(_Phrasing):
    """One generated entry with a fixed id (its own source when it is not the plan)."""

    id: str = Field(min_length=1)
    section: str = Field(min_length=1)
    document: str | None = None  # default: the file's ``document``


class _Generated(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    document: str = Field(min_length=3)
    network_priorities: _NetworkPhrasing
    level_priorities: _LevelPhrasing
    month_activities: _MonthPhrasing
    schedule_overview: _Phrasing
    components_list: _SinglePhrasing
    government_levels: _SinglePhrasing
    assistance_topics: _SinglePhrasing
    components_by_month: _SinglePhrasing


def _environment(templates_dir: Path) -> Environment:
    """Same settings and filters as :class:`bot.texts.Texts`, without labels or commands."""
    env = Environment(
        loader=FileSystemLoader(str(templates_dir)),
        autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=StrictUndefined,
        keep_trailing_newline=False,
    )
    env.filters["fecha"] = format_lima
    return env


def _words(text: str) -> str:
    """``text`` the way officers type it: lower case, no accents, no punctuation."""
    return fold_question(text)


class _Builder:
    """Builds the generated entries; records every problem with its file and entry."""

    def __init__(
        self,
        content_dir: Path,
        phrasing: _Generated,
        catalog: Catalog,
        problems: list[ContentProblem],
    ) -> None:
        self.phrasing = phrasing
        self.catalog = catalog
        self.problems = problems
        self.env = _environment(content_dir / TEMPLATES_DIR)
        self.entries: list[_Located] = []

    def _format(self, pattern: str, entry_id: str, **values: str) -> str | None:
        try:
            return pattern.format(**values)
        except (KeyError, IndexError, ValueError) as exc:
            self.problems.append(
                ContentProblem(GENERATED_FILE, entry_id, f"bad placeholder in {pattern!r}: {exc}")
            )
            return None

    def _alternatives(
        self, patterns: Iterable[str], entry_id: str, **values: str
    ) -> tuple[str, ...]:
        """Patterns formatted with ``values``; those naming an empty value are skipped."""
        out: list[str] = []
        for pattern in patterns:
            fields = {name for _, name, _, _ in string.Formatter().parse(pattern) if name}
            if any(not values.get(name, "x") for name in fields):
                continue  # e.g. {acronym} for a network whose entities have none
            text = self._format(pattern, entry_id, **values)
            if text is not None and fold_question(text) not in {fold_question(t) for t in out}:
                out.append(text)
        return tuple(out)

    def _render(self, template: str, entry_id: str, **context: Any) -> str | None:
        try:
            return self.env.get_template(template + TEMPLATE_SUFFIX).render(**context).strip()
        except TemplateError as exc:
            where = f"{TEMPLATES_DIR}/{template}{TEMPLATE_SUFFIX}"
            self.problems.append(ContentProblem(where, entry_id, f"template error: {exc}"))
            return None
        except (KeyError, TypeError, ValueError) as exc:  # e.g. an unknown component number
            where = f"{TEMPLATES_DIR}/{template}{TEMPLATE_SUFFIX}"
            self.problems.append(ContentProblem(where, entry_id, f"cannot render: {exc!r}"))
            return None

    def _add(
        self,
        phrasing: _Phrasing,
        entry_id: str,
        question: str | None,
        alternatives: tuple[str, ...],
        answer: str | None,
        section: str,
        components: Sequence[int],
        document: str | None = None,
        values: dict[str, str] | None = None,
        **extra: Any,
    ) -> None:
        if question is None or answer is None:
            return
        short = None
        if phrasing.short is not None:
            short = self._format(phrasing.short, entry_id, **(values or {}))
            if short is None:
                return
        where = f"{TEMPLATES_DIR}/{phrasing.template}{TEMPLATE_SUFFIX}"
        try:
            entry = FaqEntry(
                id=entry_id,
                question=question,
                short=short,
                alternatives=alternatives,
                answer=answer,
                components=tuple(components),
                source=FaqSource(
                    document=document or self.phrasing.document, section=section, confirmed=True
                ),
                topic=phrasing.topic,
                generated=True,
                **extra,
            )
        except ValidationError as exc:
            for error in exc.errors():
                loc = ".".join(str(part) for part in error["loc"]) or "entry"
                self.problems.append(ContentProblem(where, entry_id, f"{loc}: {error['msg']}"))
            return
        self.entries.append(_Located(where, entry))

    # -- networks and levels -----------------------------------------------------------------

    def networks(self, acronyms: dict[str, str], names: dict[str, list[str]]) -> None:
        phrasing = self.phrasing.network_priorities
        for network in self.catalog.networks:
            entry_id = NETWORK_ID.format(code=network.code)
            of_name_pattern = phrasing.of_name.get(network.code, phrasing.default_of_name)
            of_name = self._format(of_name_pattern, entry_id, name=network.name)
            values = {
                "name": network.name,
                "short_name": network.short_name,
                "short": _words(network.short_name),
                "acronym": "" if network.group else _words(acronyms.get(network.code, "")),
            }
            question = (
                self._format(phrasing.question, entry_id, of_name=of_name, **values)
                if of_name is not None
                else None
            )
            patterns = (
                *(phrasing.group_alternatives if network.group else phrasing.alternatives),
                *phrasing.extra_alternatives.get(network.code, ()),
            )
            alternatives = [*self._alternatives(patterns, entry_id, **values)]
            alternatives += [
                text
                for name in names.get(network.code, ())
                if name != values["acronym"]
                for text in self._alternatives(phrasing.entity_alternatives, entry_id, entity=name)
            ]
            self._add(
                phrasing,
                entry_id,
                question,
                tuple(dict.fromkeys(alternatives)),
                self._render(phrasing.template, entry_id, network=network, catalog=self.catalog),
                _network_section(network),
                _unique(
                    [
                        *network.sectoral_components,
                        *(s.component for s in network.weakest_components),
                    ]
                ),
                values=values,
                network=network.code,
            )

    def levels(self) -> None:
        """One entry per level that has several networks (no group entry stands for it)."""
        phrasing = self.phrasing.level_priorities
        grouped = {n.level for n in self.catalog.networks if n.group}
        for level in self.catalog.ordered_levels():
            if level.code in grouped:
                continue
            entry_id = LEVEL_ID.format(code=level.code)
            of_name = self._format(
                phrasing.of_name.get(level.code, phrasing.default_of_name),
                entry_id,
                name=level.name,
            )
            values = {"name": level.name, "short_name": level.name, "short": _words(level.name)}
            question = (
                self._format(phrasing.question, entry_id, of_name=of_name, **values)
                if of_name is not None
                else None
            )
            patterns = (*phrasing.alternatives, *phrasing.extra_alternatives.get(level.code, ()))
            self._add(
                phrasing,
                entry_id,
                question,
                self._alternatives(patterns, entry_id, **values),
                self._render(
                    phrasing.template,
                    entry_id,
                    level=level,
                    networks=self.catalog.networks_of(level.code),
                    catalog=self.catalog,
                    intro=phrasing.intro.get(level.code, ""),
                ),
                _level_section(level),
                _unique(
                    [*level.sectoral_components, *(s.component for s in level.weakest_components)]
                ),
                values=values,
                network=level.code,
            )

    # -- the plan's schedule -----------------------------------------------------------------

    def months(self, plan: PlanData) -> None:
        phrasing = self.phrasing.month_activities
        for month in plan.months:
            folded = _words(month.name).replace(" ", "-")
            entry_id = MONTH_ID.format(month=folded)
            values = {"month": month.name.lower(), "year": str(plan.year)}
            question = self._format(phrasing.question, entry_id, **values)
            alternatives = list(self._alternatives(phrasing.alternatives, entry_id, **values))
            for alias in phrasing.month_aliases.get(month.month, ()):
                alias_values = {**values, "month": alias}
                for text in self._alternatives(phrasing.alternatives[:2], entry_id, **alias_values):
                    if text not in alternatives:
                        alternatives.append(text)
            self._add(
                phrasing,
                entry_id,
                question,
                tuple(alternatives),
                self._render(
                    phrasing.template, entry_id, month=month, plan=plan, catalog=self.catalog
                ),
                f"IX, {month.name.lower()}",
                month.components,
                values=values,
                month=month.month,
            )

    def schedule(self, plan: PlanData) -> None:
        phrasing = self.phrasing.schedule_overview
        entry_id = SCHEDULE_ID.format(year=plan.year)
        values = {"year": str(plan.year)}
        self._add(
            phrasing,
            entry_id,
            self._format(phrasing.question, entry_id, **values),
            self._alternatives(phrasing.alternatives, entry_id, **values),
            self._render(phrasing.template, entry_id, plan=plan, catalog=self.catalog),
            "IX",
            (),
            values=values,
        )

    def single(self, phrasing: _SinglePhrasing, plan: PlanData | None, **values: str) -> None:
        """A fixed entry rendered from the catalogue (and the plan, when the template needs it)."""
        self._add(
            phrasing,
            phrasing.id,
            self._format(phrasing.question, phrasing.id, **values),
            self._alternatives(phrasing.alternatives, phrasing.id, **values),
            self._render(phrasing.template, phrasing.id, plan=plan, catalog=self.catalog),
            phrasing.section,
            (),
            document=phrasing.document,
            values=values,
        )


def _unique(numbers: Iterable[int]) -> list[int]:
    return list(dict.fromkeys(numbers))


def _section_from(source: str | None, default: str) -> str:
    """``"2.1.1 y 5.2"`` from the catalogue's ``"Plan 2025, 2.1.1 y 5.2"``."""
    if not source:
        return default
    return re.sub(r"^Plan \d{4},\s*", "", source).strip() or default


def _network_section(network: Network) -> str:
    return _section_from(network.source, "2.1 y 5.2")


def _level_section(level: Level) -> str:
    return _section_from(level.source, "2.1 y 5.2")


def _network_acronyms(rows: Sequence[EntityRow]) -> dict[str, str]:
    """The acronym of each network's first entity that has one (MINSA for Salud, ...)."""
    acronyms: dict[str, str] = {}
    for row in rows:
        if row.network and row.acronym and row.network not in acronyms:
            acronyms[row.network] = row.acronym
    return acronyms


def _network_names(rows: Sequence[EntityRow]) -> dict[str, list[str]]:
    """Every acronym and alias of each network's entities, as folded words, in file order."""
    names: dict[str, list[str]] = {}
    for row in rows:
        if row.network:
            for name in (row.acronym, *row.aliases):
                folded = _words(name or "")
                if folded and folded not in names.setdefault(row.network, []):
                    names[row.network].append(folded)
    return names


def _load_generated(
    content_dir: Path,
    catalog: Catalog,
    plan: PlanData | None,
    problems: list[ContentProblem],
) -> list[_Located]:
    data = _read_yaml(content_dir / GENERATED_FILE, GENERATED_FILE, problems)
    if data is None:
        return []
    try:
        phrasing = _Generated.model_validate(data)
    except ValidationError as exc:
        for error in exc.errors():
            loc = ".".join(str(part) for part in error["loc"]) or "file"
            problems.append(ContentProblem(GENERATED_FILE, "", f"{loc}: {error['msg']}"))
        return []
    builder = _Builder(content_dir, phrasing, catalog, problems)
    entities, _ = load_entities(content_dir, catalog)  # its problems are its loader's to report
    builder.networks(_network_acronyms(entities), _network_names(entities))
    builder.levels()
    builder.single(phrasing.components_list, plan)
    builder.single(phrasing.government_levels, plan)
    if plan is not None:
        builder.months(plan)
        builder.schedule(plan)
        builder.single(phrasing.assistance_topics, plan, year=str(plan.year))
        builder.single(phrasing.components_by_month, plan, year=str(plan.year))
    return builder.entries


# --------------------------------------------------------------------------------------------
# Checks across entries
# --------------------------------------------------------------------------------------------


def _check_entry(item: _Located, known_components: set[int]) -> list[ContentProblem]:
    entry = item.entry
    problems: list[ContentProblem] = []

    def report(message: str) -> None:
        problems.append(ContentProblem(item.file, entry.id, message))

    if not ID_RE.match(entry.id):
        report("id must be lower-case kebab-case ascii (a-z, 0-9 and single '-')")
    if len(entry.id) > ID_MAX:
        report(f"id longer than {ID_MAX} characters")
    if not entry.question.strip():
        report("question is empty")
    if len(entry.question) > QUESTION_MAX:
        report(f"question longer than {QUESTION_MAX} characters")
    if entry.short is not None and not entry.short.strip():
        report("short is empty")
    if len(entry.label) > LABEL_MAX:
        what = "short" if entry.short else "question"
        report(f"{what} longer than {LABEL_MAX} characters: set a shorter 'short' for buttons")
    for alternative in entry.alternatives:
        if not fold_question(alternative):
            report("an alternative is empty")
    for number in entry.components:
        if number not in known_components:
            report(f"components: unknown component number {number}")
    repeated = sorted({n for n in entry.components if entry.components.count(n) > 1})
    for number in repeated:
        report(f"components: component {number} repeated")
    if not entry.source.document.strip():
        report("source.document is empty")
    if not (entry.source.section or "").strip():
        report("source.section is missing: name the section of the source document")

    parsed = parse_telegram_html(entry.answer)
    if parsed.error:
        report(f"answer: Telegram would refuse it: {parsed.error}")
        return problems
    plain = parsed.plain_text.strip()
    if not plain:
        report("answer is empty once the HTML is removed")
    elif len(plain) > ANSWER_MAX:
        report(f"answer has {len(plain)} characters of plain text, more than {ANSWER_MAX}")
    if SOURCE_LINE_RE.search(plain):
        report("answer has a 'Fuente:' line: the bot appends the source itself")
    if not entry.source.confirmed:
        if not VERIFY_RE.search(plain):
            report("unconfirmed source: the answer must ask to verify (say 'verifique ...')")
        if ARTICLE_RE.search(plain):
            report("unconfirmed source: the answer must not cite article numbers")
    return problems


def _check_all(located: Sequence[_Located], known_components: set[int]) -> list[ContentProblem]:
    problems: list[ContentProblem] = []
    first_file: dict[str, str] = {}
    for item in located:
        problems.extend(_check_entry(item, known_components))
        entry_id = item.entry.id
        if entry_id in first_file:
            problems.append(
                ContentProblem(
                    item.file, entry_id, f"duplicate id (also in {first_file[entry_id]})"
                )
            )
        else:
            first_file[entry_id] = item.file

    owner: dict[str, tuple[str, str]] = {}  # folded phrasing -> (entry id, file)
    for item in located:
        entry = item.entry
        for text in (entry.question, *entry.alternatives):
            key = fold_question(text)
            if not key:
                continue
            previous = owner.get(key)
            if previous is None:
                owner[key] = (entry.id, item.file)
            elif previous[0] == entry.id:
                problems.append(
                    ContentProblem(item.file, entry.id, f"phrasing repeated in the entry: {text!r}")
                )
            else:
                problems.append(
                    ContentProblem(
                        item.file,
                        entry.id,
                        f"question or alternative {text!r} repeats one of entry "
                        f"'{previous[0]}' ({previous[1]})",
                    )
                )
    return problems


# --------------------------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------------------------


def load_faq(
    content_dir: Path, catalog: Catalog, plan: PlanData | None = None
) -> tuple[list[FaqEntry], list[ContentProblem]]:
    """Every FAQ entry (curated, then generated) and every problem found.

    ``plan`` is the yearly plan (``bot.plan.load_plan``); when it is ``None`` the plan is loaded
    from ``content_dir`` and its problems are reported too (the month entries are left out if it
    cannot be loaded). Entries with problems are still returned when they could be built, so a
    caller decides whether problems are fatal; ``integridad-bot content check`` reports them.
    """
    problems: list[ContentProblem] = []
    if plan is None:
        plan, plan_problems = load_plan(content_dir)
        problems.extend(plan_problems)
    located = _load_curated(content_dir, problems)
    located += _load_generated(content_dir, catalog, plan, problems)
    known = {component.number for component in catalog.components}
    problems.extend(_check_all(located, known))
    return [item.entry for item in located], problems

