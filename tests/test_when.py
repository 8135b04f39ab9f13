"""Dates typed in many shapes, read in Lima time (bot/when.py)."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from bot.when import WhenError, parse_when

LIMA = ZoneInfo("America/Lima")
NOW = datetime(2026, 4, 1, 14, 0, tzinfo=UTC)  # Wednesday 1 April 2026, 09:00 in Lima


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("14/4 10am", (2026, 4, 14, 10, 0)),
        ("14-04-2026 15:00", (2026, 4, 14, 15, 0)),
        ("14.04.2026 10h", (2026, 4, 14, 10, 0)),
        ("14/4 10h30", (2026, 4, 14, 10, 30)),
        ("14/04/26 3pm", (2026, 4, 14, 15, 0)),
        ("10am 14/4", (2026, 4, 14, 10, 0)),
        ("2026-04-14 10:00", (2026, 4, 14, 10, 0)),
        ("14 de abril 10:00", (2026, 4, 14, 10, 0)),
        ("20/5 a las 3 pm", (2026, 5, 20, 15, 0)),
        ("15:30 del 20 de mayo", (2026, 5, 20, 15, 30)),
        ("mañana 10:00", (2026, 4, 2, 10, 0)),
        ("10/10 10:00", (2026, 10, 10, 10, 0)),
        ("1/4 10:00", (2026, 4, 1, 10, 0)),
    ],
)
def test_shapes_read_in_lima(typed: str, expected: tuple[int, ...]) -> None:
    result = parse_when(typed, now=NOW, tz=LIMA)
    assert result.ok, result.error
    assert result.value is not None and result.value.tzinfo is UTC
    local = result.value.astimezone(LIMA)
    assert (local.year, local.month, local.day, local.hour, local.minute) == expected


@pytest.mark.parametrize(
    ("typed", "error"),
    [
        ("", WhenError.EMPTY),
        ("   ", WhenError.EMPTY),
        ("x" * 200, WhenError.TOO_LONG),
        ("hola", WhenError.UNREADABLE),
        ("31/02 10:00", WhenError.UNREADABLE),
        ("31/02", WhenError.UNREADABLE),
        ("14/4", WhenError.NO_TIME),
        ("ayer 10am", WhenError.PAST),
        ("30/3 10:00", WhenError.PAST),  # two days ago, not next year
        ("1/4 08:00", WhenError.PAST),  # earlier today
        ("14/4/2030 10:00", WhenError.TOO_FAR),
    ],
)
def test_refusals_say_why(typed: str, error: WhenError) -> None:
    assert parse_when(typed, now=NOW, tz=LIMA).error is error
