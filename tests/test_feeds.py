"""Calendar feeds over real HTTP: what each feed holds, the iCalendar rules, reschedules and
cancellations, conditional requests, tokens (revoked, unknown, malformed), and ``/calendario``
in Telegram. Every feed is parsed with ``icalendar`` and, as a second and strict parser, with
``ical.js`` (the parser of Thunderbird) under node."""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import shutil
import subprocess
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime, parsedate_to_datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from icalendar import Calendar
from sqlalchemy import select

from bot.application import build_application
from bot.db import utcnow
from bot.http import build_http_app
from bot.models import CalendarToken, Session, SessionInvite, SessionStatus
from bot.officers import RegistrationDraft
from bot.plan import load_plan
from bot.services import Services
from scheduling.generator import generate_sessions
from scheduling.jobs import warm_feeds
from tests.conftest import BotFactory, BotHarness
from tests.fakebot import FakeTelegram, FakeUser
from tests.fakebot.serving import AsgiServer
from tests.flows import press, say

LIMA = ZoneInfo("America/Lima")
PUBLIC_BASE = "https://bot.example.gob.pe"
CALENDAR_TYPE = "text/calendar; charset=utf-8"
ICALJS_VERSION = "2.2.1"
NODE_DIR = Path(sys.prefix) / "share" / "integridad-tests-node"
NODE_SCRIPT = r"""
import ICAL from 'ical.js';
import { readFileSync } from 'node:fs';

const root = new ICAL.Component(ICAL.parse(readFileSync(0, 'utf8')));
if (root.name !== 'vcalendar') throw new Error('not a VCALENDAR: ' + root.name);
const zones = root.getAllSubcomponents('vtimezone').map((c) => new ICAL.Timezone(c));
for (const zone of zones) ICAL.TimezoneService.register(zone);
const refresh = root.getFirstProperty('refresh-interval');
const events = root.getAllSubcomponents('vevent').map((v) => {
  const event = new ICAL.Event(v);
  for (const name of ['uid', 'dtstart', 'dtend', 'dtstamp', 'sequence']) {
    if (!v.hasProperty(name)) throw new Error(`VEVENT without ${name}`);
  }
  if (event.endDate.compare(event.startDate) <= 0) throw new Error('ends before it starts');
  return {
    uid: event.uid,
    sequence: event.sequence,
    tzid: v.getFirstProperty('dtstart').getParameter('tzid') ?? null,
    zone: event.startDate.zone.tzid,
    start: event.startDate.toUnixTime(),
    end: event.endDate.toUnixTime(),
    local: event.startDate.toString(),
    status: v.getFirstPropertyValue('status'),
    summary: event.summary,
  };
});
console.log(JSON.stringify({
  calname: root.getFirstPropertyValue('x-wr-calname'),
  refresh: refresh ? refresh.getFirstValue().toString() : null,
  refresh_type: refresh ? refresh.type : null,
  ttl: root.getFirstPropertyValue('x-published-ttl'),
  timezones: zones.map((z) => z.tzid),
  events,
}));
"""

#: Parses a feed with ical.js; None where node is missing (local runs only: see the fixture).
IcalJs = Callable[[bytes], Awaitable[dict[str, Any] | None]]


# ---------------------------------------------------------------------------------------------
# the second parser: ical.js under node
# ---------------------------------------------------------------------------------------------


NO_NODE = "node/npm not installed here: the ical.js checks of the feeds are skipped (CI runs them)"


