"""Settings read from the environment (and an optional ``.env``), named as in design.md."""

from __future__ import annotations

import re
from datetime import timedelta
from functools import cached_property
from pathlib import Path
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CONTENT_DIR = PROJECT_ROOT / "content"
DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///./data/integridad.db"
_OFFSET_RE = re.compile(r"^(\d+)\s*([dhm])$")
_UNITS = {"d": "days", "h": "hours", "m": "minutes"}


def parse_offsets(raw: str) -> list[timedelta]:
    """Parse ``"7d,1d,1h"`` into timedeltas, largest first."""
    offsets: list[timedelta] = []
    for part in raw.split(","):
        part = part.strip().lower()
        if not part:
            continue
        match = _OFFSET_RE.match(part)
        if not match:
            raise ValueError(f"invalid reminder offset {part!r}: use forms like 7d, 1d, 1h, 30m")
        offsets.append(timedelta(**{_UNITS[match.group(2)]: int(match.group(1))}))
    return sorted(set(offsets), reverse=True)


def normalise_database_url(url: str) -> str:
    """Accept plain ``postgresql://`` and ``sqlite:///`` URLs and pick the async drivers."""
    if url.startswith(("postgres://", "postgresql://")):
        return "postgresql+asyncpg://" + url.split("://", 1)[1]
    if url.startswith("sqlite://") and not url.startswith("sqlite+"):
        return "sqlite+aiosqlite://" + url.split("://", 1)[1]
    return url


class Settings(BaseSettings):
    """Every setting of the bot; environment variable names are the upper-case field names."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    telegram_bot_token: SecretStr | None = None
    telegram_api_base_url: str = "https://api.telegram.org/bot"
    telegram_bot_username: str | None = None
    database_url: str = DEFAULT_DATABASE_URL
    http_host: str = "127.0.0.1"
    http_port: int = 8080
    public_base_url: str | None = None
    webhook_url: str | None = None
    webhook_secret: SecretStr | None = None
    admin_telegram_ids: Annotated[list[int], NoDecode] = Field(default_factory=list)
    coordinators_chat_id: int | None = None
    timezone: str = "America/Lima"
    reminder_offsets: str = "7d,1d,1h"
    content_dir: Path = DEFAULT_CONTENT_DIR
    invitation_ttl_days: int = Field(default=30, ge=1, le=365)
    log_level: str = "INFO"
    # individual assistance requests (issue 4): working days (Mon-Fri) before one is overdue
    request_overdue_days: int = Field(default=3, ge=1, le=60)

    @field_validator("admin_telegram_ids", mode="before")
    @classmethod
    def _split_ids(cls, value: object) -> object:
        if isinstance(value, str):
            return [int(p) for p in re.split(r"[,\s]+", value.strip()) if p]
        if isinstance(value, int):
            return [value]
        return value

    @field_validator("database_url")
    @classmethod
    def _normalise_url(cls, value: str) -> str:
        return normalise_database_url(value)

    @field_validator("reminder_offsets")
    @classmethod
    def _check_offsets(cls, value: str) -> str:
        parse_offsets(value)
        return value

    @field_validator("timezone")
    @classmethod
    def _check_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value

    @field_validator("coordinators_chat_id", "public_base_url", "webhook_url", mode="before")
    @classmethod
    def _empty_is_none(cls, value: object) -> object:
        return None if value == "" else value

    @cached_property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @cached_property
    def reminder_offset_list(self) -> list[timedelta]:
        return parse_offsets(self.reminder_offsets)

    @property
    def token(self) -> str | None:
        return self.telegram_bot_token.get_secret_value() if self.telegram_bot_token else None

    @property
    def webhook_mode(self) -> bool:
        return bool(self.webhook_url)
