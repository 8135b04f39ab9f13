"""User-visible text: Jinja2 templates (Telegram HTML) and button labels, all from ``content/``.

Python code never holds a Spanish sentence: it names a template or a label and passes data.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import yaml
from babel.dates import format_datetime
from jinja2 import (
    ChainableUndefined,
    Environment,
    FileSystemLoader,
    StrictUndefined,
    select_autoescape,
)

TEMPLATE_SUFFIX = ".html"
LIMA = ZoneInfo("America/Lima")


def format_lima(value: datetime, tz: ZoneInfo = LIMA) -> str:
    """``martes 14 de abril de 2026, 10:00 (hora de Lima)`` style, via Babel ``es_PE``."""
    local = value.astimezone(tz)
    return format_datetime(local, "EEEE d 'de' MMMM 'de' y, HH:mm", locale="es_PE")


def _environment(templates_dir: Path, undefined: type = StrictUndefined) -> Environment:
    env = Environment(
        loader=FileSystemLoader(str(templates_dir)),
        autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=undefined,
        keep_trailing_newline=False,
    )
    env.filters["fecha"] = format_lima
    return env


class Texts:
    """Renders templates and looks up labels; loaded once, reloadable by building a new one."""

    def __init__(self, content_dir: Path, tz: ZoneInfo = LIMA) -> None:
        self.content_dir = content_dir
        self.tz = tz
        self.env = _environment(content_dir / "templates")
        self.env.filters["fecha"] = lambda value: format_lima(value, tz)
        with (content_dir / "labels.yaml").open(encoding="utf-8") as fh:
            self.labels: dict[str, str] = yaml.safe_load(fh) or {}
        with (content_dir / "commands.yaml").open(encoding="utf-8") as fh:
            self.commands: dict[str, list[dict[str, str]]] = yaml.safe_load(fh) or {}

    def render(self, name: str, **context: Any) -> str:
        """Render ``content/templates/<name>.html`` into Telegram HTML."""
        template = self.env.get_template(name + TEMPLATE_SUFFIX)
        return template.render(**context).strip()

    def render_text(self, name: str, **context: Any) -> str:
        """Render ``content/templates/<name>.txt`` as plain text (not escaped; calendars, files)."""
        template = self.env.get_template(name + ".txt")
        return template.render(**context).strip()

    def label(self, key: str, **values: Any) -> str:
        """A plain-text label (buttons, keyboard entries); ``{name}`` fields are filled in."""
        text = self.labels[key]
        return text.format(**values) if values else text


class _SampleUndefined(ChainableUndefined):
    """Renders missing values as a short sample word so static HTML can be checked."""

    def __str__(self) -> str:
        return "muestra"

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(())

    def _false(self, other: object) -> bool:
        return False

    __lt__ = __le__ = __gt__ = __ge__ = _false

    def _same(self, other: object) -> _SampleUndefined:
        return self

    __add__ = __radd__ = __sub__ = __rsub__ = __mul__ = __mod__ = _same

    def __call__(self, *args: object, **kwargs: object) -> _SampleUndefined:
        return self


def sample_environment(templates_dir: Path) -> Environment:
    """An environment that renders any template without real data (for ``content check``)."""
    env = _environment(templates_dir, undefined=_SampleUndefined)
    env.filters["fecha"] = lambda value: "martes 14 de abril de 2026, 10:00"
    return env