@pytest.fixture(scope="session")
def icaljs() -> IcalJs:
    """Parse a feed with ical.js; installs it once with npm into the virtualenv. Without node
    (a developer's machine) it parses nothing and returns None, so the ``icalendar`` checks
    still run, and ``test_the_strict_parser_is_here`` is skipped with the reason; in CI
    (``CI`` set) a missing node fails instead."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        if os.environ.get("CI"):
            pytest.fail("node and npm are required in CI for the ical.js check of the feeds")

        async def unavailable(feed: bytes) -> None:
            return None

        return unavailable
    package = NODE_DIR / "node_modules" / "ical.js" / "package.json"
    installed = package.exists() and json.loads(package.read_text())["version"] == ICALJS_VERSION
    if not installed:
        NODE_DIR.mkdir(parents=True, exist_ok=True)
        done = subprocess.run(
            [
                npm,
                "install",
                "--prefix",
                str(NODE_DIR),
                "--no-audit",
                "--no-fund",
                f"ical.js@{ICALJS_VERSION}",
            ],
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert done.returncode == 0, f"npm install ical.js failed:\n{done.stdout}\n{done.stderr}"
    script = NODE_DIR / "check_feed.mjs"  # beside node_modules, so `import 'ical.js'` resolves
    script.write_text(NODE_SCRIPT, encoding="utf-8")

    async def parse(feed: bytes) -> dict[str, Any] | None:
        proc = await asyncio.create_subprocess_exec(
            node,
            str(script),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        out, err = await asyncio.wait_for(proc.communicate(feed), 60)
        assert proc.returncode == 0, f"ical.js refused the feed:\n{err.decode()}"
        return json.loads(out)  # type: ignore[no-any-return]

    return parse


async def test_the_strict_parser_is_here(icaljs: IcalJs) -> None:
    minimal = (
        b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//t//ES\r\nBEGIN:VEVENT\r\n"
        b"UID:a@b\r\nDTSTAMP:20260101T000000Z\r\nDTSTART:20260102T150000Z\r\n"
        b"DTEND:20260102T170000Z\r\nSEQUENCE:0\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    )
    checked = await icaljs(minimal)
    if checked is None:
        pytest.skip(NO_NODE)
    assert [e["uid"] for e in checked["events"]] == ["a@b"]


# ---------------------------------------------------------------------------------------------
# a small world: three officers in three places, and sessions of every kind
# ---------------------------------------------------------------------------------------------


def lima(days: int, hour: int = 10) -> datetime:
    """``hour``:00 Lima time, ``days`` from today, as UTC."""
    today = utcnow().astimezone(LIMA).date()
    local = datetime(today.year, today.month, today.day, hour, tzinfo=LIMA) + timedelta(days=days)
    return local.astimezone(UTC)


async def approved_officer(s: Services, user_id: int, entity_code: str, name: str) -> int:
    entity = await s.entities.by_code(entity_code)
    assert entity is not None and entity.id is not None
    draft = RegistrationDraft(entity.id, name, "Oficial de integridad")
    submitted = await s.officers.submit(user_id, draft, consent_at=utcnow())
    assert submitted.officer is not None and submitted.officer.id is not None
    await s.officers.decide(submitted.officer.id, approve=True, by=1)
    return submitted.officer.id


async def add_session(
    s: Services,
    key: str,
    kind: str,
    start: datetime,
    audience: dict[str, Any],
    *,
    invited: int | None = None,
    **fields: Any,
) -> Session:
    now = utcnow()
    session = Session(
        uid=f"{key}@integridad.test",
        kind=kind,
        title=fields.pop("title", f"Sesión {key}"),
        topics=fields.pop("topics", ["Alcances de la Guía de Evaluación 1"]),
        components=fields.pop("components", [2, 8]),
        audience=audience,
        start_at=start,
        end_at=start + timedelta(hours=2),
        link=fields.pop("link", f"https://reuniones.example.gob.pe/{key}"),
        created_at=fields.pop("created_at", now - timedelta(days=60)),
        updated_at=fields.pop("updated_at", now - timedelta(days=50)),
        **fields,
    )
    async with s.db.session() as db:
        db.add(session)
        await db.flush()
        if invited is not None:
            officer = await s.officers.by_id(invited)
            assert officer is not None
            db.add(
                SessionInvite(
                    session_id=session.id or 0, officer_id=invited, entity_id=officer.entity.id or 0
                )
            )
    return session


async def reschedule(s: Services, uid: str, by: timedelta) -> Session:
    """What a coordinator's "Reprogramar" does to the row."""
    async with s.db.session() as db:
        row = (await db.execute(select(Session).where(Session.uid == uid))).scalar_one()
        row.start_at += by
        row.end_at += by
        row.sequence += 1
        row.updated_at = utcnow()
        return row


async def cancel(s: Services, uid: str, when: datetime | None = None) -> Session:
    """What a coordinator's "Cancelar" does to the row."""
    async with s.db.session() as db:
        row = (await db.execute(select(Session).where(Session.uid == uid))).scalar_one()
        row.status = SessionStatus.CANCELLED.value
        row.cancelled_at = when or utcnow()
        row.sequence += 1
        row.updated_at = when or utcnow()
        return row


@dataclass
class World:
    s: Services
    officers: dict[str, int]
    sessions: dict[str, Session] = field(default_factory=dict)

    def uids(self, *keys: str) -> set[str]:
        return {self.sessions[k].uid for k in keys}


