"""iCalendar building (``icalendar``): one session as an ``.ics`` file, and feeds of many.

The rules of design.md: one stable UID per session, SEQUENCE from the record, DTSTAMP and
LAST-MODIFIED from the record's last change (never the request time), times with
``TZID=America/Lima`` and its VTIMEZONE, cancelled sessions with STATUS:CANCELLED, feeds with
X-WR-CALNAME, REFRESH-INTERVAL and X-PUBLISHED-TTL of six hours. Words come from
``content/calendar.yaml`` and ``content/templates/calendar/``.

Feeds are served often (every calendar client polls them) and ``icalendar`` serialises a
few thousand events a second at best, so :meth:`CalendarBuilder.feed` keeps each event's
serialised text, keyed by the record's version (:func:`session_version`: id, sequence, status
and ``updated_at`` — so every change to a session must set ``updated_at``, which design.md
already requires for DTSTAMP and LAST-MODIFIED), and the calendar's head with its VTIMEZONE:
a feed is then those pieces joined. A builder is made per load of ``content/``, so a reload of
the words starts with empty caches.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from collections.abc import Hashable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import yaml
from icalendar import Calendar, Event, Timezone, vDuration, vText

from bot.models import Session, SessionStatus
from bot.texts import Texts

PRODID = "-//Secretaria de Integridad Publica PCM//Integridad Bot//ES"
REFRESH = timedelta(hours=6)
#: Serialised events kept by one builder (a year of sessions and meetings fits many times).
EVENT_CACHE_SIZE = 4096
END_CALENDAR = b"END:VCALENDAR\r\n"


def session_version(session: Session) -> tuple[Hashable, ...]:
    """What identifies one state of a session's event: every change to a session sets
    ``updated_at`` (its DTSTAMP and LAST-MODIFIED) and changes of time, place or status also
    raise ``sequence``, so equal versions give equal events."""
    return version_key(session.id or 0, session.sequence, session.status, session.updated_at)


def version_key(
    session_id: int, sequence: int, status: str, updated_at: datetime
) -> tuple[Hashable, ...]:
    """:func:`session_version` from the columns alone (for queries that load no session)."""
    return (session_id, sequence, status, updated_at)


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
        self._timezone: Timezone | None = None
        self._heads: dict[str, bytes] = {}
        self._events: OrderedDict[tuple[Hashable, ...], bytes] = OrderedDict()
        self._fingerprint: str | None = None

    @property
    def fingerprint(self) -> str:
        """A digest of everything besides the records that shapes a feed (words, template,
        time zone): part of a feed's ETag, so a content reload is seen by clients."""
        if self._fingerprint is None:
            loader = self.texts.env.loader
            template = ""
            if loader is not None:
                template = loader.get_source(self.texts.env, "calendar/event_description.txt")[0]
            digest = hashlib.sha256()
            for part in (PRODID, str(self.tz.key), repr(self.words), template):
                digest.update(part.encode("utf-8") + b"\0")
            self._fingerprint = digest.hexdigest()[:16]
        return self._fingerprint

    def timezone(self) -> Timezone:
        """The VTIMEZONE of the bot's time zone (built once: it takes milliseconds)."""
        if self._timezone is None:
            self._timezone = Timezone.from_tzid(str(self.tz.key))
        return self._timezone

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
        cal.add_component(self.timezone())
        for session in sessions:
            cal.add_component(self.event(session))
        return cal

    def session_file(self, session: Session) -> str:
        """One session as the text of an ``.ics`` file (for "Añadir al calendario")."""
        return self.calendar([session], name_key="session", feed=False).to_ical().decode()

    def feed(self, sessions: Iterable[Session], *, name_key: str) -> bytes:
        """A feed's text: what ``calendar(..., feed=True).to_ical()`` gives, from the caches."""
        return self.assemble((self.event_text(s) for s in sessions), name_key=name_key)

    def event_text(self, session: Session) -> bytes:
        """One ``BEGIN:VEVENT`` … ``END:VEVENT`` block, serialised once per version."""
        key = session_version(session)
        text = self.cached_event(key)
        if text is None:
            text = self.event(session).to_ical()
            self._events[key] = text
            if len(self._events) > EVENT_CACHE_SIZE:
                self._events.popitem(last=False)
        return text

    def cached_event(self, key: tuple[Hashable, ...]) -> bytes | None:
        """The serialised event of a version, if this builder made it already."""
        text = self._events.get(key)
        if text is not None:
            self._events.move_to_end(key)
        return text

    def assemble(self, events: Iterable[bytes], *, name_key: str) -> bytes:
        """A feed from serialised events (see :meth:`event_text`)."""
        return b"".join((self._head(name_key), *events, END_CALENDAR))

    def _head(self, name_key: str) -> bytes:
        """The feed's properties and VTIMEZONE: the calendar's text without its end line."""
        head = self._heads.get(name_key)
        if head is None:
            text = self.calendar((), name_key=name_key, feed=True).to_ical()
            if not text.endswith(END_CALENDAR):  # pragma: no cover - icalendar's own format
                raise ValueError("unexpected end of a serialised calendar")
            head = self._heads[name_key] = text[: -len(END_CALENDAR)]
        return head


def session_filename(session: Session) -> str:
    return (
        f"sesion-{session.start_at.astimezone(ZoneInfo('America/Lima')):%Y-%m-%d}-{session.id}.ics"
    )
