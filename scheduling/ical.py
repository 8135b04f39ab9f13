"""iCalendar building (``icalendar``): one session as an ``.ics`` file, and feeds of many.

The rules of design.md: one stable UID per session, SEQUENCE from the record, DTSTAMP and
LAST-MODIFIED from the record's last change (never the request time), times with
``TZID=America/Lima`` and its VTIMEZONE, cancelled sessions with STATUS:CANCELLED, feeds with
X-WR-CALNAME, REFRESH-INTERVAL and X-PUBLISHED-TTL of six hours. Words come from
``content/calendar.yaml`` and ``content/templates/calendar/``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import yaml
from icalendar import Calendar, Event, vDuration, vText

from bot.models import Session, SessionStatus
from bot.texts import Texts

PRODID = "-//Secretaria de Integridad Publica PCM//Integridad Bot//ES"
REFRESH = timedelta(hours=6)


@dataclass(frozen=True)
class CalendarWords:
    calendar_names: dict[str, str]
    categories: dict[str, str]
    modalities: dict[str, str]
    organizer_name: str
    cancelled_prefix: str

    @classmethod
    def load(cls, content_dir: Path) -> CalendarWords:
        with (content_dir / "calendar.yaml").open(encoding="utf-8") as fh:
            data: dict[str, Any] = yaml.safe_load(fh) or {}
        return cls(
            calendar_names=dict(data["calendar_names"]),
            categories=dict(data["categories"]),
            modalities=dict(data["modalities"]),
            organizer_name=str(data["organizer_name"]),
            cancelled_prefix=str(data.get("cancelled_prefix", "")),
        )


class CalendarBuilder:
    """Builds events and calendars in the bot's time zone with the content's words."""

    def __init__(self, texts: Texts, words: CalendarWords, tz: ZoneInfo) -> None:
        self.texts = texts
        self.words = words
        self.tz = tz

    def event(self, session: Session) -> Event:
        cancelled = session.status == SessionStatus.CANCELLED
        event = Event()
        event.add("uid", session.uid)
        event.add("sequence", session.sequence)
        event.add("dtstamp", session.updated_at)
        event.add("last-modified", session.updated_at)
        event.add("created", session.created_at)
        event.add("dtstart", session.start_at.astimezone(self.tz))
        event.add("dtend", session.end_at.astimezone(self.tz))
        prefix = self.words.cancelled_prefix if cancelled else ""
        event.add("summary", prefix + session.title)
        event.add(
            "description",
            self.texts.render_text(
                "calendar/event_description",
                session=session,
                modality=self.words.modalities.get(session.modality, session.modality),
            ),
        )
        location = session.place or session.link
        if location:
            event.add("location", location)
        if session.link:
            event.add("url", session.link)
        category = self.words.categories.get(session.kind)
        if category:
            event.add("categories", [category])
        event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
        event.add("transp", "TRANSPARENT" if cancelled else "OPAQUE")
        return event

    def calendar(self, sessions: Iterable[Session], *, name_key: str, feed: bool) -> Calendar:
        cal = Calendar()
        cal.add("prodid", PRODID)
        cal.add("version", "2.0")
        cal.add("calscale", "GREGORIAN")
        cal.add("method", "PUBLISH")
        cal.add("x-wr-calname", self.words.calendar_names[name_key])
        cal.add("x-wr-timezone", str(self.tz.key))
        if feed:
            cal.add("refresh-interval", vDuration(REFRESH), parameters={"VALUE": "DURATION"})
            cal.add("x-published-ttl", vText("PT6H"))
        for session in sessions:
            cal.add_component(self.event(session))
        cal.add_missing_timezones()
        return cal

    def session_file(self, session: Session) -> str:
        """One session as the text of an ``.ics`` file (for "Añadir al calendario")."""
        return self.calendar([session], name_key="session", feed=False).to_ical().decode()

    def feed(self, sessions: Iterable[Session], *, name_key: str) -> bytes:
        return self.calendar(sessions, name_key=name_key, feed=True).to_ical()


def session_filename(session: Session) -> str:
    return (
        f"sesion-{session.start_at.astimezone(ZoneInfo('America/Lima')):%Y-%m-%d}-{session.id}.ics"
    )