async def build_world(s: Services) -> World:
    world = World(
        s,
        {
            "salud": await approved_officer(s, 9001, "minsa", "Ana Salud"),
            "educacion": await approved_officer(s, 9002, "minedu", "Beto Educación"),
            "judicial": await approved_officer(s, 9003, "pj", "Carla Judicial"),
        },
    )
    o = world.officers
    specs: list[tuple[str, str, datetime, dict[str, Any], dict[str, Any]]] = [
        ("grupal-proxima", "grupal", lima(10), {"all": True}, {}),
        ("grupal-pasada", "grupal", lima(-20), {"all": True}, {}),
        ("grupal-antigua", "grupal", lima(-400), {"all": True}, {}),  # aged out
        (
            "sectorial-salud",
            "sectorial",
            lima(15),
            {"networks": ["red-salud"]},
            {"mandatory": True},
        ),
        ("sectorial-educacion", "sectorial", lima(16), {"networks": ["red-educacion"]}, {}),
        ("sectorial-ejecutivo", "sectorial", lima(17, 15), {"levels": ["poder-ejecutivo"]}, {}),
        ("sectorial-judicial", "sectorial", lima(18), {"levels": ["poder-judicial"]}, {}),
        (
            "reunion-salud",
            "individual",
            lima(5, 16),
            {"officers": [o["salud"]]},
            {
                "invited": o["salud"],
                "title": "Reunión con el Ministerio de Salud",
                "modality": "presencial",
                "place": "Jr. Carabaya s/n, Lima",
                "link": None,
            },
        ),
        (
            "reunion-educacion",
            "individual",
            lima(6, 11),
            {"officers": [o["educacion"]]},
            {"invited": o["educacion"], "title": "Reunión con el Ministerio de Educación"},
        ),
        (
            "grupal-cancelada",
            "grupal",
            lima(3),
            {"all": True},
            {
                "status": "cancelled",
                "cancelled_at": utcnow() - timedelta(days=10),
                "sequence": 1,
                "updated_at": utcnow() - timedelta(days=10),
            },
        ),
        (
            "grupal-cancelada-hace-tiempo",
            "grupal",
            lima(2),
            {"all": True},
            {
                "status": "cancelled",
                "cancelled_at": utcnow() - timedelta(days=31),
                "sequence": 1,
                "updated_at": utcnow() - timedelta(days=31),
            },
        ),
    ]
    for key, kind, start, audience, extra in specs:
        world.sessions[key] = await add_session(s, key, kind, start, audience, **extra)
    return world


EXPECTED = {
    "salud": (
        "grupal-proxima",
        "grupal-pasada",
        "grupal-cancelada",
        "sectorial-salud",
        "sectorial-ejecutivo",
        "reunion-salud",
    ),
    "educacion": (
        "grupal-proxima",
        "grupal-pasada",
        "grupal-cancelada",
        "sectorial-educacion",
        "sectorial-ejecutivo",
        "reunion-educacion",
    ),
    "judicial": ("grupal-proxima", "grupal-pasada", "grupal-cancelada", "sectorial-judicial"),
    "public": ("grupal-proxima", "grupal-pasada", "grupal-cancelada"),
}


@dataclass
class FeedServer:
    """The bot's HTTP side on a real socket."""

    url: str
    client: httpx.AsyncClient

    async def get(self, path: str, **headers: str) -> httpx.Response:
        return await self.client.get(self.url + path, headers=headers)

    async def head(self, path: str, **headers: str) -> httpx.Response:
        return await self.client.head(self.url + path, headers=headers)


async def serve_http(s: Services) -> AsyncIterator[FeedServer]:
    server = AsgiServer(build_http_app(s, build_application(s)))
    await server.start()
    try:
        async with httpx.AsyncClient(timeout=10.0) as client:
            yield FeedServer(server.url, client)
    finally:
        await server.stop()


@pytest.fixture
async def http(services: Services) -> AsyncIterator[FeedServer]:
    async for server in serve_http(services):
        yield server


async def link_of(s: Services, officer_id: int) -> str:
    """A new personal link's path, as /calendario shows it."""
    issued = await s.feeds.issue(officer_id)
    return issued.links(PUBLIC_BASE).https.removeprefix(PUBLIC_BASE)


def parse(body: bytes) -> Calendar:
    return Calendar.from_ical(body)


def events(body: bytes) -> dict[str, Any]:
    return {str(e["uid"]): e for e in parse(body).walk("VEVENT")}


def same_404(a: httpx.Response, b: httpx.Response) -> None:
    assert a.status_code == b.status_code == 404
    assert a.content == b.content
    for name in ("content-type", "content-length", "cache-control", "etag", "last-modified"):
        assert a.headers.get(name) == b.headers.get(name), name


# ---------------------------------------------------------------------------------------------
# what each feed holds
# ---------------------------------------------------------------------------------------------


