"""Loading and checking everything in ``content/``: catalogue, entities, templates, labels."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import yaml
from jinja2 import TemplateError

from bot.assistance import load_canned_replies
from bot.catalog import Catalog, EntityRow, load_catalog, load_entities
from bot.content_problems import ContentError, ContentProblem
from bot.entity_search import SearchVocabulary, load_search_vocabulary
from bot.faq import scale_entry_problems
from bot.faq_content import load_faq
from bot.faq_search import load_shorthand
from bot.icp import load_scale
from bot.plan import check_plan
from bot.telegram_html import parse_telegram_html, utf16_length
from bot.texts import TEMPLATE_SUFFIX, Texts, sample_environment

COMMAND_RE = re.compile(r"^[a-z0-9_]{1,32}$")
ROLES = ("officer", "coordinator", "admin")
LABEL_MAX = 64
MESSAGE_MAX = 4096


@dataclass(frozen=True)
class Content:
    catalog: Catalog
    entities: list[EntityRow]
    vocabulary: SearchVocabulary
    texts: Texts


def check_content(content_dir: Path) -> list[ContentProblem]:
    """Every problem in ``content_dir``; an empty list means it can be loaded."""
    problems: list[ContentProblem] = []
    catalog, catalog_problems = load_catalog(content_dir)
    problems += catalog_problems
    entry_ids: set[str] | None = None
    if catalog is not None:
        problems += load_entities(content_dir, catalog)[1]
        entries, faq_problems = load_faq(content_dir, catalog)  # and the plan they come from
        problems += faq_problems
        entry_ids = {entry.id for entry in entries}
        problems += check_plan(content_dir, catalog)  # the plan's level codes (sessions rules)
    problems += load_shorthand(content_dir)[1]
    scale, scale_problems = load_scale(content_dir)
    problems += scale_problems
    if scale is not None and entry_ids:  # the entries the ICP calculator's ratings name
        problems += scale_entry_problems(scale, entry_ids)
    problems += load_search_vocabulary(content_dir)[1]
    problems += load_canned_replies(content_dir)[1]  # assistance requests (issue 4)
    problems += _check_labels(content_dir / "labels.yaml")
    problems += _check_commands(content_dir / "commands.yaml")
    problems += _check_templates(content_dir / "templates")
    return problems


def load_content(content_dir: Path, texts: Texts | None = None) -> Content:
    """Load and validate; raise ContentError listing every problem."""
    problems = check_content(content_dir)
    if problems:
        raise ContentError(problems)
    catalog, _ = load_catalog(content_dir)
    assert catalog is not None
    entities, _ = load_entities(content_dir, catalog)
    return Content(
        catalog=catalog,
        entities=entities,
        vocabulary=load_search_vocabulary(content_dir)[0],
        texts=texts or Texts(content_dir),
    )


def _load_yaml(path: Path, problems: list[ContentProblem]) -> object:
    name = path.name
    if not path.exists():
        problems.append(ContentProblem(name, "", "file missing"))
        return None
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        problems.append(ContentProblem(name, "", f"invalid YAML: {exc}"))
        return None


def _check_labels(path: Path) -> list[ContentProblem]:
    problems: list[ContentProblem] = []
    data = _load_yaml(path, problems)
    if data is None:
        return problems
    if not isinstance(data, dict):
        return [ContentProblem(path.name, "", "must be a mapping of key: text")]
    for key, value in data.items():
        if not isinstance(value, str) or not value.strip():
            problems.append(ContentProblem(path.name, str(key), "label must be non-empty text"))
        elif len(value) > LABEL_MAX:
            problems.append(
                ContentProblem(path.name, str(key), f"label longer than {LABEL_MAX} characters")
            )
    return problems


def _check_commands(path: Path) -> list[ContentProblem]:
    problems: list[ContentProblem] = []
    data = _load_yaml(path, problems)
    if data is None:
        return problems
    if not isinstance(data, dict):
        return [ContentProblem(path.name, "", "must map each role to its list of commands")]
    for role in ROLES:
        if role not in data:
            problems.append(ContentProblem(path.name, role, "role missing"))
    for role, commands in data.items():
        if role not in ROLES:
            problems.append(ContentProblem(path.name, str(role), "unknown role"))
            continue
        if not isinstance(commands, list) or len(commands) > 100:
            problems.append(ContentProblem(path.name, role, "must be a list of commands"))
            continue
        seen: set[str] = set()
        for item in commands:
            command = str(item.get("command", "")) if isinstance(item, dict) else ""
            description = str(item.get("description", "")) if isinstance(item, dict) else ""
            entry = f"{role}/{command or '?'}"
            if not COMMAND_RE.match(command):
                problems.append(
                    ContentProblem(path.name, entry, "command must match [a-z0-9_]{1,32}")
                )
            if command in seen:
                problems.append(ContentProblem(path.name, entry, "duplicate command"))
            seen.add(command)
            if not 1 <= len(description) <= 256:
                problems.append(ContentProblem(path.name, entry, "description must be 1-256 chars"))
    return problems


def _check_templates(templates_dir: Path) -> list[ContentProblem]:
    problems: list[ContentProblem] = []
    if not templates_dir.is_dir():
        return [ContentProblem("templates", "", "folder missing")]
    env = sample_environment(templates_dir)
    for path in sorted(templates_dir.rglob("*" + TEMPLATE_SUFFIX)):
        name = path.relative_to(templates_dir).as_posix()
        if path.name.startswith("_"):
            continue  # macro libraries, checked through the templates that import them
        where = f"templates/{name}"
        try:
            rendered = env.get_template(name).render().strip()
        except TemplateError as exc:
            problems.append(ContentProblem(where, "", f"template error: {exc}"))
            continue
        parsed = parse_telegram_html(rendered)
        if parsed.error:
            problems.append(ContentProblem(where, "", f"Telegram would refuse it: {parsed.error}"))
        elif not parsed.plain_text.strip():
            problems.append(ContentProblem(where, "", "renders to an empty message"))
        elif utf16_length(parsed.plain_text) > MESSAGE_MAX:
            problems.append(ContentProblem(where, "", "longer than 4096 characters"))
    return problems
