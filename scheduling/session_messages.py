"""What officers receive about a session, as ``OutgoingMessage``s for the broadcast engine:
the invitation, the notices of a change, the mandatory-session nudge, and announcements.

The answer buttons carry ``ses:y:<id>`` (Asistiré), ``ses:n:<id>`` (No podré) and
``ses:ics:<id>`` (Añadir al calendario); the reminder dispatcher uses the same formats.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.catalog import Catalog
from bot.db import Database
from bot.models import Session, SessionKind, SessionStatus
from bot.sessions import Recipient, SessionService
from bot.texts import Texts
from scheduling.broadcast import BroadcastService, OutgoingMessage

RSVP_PREFIX = "ses"


def rsvp_markup(
    texts: Texts, session_id: int, *, answers: bool = True, calendar: bool = True
) -> dict[str, Any] | None:
    rows: list[list[InlineKeyboardButton]] = []
    if answers:
        rows.append(
            [
                InlineKeyboardButton(texts.label("rsvp_yes"), callback_data=f"ses:y:{session_id}"),
                InlineKeyboardButton(texts.label("rsvp_no"), callback_data=f"ses:n:{session_id}"),
            ]
        )
    if calendar:
        rows.append(
            [
                InlineKeyboardButton(
                    texts.label("rsvp_calendar"), callback_data=f"ses:ics:{session_id}"
                )
            ]
        )
    return InlineKeyboardMarkup(rows).to_dict() if rows else None


def invitation_text(texts: Texts, catalog: Catalog, session: Session, recipient: Recipient) -> str:
    network = None
    if session.kind == SessionKind.SECTORAL.value:
        network = catalog.maybe_network(recipient.entity.network)
    return texts.render("sessions/invitation", session=session, network=network, catalog=catalog)


def invitation(
    texts: Texts, catalog: Catalog, session: Session, recipient: Recipient
) -> OutgoingMessage:
    return OutgoingMessage(
        chat_id=recipient.chat_id,
        text=invitation_text(texts, catalog, session, recipient),
        officer_id=recipient.officer.id,
        markup=rsvp_markup(texts, session.id or 0),
    )


def notice(
    texts: Texts,
    session: Session,
    recipient: Recipient,
    change: str,
    previous_start: datetime | None = None,
) -> OutgoingMessage:
    """``change``: rescheduled, location or cancelled."""
    cancelled = session.status == SessionStatus.CANCELLED
    return OutgoingMessage(
        chat_id=recipient.chat_id,
        text=texts.render(
            "sessions/notice", session=session, change=change, previous_start=previous_start
        ),
        officer_id=recipient.officer.id,
        markup=None
        if cancelled
        else rsvp_markup(texts, session.id or 0, answers=change == "rescheduled"),
    )


def nudge(texts: Texts, session: Session, recipient: Recipient) -> OutgoingMessage:
    return OutgoingMessage(
        chat_id=recipient.chat_id,
        text=texts.render("sessions/nudge", session=session, entity=recipient.entity),
        officer_id=recipient.officer.id,
        markup=rsvp_markup(texts, session.id or 0),
    )


def announcement(texts: Texts, text_html: str, recipient: Recipient) -> OutgoingMessage:
    return OutgoingMessage(
        chat_id=recipient.chat_id,
        text=texts.render("sessions/announcement", text=text_html),
        officer_id=recipient.officer.id,
    )


async def queue_reschedule_notices(
    db: Database, texts: Texts, sessions: SessionService, moved: list[tuple[int, datetime]]
) -> int:
    """Record a notice broadcast for each moved session (id, previous start) with invitees.

    Nothing is sent here: the running bot's periodic job sends every unfinished broadcast
    (``scheduling.jobs``), so a command-line change reaches the invitees too. Returns how many
    notices were queued.
    """
    queued = 0
    records = BroadcastService(db)
    for session_id, previous_start in moved:
        session = await sessions.get(session_id)
        if session is None:
            continue
        messages = [
            notice(texts, session, r, "rescheduled", previous_start)
            for r in await sessions.invitees(session_id)
        ]
        if messages:
            await records.create("notice", messages, session_id=session_id)
            queued += len(messages)
    return queued