async def test_each_feed_holds_exactly_its_sessions(
    services: Services, http: FeedServer, icaljs: IcalJs
) -> None:
    world = await build_world(services)
    bodies: dict[str, bytes] = {}
    for who, officer_id in world.officers.items():
        response = await http.get(await link_of(services, officer_id))
        assert response.status_code == 200
        bodies[who] = response.content
    public = await http.get("/calendario/publico.ics")
    assert public.status_code == 200
    bodies["public"] = public.content

    for who, body in bodies.items():
        expected = world.uids(*EXPECTED[who])
        assert set(events(body)) == expected, who
        if (checked := await icaljs(body)) is None:
            continue
        assert {e["uid"] for e in checked["events"]} == expected, who
        for event in checked["events"]:  # both parsers agree on the instant of every event
            session = next(s for s in world.sessions.values() if s.uid == event["uid"])
            assert event["start"] == int(session.start_at.timestamp())
            assert event["end"] == int(session.end_at.timestamp())

    # nobody else's meetings, and nothing personal in the public feed
    assert b"Ministerio de Educaci" not in bodies["salud"]
    assert b"Ministerio de Salud" not in bodies["educacion"]
    for private in ("reunion-salud", "reunion-educacion", "sectorial-salud"):
        assert world.sessions[private].uid.encode() not in bodies["public"]
    assert b"mis sesiones" not in bodies["public"]


async def test_feeds_follow_the_icalendar_rules(
    services: Services, http: FeedServer, icaljs: IcalJs
) -> None:
    world = await build_world(services)
    response = await http.get(await link_of(services, world.officers["salud"]))
    assert response.headers["content-type"] == CALENDAR_TYPE
    cal = parse(response.content)
    assert str(cal["X-WR-CALNAME"]) == "Integridad Bot — mis sesiones"
    assert cal["REFRESH-INTERVAL"].params["VALUE"] == "DURATION"
    assert cal["REFRESH-INTERVAL"].dt == timedelta(hours=6)
    assert str(cal["X-PUBLISHED-TTL"]) == "PT6H"
    assert str(cal.get("METHOD", "PUBLISH")) == "PUBLISH"
    assert [str(tz["TZID"]) for tz in cal.walk("VTIMEZONE")] == ["America/Lima"]
    assert b"\r\nREFRESH-INTERVAL;VALUE=DURATION:PT6H\r\n" in response.content
    assert b"\r\nX-PUBLISHED-TTL:PT6H\r\n" in response.content

    found = events(response.content)
    for key in EXPECTED["salud"]:
        session = world.sessions[key]
        event = found[session.uid]
        start = event["DTSTART"]
        assert start.params["TZID"] == "America/Lima"  # never floating, never another zone
        assert start.dt.tzinfo is not None
        assert start.dt.utcoffset() == timedelta(hours=-5)
        assert start.dt == session.start_at and event["DTEND"].dt == session.end_at
        assert event["DTSTAMP"].dt == session.updated_at.replace(microsecond=0)
        assert event["LAST-MODIFIED"].dt == session.updated_at.replace(microsecond=0)
        assert int(event["SEQUENCE"]) == session.sequence
        category = {
            "grupal": "Asistencia técnica grupal",
            "sectorial": "Asistencia técnica sectorial",
            "individual": "Asistencia técnica individual",
        }[session.kind]
        assert [str(c) for c in event["CATEGORIES"].cats] == [category]
        description = str(event["DESCRIPTION"])
        assert session.topics[0] in description
        if session.link:
            assert session.link in description
    # the meeting's local time is what the officer agreed: 16:00 in Lima
    meeting = found[world.sessions["reunion-salud"].uid]
    assert meeting["DTSTART"].dt.astimezone(LIMA).hour == 16
    assert "Jr. Carabaya" in str(meeting["LOCATION"])

    # the feed joined from cached events is exactly icalendar's own serialisation
    builder = services.feeds.builder(services.texts)
    shown = [world.sessions[k] for k in EXPECTED["salud"]]
    assert builder.feed(shown, name_key="personal") == builder.feed(shown, name_key="personal")
    assert builder.feed(shown, name_key="personal") == (
        builder.calendar(shown, name_key="personal", feed=True).to_ical()
    )
    single = parse(builder.session_file(shown[0]).encode())  # the per-session .ics still works
    assert [str(tz["TZID"]) for tz in single.walk("VTIMEZONE")] == ["America/Lima"]
    assert "REFRESH-INTERVAL" not in single

    if (checked := await icaljs(response.content)) is None:
        return
    assert checked["calname"] == "Integridad Bot — mis sesiones"
    assert checked["refresh"] == "PT6H" and checked["refresh_type"] == "duration"
    assert checked["ttl"] == "PT6H"
    assert checked["timezones"] == ["America/Lima"]
    for event in checked["events"]:
        assert event["tzid"] == "America/Lima" and event["zone"] == "America/Lima"
    by_uid = {e["uid"]: e for e in checked["events"]}
    assert by_uid[world.sessions["reunion-salud"].uid]["local"].endswith("T16:00:00")


