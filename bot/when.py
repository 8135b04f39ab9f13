"""Dates and times typed by people ("14/4 10am", "14-04-2026 15:00", "20 de mayo a las 3 pm"),
read in the bot's time zone with ``dateparser`` and returned in UTC — or why they were refused.

dateparser does the reading; this module only guards it: a date typed with numbers must come
back with the same day and month (dateparser silently reads some shapes wrongly), a time must be
given, and the moment must be ahead of ``now`` and not absurdly far.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

import dateparser

MAX_TEXT = 100
MAX_AHEAD = timedelta(days=400)

_NUMERIC_DATE = re.compile(r"\b(\d{1,2})\s*[/.\-]\s*(\d{1,2})(?:\s*[/.\-]\s*(\d{2,4}))?\b")
_HOUR_H = re.compile(r"\b(\d{1,2})\s*(?:h|hs|hrs|horas)\b", re.IGNORECASE)
_HOUR_H_MIN = re.compile(r"\b(\d{1,2})\s*h\s*(\d{2})\b", re.IGNORECASE)
_TIME = re.compile(
    r"\d{1,2}\s*:\s*\d{2}|\d{1,2}\s*(?:a\.?\s*m\.?|p\.?\s*m\.?)(?![a-z])|mediod[ií]a",
    re.IGNORECASE,
)
_YEAR = re.compile(r"\b\d{4}\b|\b\d{1,2}/\d{1,2}/\d{2}\b")
_ISO_DATE = re.compile(r"\b(\d{4})-(\d{1,2})-(\d{1,2})\b")


class WhenError(StrEnum):
    EMPTY = "empty"
    TOO_LONG = "too_long"
    UNREADABLE = "unreadable"  # not a date, or an impossible one ("31/02")
    NO_TIME = "no_time"
    PAST = "past"
    TOO_FAR = "too_far"


@dataclass(frozen=True)
class ParsedWhen:
    value: datetime | None  # aware, UTC
    error: WhenError | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


def _normalise(text: str) -> str:
    text = " ".join(text.split())
    text = _HOUR_H_MIN.sub(lambda m: f"{m.group(1)}:{m.group(2)}", text)
    text = _HOUR_H.sub(lambda m: f"{m.group(1)}:00", text)
    iso = _ISO_DATE.search(text)
    if iso:  # 2026-04-14 → 14/04/2026 so one day-first order reads every shape
        text = text.replace(iso.group(0), f"{iso.group(3)}/{iso.group(2)}/{iso.group(1)}")
    return _NUMERIC_DATE.sub(
        lambda m: "/".join(p for p in (m.group(1), m.group(2), m.group(3)) if p), text
    )


def parse_when(
    text: str,
    *,
    now: datetime,
    tz: ZoneInfo,
    require_time: bool = True,
    max_ahead: timedelta = MAX_AHEAD,
) -> ParsedWhen:
    """Read a moment typed in ``tz``; ``now`` is aware. Dates without a year are the next one."""
    raw = (text or "").strip()
    if not raw:
        return ParsedWhen(None, WhenError.EMPTY)
    if len(raw) > MAX_TEXT:
        return ParsedWhen(None, WhenError.TOO_LONG)
    normalised = _normalise(raw)
    local_now = now.astimezone(tz).replace(tzinfo=None)
    parsed = dateparser.parse(
        normalised,
        languages=["es", "en"],
        settings={
            "DATE_ORDER": "DMY",
            "PREFER_DATES_FROM": "future",
            "TIMEZONE": str(tz.key),
            "RETURN_AS_TIMEZONE_AWARE": True,
            "RELATIVE_BASE": local_now,
            "REQUIRE_PARTS": ["day", "month"],
        },
    )
    if parsed is None:
        return ParsedWhen(None, WhenError.UNREADABLE)
    numeric = _NUMERIC_DATE.search(normalised)
    if numeric and (int(numeric.group(1)), int(numeric.group(2))) != (parsed.day, parsed.month):
        return ParsedWhen(None, WhenError.UNREADABLE)
    if require_time and not _TIME.search(normalised):
        return ParsedWhen(None, WhenError.NO_TIME)
    value = parsed.astimezone(UTC)
    if value - now > timedelta(days=183) and not _YEAR.search(normalised):
        # "30/3" typed on 1 April means the day before, not next year's.
        try:
            last_year = parsed.replace(year=parsed.year - 1).astimezone(UTC)
        except ValueError:  # 29 February
            last_year = None
        if last_year is not None and now - last_year < timedelta(days=62):
            return ParsedWhen(last_year, WhenError.PAST)
    if value <= now:
        return ParsedWhen(value, WhenError.PAST)
    if value - now > max_ahead:
        return ParsedWhen(value, WhenError.TOO_FAR)
    return ParsedWhen(value)
