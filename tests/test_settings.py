"""Settings from the environment, named as in design.md."""

from __future__ import annotations

from datetime import timedelta

import pytest
from pydantic import ValidationError

from bot.settings import Settings, parse_offsets


def test_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("DATABASE_URL", "TELEGRAM_BOT_TOKEN", "ADMIN_TELEGRAM_IDS", "HTTP_PORT"):
        monkeypatch.delenv(name, raising=False)
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert settings.database_url == "sqlite+aiosqlite:///./data/integridad.db"
    assert (settings.http_host, settings.http_port) == ("127.0.0.1", 8080)
    assert settings.timezone == "America/Lima"
    assert settings.reminder_offset_list == [timedelta(days=7), timedelta(days=1),
                                             timedelta(hours=1)]
    assert settings.token is None
    assert not settings.webhook_mode


def test_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ADMIN_TELEGRAM_IDS", "11, 22 33")
    monkeypatch.setenv("DATABASE_URL", "postgresql://u:p@db:5432/bot")
    monkeypatch.setenv("COORDINATORS_CHAT_ID", "-100123")
    monkeypatch.setenv("WEBHOOK_URL", "https://bot.example.gob.pe/telegram")
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert settings.admin_telegram_ids == [11, 22, 33]
    assert settings.database_url == "postgresql+asyncpg://u:p@db:5432/bot"
    assert settings.coordinators_chat_id == -100123
    assert settings.webhook_mode


@pytest.mark.parametrize(("name", "value"), [("REMINDER_OFFSETS", "7 semanas"),
                                             ("TIMEZONE", "Lima/Peru"),
                                             ("ADMIN_TELEGRAM_IDS", "ana")])
def test_invalid_values_refused(monkeypatch: pytest.MonkeyPatch, name: str, value: str) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ValidationError):
        Settings(_env_file=None)  # type: ignore[call-arg]


def test_parse_offsets_sorted_and_deduplicated() -> None:
    assert parse_offsets("1h, 7d,1h,30m") == [timedelta(days=7), timedelta(hours=1),
                                              timedelta(minutes=30)]