async def test_a_reschedule_keeps_the_uid_and_raises_the_sequence(
    services: Services, http: FeedServer, icaljs: IcalJs
) -> None:
    world = await build_world(services)
    path = await link_of(services, world.officers["salud"])
    before = await http.get(path)
    uid = world.sessions["sectorial-salud"].uid
    old = events(before.content)[uid]

    moved = await reschedule(services, uid, timedelta(days=1, hours=2))
    after = await http.get(path, **{"If-None-Match": before.headers["etag"]})
    assert after.status_code == 200
    assert after.headers["etag"] != before.headers["etag"]
    new = events(after.content)[uid]
    assert str(new["UID"]) == str(old["UID"])
    assert int(new["SEQUENCE"]) == int(old["SEQUENCE"]) + 1
    assert new["DTSTART"].dt == moved.start_at
    assert new["DTSTART"].dt.astimezone(LIMA).hour == 12
    assert new["DTSTAMP"].dt > old["DTSTAMP"].dt
    assert set(events(after.content)) == set(events(before.content))  # no duplicate, no loss

    if (strict := await icaljs(after.content)) is not None:
        checked = {e["uid"]: e for e in strict["events"]}
        assert checked[uid]["sequence"] == int(old["SEQUENCE"]) + 1
        assert checked[uid]["start"] == int(moved.start_at.timestamp())
    # the public feed moves too for a group session
    public_before = await http.get("/calendario/publico.ics")
    group = world.sessions["grupal-proxima"].uid
    await reschedule(services, group, timedelta(days=7))
    public_after = await http.get("/calendario/publico.ics")
    assert int(events(public_after.content)[group]["SEQUENCE"]) == (
        int(events(public_before.content)[group]["SEQUENCE"]) + 1
    )


async def test_the_event_cache_is_warmed_before_any_client_asks(
    services: Services, http: FeedServer
) -> None:
    world = await build_world(services)
    builder = services.feeds.builder(services.texts)
    public = await services.feeds.public(builder)
    assert all(builder.cached_event(e.version) is None for e in public.entries)  # cold

    built = await warm_feeds(build_application(services))  # what the start-up job runs
    assert built >= len(public.entries) > 0
    token = (await services.feeds.issue(world.officers["salud"])).token
    feeds = [await services.feeds.public(builder), await services.feeds.personal(token, builder)]
    for feed in feeds:
        assert feed is not None and feed.entries
        assert all(builder.cached_event(e.version) is not None for e in feed.entries)
    assert await services.feeds.warm(builder) == 0  # nothing changed: nothing rebuilt

    # A change makes a new version: the next tick serialises that one session, and the feed a
    # client then fetches carries the change.
    uid = world.sessions["sectorial-salud"].uid
    moved = await reschedule(services, uid, timedelta(hours=3))
    assert await services.feeds.warm(builder) == 1
    body = await http.get(await link_of(services, world.officers["salud"]))
    assert events(body.content)[uid]["DTSTART"].dt == moved.start_at


async def test_a_cancellation_stays_thirty_days_with_status_cancelled(
    services: Services, http: FeedServer, icaljs: IcalJs
) -> None:
    world = await build_world(services)
    path = await link_of(services, world.officers["judicial"])
    uid = world.sessions["sectorial-judicial"].uid
    assert str(events((await http.get(path)).content)[uid]["STATUS"]) == "CONFIRMED"

    await cancel(services, uid)
    for body in ((await http.get(path)).content,):
        event = events(body)[uid]
        assert str(event["STATUS"]) == "CANCELLED"
        assert int(event["SEQUENCE"]) == 1
        assert str(event["SUMMARY"]).startswith("CANCELADA: ")
        assert "fue cancelada" in str(event["DESCRIPTION"])
        if (strict := await icaljs(body)) is not None:
            assert {e["uid"]: e for e in strict["events"]}[uid]["status"] == "CANCELLED"

    # cancelled ten days ago: still there; 31 days ago: gone (from the world)
    public = events((await http.get("/calendario/publico.ics")).content)
    assert str(public[world.sessions["grupal-cancelada"].uid]["STATUS"]) == "CANCELLED"
    assert world.sessions["grupal-cancelada-hace-tiempo"].uid not in public

    # two days on, a cancellation of 29 days ago leaves the feed, and Last-Modified says so
    kept = world.sessions["grupal-proxima"].uid
    await cancel(services, kept, utcnow() - timedelta(days=29))
    token = (await services.feeds.issue(world.officers["judicial"])).token
    builder = services.feeds.builder(services.texts)
    today = await services.feeds.personal(token, builder)
    later = await services.feeds.personal(token, builder, now=utcnow() + timedelta(days=2))
    assert today is not None and later is not None
    kept_id = world.sessions["grupal-proxima"].id
    assert kept_id in today.session_ids and kept_id not in later.session_ids
    assert later.etag != today.etag
    assert today.last_modified is not None and later.last_modified is not None
    assert later.last_modified > today.last_modified


# ---------------------------------------------------------------------------------------------
# HTTP: validators, conditional requests, HEAD
# ---------------------------------------------------------------------------------------------


async def test_conditional_requests_answer_304_and_head_answers_headers(
    services: Services, http: FeedServer
) -> None:
    world = await build_world(services)
    personal = await link_of(services, world.officers["educacion"])
    for path in (personal, "/calendario/publico.ics"):
        full = await http.get(path)
        etag, modified = full.headers["etag"], full.headers["last-modified"]
        assert etag.startswith('"') and etag.endswith('"')
        assert parsedate_to_datetime(modified) <= utcnow()

        again = await http.get(path)  # nothing changed: same validators, same bytes
        assert again.headers["etag"] == etag and again.content == full.content

        for headers in (
            {"If-None-Match": etag},
            {"If-None-Match": f'W/{etag}, "other"'},
            {"If-Modified-Since": modified},
            {"If-None-Match": "*"},
        ):
            cached = await http.get(path, **headers)
            assert cached.status_code == 304, headers
            assert cached.content == b""
            assert cached.headers["etag"] == etag

        older = format_datetime(parsedate_to_datetime(modified) - timedelta(hours=1), usegmt=True)
        assert (await http.get(path, **{"If-Modified-Since": older})).status_code == 200
        # If-None-Match wins over If-Modified-Since
        mismatch = {"If-None-Match": '"stale"', "If-Modified-Since": modified}
        assert (await http.get(path, **mismatch)).status_code == 200
        assert (await http.get(path, **{"If-Modified-Since": "not a date"})).status_code == 200

        head = await http.head(path)
        assert head.status_code == 200
        assert head.content == b""
        assert head.headers["content-type"] == CALENDAR_TYPE
        assert head.headers["etag"] == etag
        assert int(head.headers["content-length"]) == len(full.content)
        assert (await http.head(path, **{"If-None-Match": etag})).status_code == 304

    # a change anywhere in the officer's feed changes both validators
    before = await http.get(personal)
    # HTTP dates have one-second resolution: a change within the same second as the previous
    # Last-Modified cannot be told apart by If-Modified-Since alone (the ETag can, see above).
    await asyncio.sleep(1.1)
    await reschedule(services, world.sessions["reunion-educacion"].uid, timedelta(hours=1))
    after = await http.get(personal, **{"If-None-Match": before.headers["etag"]})
    assert after.status_code == 200
    assert after.headers["etag"] != before.headers["etag"]
    since = {"If-Modified-Since": before.headers["last-modified"]}
    assert (await http.get(personal, **since)).status_code == 200
    assert "private" in after.headers["cache-control"]


# ---------------------------------------------------------------------------------------------
# tokens
# ---------------------------------------------------------------------------------------------


async def test_tokens_are_random_hashed_and_revoked_links_404_like_unknown_ones(
    services: Services, http: FeedServer
) -> None:
    world = await build_world(services)
    salud = world.officers["salud"]
    first = await services.feeds.issue(salud)
    second = await services.feeds.issue(salud)
    assert first.token != second.token and len(first.token) >= 22  # >= 128 bits, URL-safe
    async with services.db.session() as db:
        stored = {t.token_hash for t in (await db.execute(select(CalendarToken))).scalars()}
    assert hashlib.sha256(first.token.encode()).hexdigest() in stored
    assert first.token not in str(stored)

    path = first.links(PUBLIC_BASE).https.removeprefix(PUBLIC_BASE)
    other = second.links(PUBLIC_BASE).https.removeprefix(PUBLIC_BASE)
    assert (await http.get(path)).status_code == 200  # earlier links keep working
    assert (await http.get(other)).status_code == 200

    unknown = await http.get("/calendario/" + "A" * len(first.token) + ".ics")
    changed = await services.feeds.change(salud, second.token_id)
    assert changed is not None
    revoked = await http.get(path)
    same_404(revoked, unknown)
    same_404(await http.get(other), unknown)
    same_404(await http.head(path), await http.head("/calendario/" + "B" * 32 + ".ics"))
    for malformed in ("abc", "x" * 200, "%2e%2e", "publico.ics.ics"):
        same_404(await http.get(f"/calendario/{malformed}.ics"), unknown)
    newest = changed.links(PUBLIC_BASE).https.removeprefix(PUBLIC_BASE)
    assert (await http.get(newest)).status_code == 200
    assert await services.feeds.change(salud, second.token_id) is None  # a repeated press

    # a removed officer's link stops; /baja revokes every link of the officer
    educacion = world.officers["educacion"]
    removed_path = await link_of(services, educacion)
    await services.officers.remove(educacion, by=1)
    same_404(await http.get(removed_path), unknown)

    await services.officers.erase(9001)
    same_404(await http.get(newest), unknown)
    async with services.db.session() as db:
        active = (
            (
                await db.execute(
                    select(CalendarToken).where(
                        CalendarToken.officer_id == salud, CalendarToken.revoked_at.is_(None)
                    )
                )
            )
            .scalars()
            .all()
        )
    assert active == []


# ---------------------------------------------------------------------------------------------
# /calendario in Telegram
# ---------------------------------------------------------------------------------------------


def links_in(text: str) -> tuple[str, str]:
    words = text.split()
    https = next(
        w for w in words if w.startswith(PUBLIC_BASE + "/calendario/") and "publico" not in w
    )
    webcal = next(w for w in words if w.startswith("webcal://"))
    return https, webcal


async def officer_in_chat(
    bot: BotHarness, fake: FakeTelegram, entity: str, name: str
) -> tuple[FakeUser, int]:
    user = fake.user(name.split()[0])
    officer_id = await approved_officer(bot.s, user.id, entity, name)
    return user, officer_id


async def test_calendario_gives_a_personal_link_and_changes_it(
    fake: FakeTelegram, make_bot: BotFactory
) -> None:
    bot = await make_bot(public_base_url=PUBLIC_BASE)
    user, _ = await officer_in_chat(bot, fake, "minsa", "Rosa Díaz Paredes")
    await add_session(bot.s, "grupal-mayo", "grupal", lima(12), {"all": True})
    async for http in serve_http(bot.s):
        replies = await say(bot, user, "/calendario")
        assert len(replies) == 1
        text = replies[0].text
        for words in (
            "Google Calendar",
            "Outlook",
            "Apple Calendar",
            "Desde URL",
            "Suscribirse desde la web",
            "calendario suscrito",
            "No lo comparta",
        ):
            assert words in text, words
        https, webcal = links_in(text)
        assert webcal == "webcal://" + https.removeprefix("https://")
        assert PUBLIC_BASE + "/calendario/publico.ics" in text
        assert replies[0].buttons == ["🔄 Cambiar enlace"]
        path = https.removeprefix(PUBLIC_BASE)
        first = await http.get(path)
        assert first.status_code == 200
        assert "grupal-mayo@integridad.test" in events(first.content)

        # the reply keyboard has the entry, and it gives another working link
        again = await say(bot, user, "📅 Mi calendario")
        second_path = links_in(again[0].text)[0].removeprefix(PUBLIC_BASE)
        assert second_path != path
        assert (await http.get(path)).status_code == 200

        # "Cambiar enlace": a confirmation, "No, mantener" keeps everything
        asked = await press(bot, user, "🔄 Cambiar enlace", message=again[0])
        assert "¿Cambiar su enlace del calendario?" in asked[0].text
        await press(bot, user, "No, mantener", message=asked[0])
        assert "no cambió" in (fake.message(user.id, asked[0].message_id).text or "")
        assert (await http.get(path)).status_code == 200

        asked = await press(bot, user, "🔄 Cambiar enlace", message=again[0])
        confirm = asked[0].find_button("Sí, cambiar enlace").callback_data
        assert confirm is not None
        await press(bot, user, "Sí, cambiar enlace", message=asked[0])
        changed = fake.message(user.id, asked[0].message_id)
        assert changed is not None and "Su enlace del calendario cambió" in (changed.text or "")
        new_path = links_in(changed.text or "")[0].removeprefix(PUBLIC_BASE)
        assert (await http.get(path)).status_code == 404  # at once
        assert (await http.get(second_path)).status_code == 404
        assert (await http.get(new_path)).status_code == 200

        # the old confirmation pressed again: refused, nothing revoked
        stale = await user.press_data(confirm, asked[0].message_id)
        await bot.settle()
        assert stale.alert and "ya no está vigente" in (stale.answer_text or "")
        assert (await http.get(new_path)).status_code == 200

        # /baja revokes the link
        await say(bot, user, "/baja")
        await press(bot, user, "Sí, eliminar mis datos")
        assert (await http.get(new_path)).status_code == 404
        refused = await say(bot, user, "/calendario")
        assert "/start" in refused[0].text and PUBLIC_BASE + "/calendario/" in refused[0].text
    assert fake.errors() == [] and fake.unanswered_callback_queries() == []


async def test_calendario_is_refused_to_who_is_not_an_approved_officer(
    fake: FakeTelegram, make_bot: BotFactory
) -> None:
    admin = fake.user("Ada")
    await admin.send("/start")
    bot = await make_bot(admins=[admin], public_base_url=PUBLIC_BASE)
    await bot.settle()
    guest = fake.user("Invitado")
    replies = await say(bot, guest, "/calendario")
    assert "oficiales de integridad registrados" in replies[0].text
    assert "/start" in replies[0].text
    assert "publico.ics" in replies[0].text  # the public feed is for anyone
    assert "webcal://" not in replies[0].text and replies[0].buttons == []

    pending = fake.user("Pendiente")
    entity = await bot.s.entities.by_code("mef")
    assert entity is not None and entity.id is not None
    await bot.s.officers.submit(
        pending.id, RegistrationDraft(entity.id, "Pedro Pendiente", "Jefe"), consent_at=utcnow()
    )
    assert "espera la aprobación" in (await say(bot, pending, "/calendario"))[0].text

    coordinator = await say(bot, admin, "/calendario")
    assert "webcal://" not in coordinator[0].text and "publico.ics" in coordinator[0].text

    # a forged press of "Cambiar enlace" by someone without a link
    record = await guest.press_data("cal:do:1", guest.last.message_id if guest.last else 1)
    await bot.settle()
    assert record.alert and "oficiales de integridad" in (record.answer_text or "")
    for data in ("cal:ask", "cal:do:x", "cal:zz", "cal"):
        officer, _ = await officer_in_chat(bot, fake, "minsa", f"Oficial {data}")
        await say(bot, officer, "/menu")
        forged = await officer.press_data(data, officer.last.message_id if officer.last else 1)
        await bot.settle()
        assert forged.answered
    assert fake.errors() == [] and fake.unanswered_callback_queries() == []


async def test_calendario_without_public_address_says_it_is_not_available(
    fake: FakeTelegram, make_bot: BotFactory
) -> None:
    bot = await make_bot()
    user, _ = await officer_in_chat(bot, fake, "minsa", "Rosa Díaz Paredes")
    replies = await say(bot, user, "/calendario")
    assert "no está disponible" in replies[0].text
    async with bot.s.db.session() as db:
        assert (await db.execute(select(CalendarToken))).first() is None


async def test_the_generated_plan_passes_both_parsers(
    services: Services, http: FeedServer, icaljs: IcalJs
) -> None:
    """The sessions `schedule generate` makes from the real plan, this year, in the feeds."""
    plan, problems = load_plan(services.settings.content_dir)
    assert plan is not None, problems
    year = utcnow().astimezone(LIMA).year
    january = datetime(year, 1, 2, tzinfo=UTC)
    await generate_sessions(services.db, plan, services.content.catalog, now=january, year=year)
    async with services.db.session() as db:
        rows = list((await db.execute(select(Session))).scalars())
    window = utcnow() - timedelta(days=365)
    live = [row for row in rows if row.end_at >= window]
    group = {row.uid for row in live if row.kind == "grupal"}
    executive = {
        row.uid
        for row in live
        if row.kind == "sectorial" and "poder-ejecutivo" in row.audience.get("levels", [])
    }
    assert group and executive

    officer = await approved_officer(services, 9101, "minsa", "Ana Salud")
    personal = await http.get(await link_of(services, officer))
    public = await http.get("/calendario/publico.ics")
    assert set(events(personal.content)) == group | executive
    assert set(events(public.content)) == group
    for body, expected in ((personal.content, group | executive), (public.content, group)):
        if (checked := await icaljs(body)) is None:
            continue
        assert {e["uid"] for e in checked["events"]} == expected
        assert {e["zone"] for e in checked["events"]} == {"America/Lima"}
        by_uid = {row.uid: row for row in rows}
        for event in checked["events"]:
            assert event["start"] == int(by_uid[event["uid"]].start_at.timestamp())
