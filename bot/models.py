"""The database tables (SQLModel). Migrations in ``bot/migrations`` must follow every change."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, BigInteger, Column, ForeignKey, Integer, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from bot.db import UTCDateTime, utcnow


def _ts(nullable: bool = False, **kwargs: Any) -> Any:
    return Field(sa_type=UTCDateTime, nullable=nullable, **kwargs)


class OfficerStatus(StrEnum):
    INVITED = "invited"  # imported from SIP's directory, personal link not yet opened
    PENDING = "pending"  # self-registered, waiting for a coordinator
    APPROVED = "approved"
    REJECTED = "rejected"
    REMOVED = "removed"  # removed by a coordinator
    DELETED = "deleted"  # left with /baja: personal data erased, the row stays for counts


class RegistrationSource(StrEnum):
    SELF = "self"
    ENTITY_LINK = "entity_link"
    PERSONAL_LINK = "personal_link"


class InvitationKind(StrEnum):
    ENTITY = "entity"  # /invitar: anyone opening it registers under the entity, approved
    PERSONAL = "personal"  # one officer of SIP's directory; single use
    COORDINATOR = "coordinator"  # an admin appoints a coordinator; single use


class Entity(SQLModel, table=True):
    __tablename__ = "entities"

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=64, unique=True, index=True)
    name: str = Field(max_length=300)
    acronym: str | None = Field(default=None, max_length=64)
    aliases: str = Field(default="", max_length=1000)
    level: str = Field(max_length=64, index=True)
    network: str | None = Field(default=None, max_length=64, index=True)
    active: bool = True
    created_at: datetime = _ts(default_factory=utcnow)
    updated_at: datetime = _ts(default_factory=utcnow)

    @property
    def alias_list(self) -> list[str]:
        return [a for a in self.aliases.split("|") if a]


class Officer(SQLModel, table=True):
    __tablename__ = "officers"

    id: int | None = Field(default=None, primary_key=True)
    telegram_user_id: int | None = Field(
        default=None, sa_type=BigInteger, unique=True, index=True, nullable=True
    )
    entity_id: int = Field(sa_column=Column(Integer, ForeignKey("entities.id"), nullable=False))
    full_name: str | None = Field(default=None, max_length=120)
    position: str | None = Field(default=None, max_length=120)
    email: str | None = Field(default=None, max_length=254)
    phone: str | None = Field(default=None, max_length=40)
    status: str = Field(max_length=16, index=True)
    source: str = Field(max_length=16)
    consent_at: datetime | None = _ts(nullable=True, default=None)
    decided_at: datetime | None = _ts(nullable=True, default=None)
    decided_by: int | None = Field(default=None, sa_type=BigInteger, nullable=True)
    unreachable_at: datetime | None = _ts(nullable=True, default=None)
    created_at: datetime = _ts(default_factory=utcnow)
    updated_at: datetime = _ts(default_factory=utcnow)


class Coordinator(SQLModel, table=True):
    __tablename__ = "coordinators"

    id: int | None = Field(default=None, primary_key=True)
    telegram_user_id: int = Field(sa_type=BigInteger, unique=True, index=True)
    display_name: str = Field(max_length=120)
    active: bool = True
    appointed_by: int | None = Field(default=None, sa_type=BigInteger, nullable=True)
    appointed_at: datetime = _ts(default_factory=utcnow)
    removed_at: datetime | None = _ts(nullable=True, default=None)


class Invitation(SQLModel, table=True):
    __tablename__ = "invitations"

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(max_length=64, unique=True, index=True)
    kind: str = Field(max_length=16)
    entity_id: int | None = Field(
        default=None, sa_column=Column(Integer, ForeignKey("entities.id"), nullable=True)
    )
    officer_id: int | None = Field(
        default=None,
        sa_column=Column(Integer, ForeignKey("officers.id", ondelete="CASCADE"), nullable=True),
    )
    created_by: int | None = Field(default=None, sa_type=BigInteger, nullable=True)
    created_at: datetime = _ts(default_factory=utcnow)
    expires_at: datetime = _ts()
    max_uses: int | None = None
    uses: int = 0
    revoked_at: datetime | None = _ts(nullable=True, default=None)


class DialogState(SQLModel, table=True):
    """Where a user is in a multi-step dialog, and what they typed so far (survives restarts)."""

    __tablename__ = "dialog_states"

    telegram_user_id: int = Field(
        sa_type=BigInteger, primary_key=True, sa_column_kwargs={"autoincrement": False}
    )
    flow: str = Field(max_length=32)
    step: str = Field(max_length=32)
    data: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    updated_at: datetime = _ts(default_factory=utcnow)


class FaqQuestion(SQLModel, table=True):
    """A question asked to the FAQ, how it was answered, and the officer's feedback."""

    __tablename__ = "faq_questions"

    id: int | None = Field(default=None, primary_key=True)
    telegram_user_id: int | None = Field(
        default=None, sa_type=BigInteger, index=True, nullable=True
    )  # erased with /baja
    text: str = Field(max_length=4096)
    band: str = Field(max_length=16, index=True)  # answer | suggest | fallback | calculator
    entry_id: str | None = Field(default=None, max_length=80)  # the entry finally shown
    helpful: bool | None = None
    handed_off: bool = False  # the officer asked SIP for individual assistance with it
    created_at: datetime = _ts(default_factory=utcnow)


# --- Sessions, invitations to them, reminders (issue 5) -------------------------------------


class SessionKind(StrEnum):
    GROUP = "grupal"  # monthly, open to all entities
    SECTORAL = "sectorial"  # one level or network; mandatory for the convened entities
    INDIVIDUAL = "individual"  # a meeting with one entity, scheduled from an assistance request


class SessionStatus(StrEnum):
    SCHEDULED = "scheduled"
    CANCELLED = "cancelled"


class Session(SQLModel, table=True):
    """A dated session. ``uid`` never changes; ``sequence`` rises on each change of time,
    place or status (iCalendar). ``audience`` is ``{"all": true}`` or any of
    ``{"levels": [codes], "networks": [codes], "entities": [ids], "officers": [ids]}``."""

    __tablename__ = "sessions"

    id: int | None = Field(default=None, primary_key=True)
    uid: str = Field(max_length=120, unique=True, index=True)
    plan_key: str | None = Field(default=None, max_length=120, unique=True, index=True)
    kind: str = Field(max_length=16, index=True)
    title: str = Field(max_length=300)
    description: str = Field(default="", sa_type=Text)
    topics: list[str] = Field(default_factory=list, sa_type=JSON)
    components: list[int] = Field(default_factory=list, sa_type=JSON)
    audience: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    mandatory: bool = False
    start_at: datetime = _ts(index=True)
    end_at: datetime = _ts()
    modality: str = Field(default="virtual", max_length=32)
    place: str | None = Field(default=None, max_length=500)
    link: str | None = Field(default=None, max_length=500)
    status: str = Field(default=SessionStatus.SCHEDULED, max_length=16, index=True)
    sequence: int = 0
    edited_by: int | None = Field(default=None, sa_type=BigInteger, nullable=True)
    created_by: int | None = Field(default=None, sa_type=BigInteger, nullable=True)
    convened_at: datetime | None = _ts(nullable=True, default=None)
    cancelled_at: datetime | None = _ts(nullable=True, default=None)
    created_at: datetime = _ts(default_factory=utcnow)
    updated_at: datetime = _ts(default_factory=utcnow)


class RsvpResponse(StrEnum):
    PENDING = "pending"
    YES = "yes"
    NO = "no"


class SessionInvite(SQLModel, table=True):
    """One officer convened to one session: their answer and whether they attended."""

    __tablename__ = "session_invites"
    __table_args__ = (UniqueConstraint("session_id", "officer_id"),)

    id: int | None = Field(default=None, primary_key=True)
    session_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("sessions.id", ondelete="CASCADE"), nullable=False, index=True
        )
    )
    officer_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("officers.id", ondelete="CASCADE"), nullable=False, index=True
        )
    )
    entity_id: int = Field(sa_column=Column(Integer, ForeignKey("entities.id"), nullable=False))
    response: str = Field(default=RsvpResponse.PENDING, max_length=16)
    responded_at: datetime | None = _ts(nullable=True, default=None)
    attended: bool | None = None
    attendance_marked_by: int | None = Field(default=None, sa_type=BigInteger, nullable=True)
    invited_at: datetime = _ts(default_factory=utcnow)
    nudged_at: datetime | None = _ts(nullable=True, default=None)


class ReminderStatus(StrEnum):
    PENDING = "pending"
    QUEUED = "queued"  # handed to the broadcast engine (see ``delivery_id``)
    DROPPED = "dropped"  # session cancelled, officer declined or left


class Reminder(SQLModel, table=True):
    """The reminder outbox: one row per (session, officer, offset)."""

    __tablename__ = "reminders"
    __table_args__ = (UniqueConstraint("session_id", "officer_id", "offset_minutes"),)

    id: int | None = Field(default=None, primary_key=True)
    session_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("sessions.id", ondelete="CASCADE"), nullable=False, index=True
        )
    )
    officer_id: int = Field(
        sa_column=Column(Integer, ForeignKey("officers.id", ondelete="CASCADE"), nullable=False)
    )
    offset_minutes: int
    due_at: datetime = _ts(index=True)
    status: str = Field(default=ReminderStatus.PENDING, max_length=16, index=True)
    delivery_id: int | None = Field(default=None, nullable=True)
    updated_at: datetime = _ts(default_factory=utcnow)


# --- The broadcast engine (issue 5): every message sent to many is a delivery row -------------


class BroadcastStatus(StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    DONE = "done"


class Broadcast(SQLModel, table=True):
    """A batch of messages: an invitation, reminders, a notice, an announcement…"""

    __tablename__ = "broadcasts"

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=32, index=True)
    session_id: int | None = Field(
        default=None,
        sa_column=Column(Integer, ForeignKey("sessions.id", ondelete="SET NULL"), nullable=True),
    )
    created_by: int | None = Field(default=None, sa_type=BigInteger, nullable=True)
    report_chat_id: int | None = Field(default=None, sa_type=BigInteger, nullable=True)
    description: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    status: str = Field(default=BroadcastStatus.PENDING, max_length=16, index=True)
    total: int = 0
    created_at: datetime = _ts(default_factory=utcnow)
    started_at: datetime | None = _ts(nullable=True, default=None)
    finished_at: datetime | None = _ts(nullable=True, default=None)


class DeliveryStatus(StrEnum):
    PENDING = "pending"
    SENDING = "sending"  # claimed by a sender; resolved on resume
    SENT = "sent"
    UNREACHABLE = "unreachable"  # 403: the user blocked the bot
    FAILED = "failed"  # 400 or retries exhausted; ``error`` says why


class Delivery(SQLModel, table=True):
    """One message of a broadcast to one chat, rendered when the broadcast was created."""

    __tablename__ = "deliveries"
    __table_args__ = (UniqueConstraint("broadcast_id", "chat_id"),)

    id: int | None = Field(default=None, primary_key=True)
    broadcast_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("broadcasts.id", ondelete="CASCADE"), nullable=False, index=True
        )
    )
    officer_id: int | None = Field(
        default=None,
        sa_column=Column(Integer, ForeignKey("officers.id", ondelete="SET NULL"), nullable=True),
    )
    chat_id: int = Field(sa_type=BigInteger)
    text: str = Field(sa_type=Text)
    markup: dict[str, Any] | None = Field(default=None, sa_type=JSON)
    attachment: dict[str, Any] | None = Field(default=None, sa_type=JSON)  # {"filename", "data"}
    status: str = Field(default=DeliveryStatus.PENDING, max_length=16, index=True)
    attempts: int = 0
    error: str | None = Field(default=None, max_length=500)
    telegram_message_id: int | None = Field(default=None, sa_type=BigInteger, nullable=True)
    sent_at: datetime | None = _ts(nullable=True, default=None)


# --- Individual assistance requests (issue 4) -------------------------------------------------


class RequestStatus(StrEnum):
    NEW = "new"
    ASSIGNED = "assigned"
    SCHEDULED = "scheduled"
    ANSWERED = "answered"
    WAITING = "waiting"  # waiting for the entity
    CLOSED = "closed"


class AssistanceRequest(SQLModel, table=True):
    """An individual assistance request, ticket ``AT-AAAA-NNNN`` (sequential per year)."""

    __tablename__ = "assistance_requests"
    __table_args__ = (UniqueConstraint("year", "number"),)

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=16, unique=True, index=True)
    year: int
    number: int
    officer_id: int | None = Field(
        default=None,
        sa_column=Column(
            Integer, ForeignKey("officers.id", ondelete="SET NULL"), nullable=True, index=True
        ),
    )
    entity_id: int = Field(sa_column=Column(Integer, ForeignKey("entities.id"), nullable=False))
    component: int | None = None  # 1..9, or None for "Otro tema"
    topic: str = Field(sa_type=Text)
    channel: str = Field(max_length=32)
    availability: str = Field(default="", max_length=500)
    source: str = Field(default="bot", max_length=16)  # bot | phone | email | faq
    status: str = Field(default=RequestStatus.NEW, max_length=16, index=True)
    assignee_telegram_id: int | None = Field(default=None, sa_type=BigInteger, nullable=True)
    assignee_name: str | None = Field(default=None, max_length=120)
    session_id: int | None = Field(
        default=None,
        sa_column=Column(Integer, ForeignKey("sessions.id", ondelete="SET NULL"), nullable=True),
    )
    resolution: str | None = Field(default=None, sa_type=Text)
    created_by: int | None = Field(default=None, sa_type=BigInteger, nullable=True)
    created_at: datetime = _ts(default_factory=utcnow, index=True)
    updated_at: datetime = _ts(default_factory=utcnow)
    first_response_at: datetime | None = _ts(nullable=True, default=None)
    closed_at: datetime | None = _ts(nullable=True, default=None)
    version: int = 0  # optimistic lock: every change is ``UPDATE … WHERE version = :seen``


class RequestEvent(SQLModel, table=True):
    """One step of a request's history: who did what, when, with which message."""

    __tablename__ = "request_events"

    id: int | None = Field(default=None, primary_key=True)
    request_id: int = Field(
        sa_column=Column(
            Integer,
            ForeignKey("assistance_requests.id", ondelete="CASCADE"),
            nullable=False,
            index=True,
        )
    )
    kind: str = Field(max_length=32)
    actor_telegram_id: int | None = Field(default=None, sa_type=BigInteger, nullable=True)
    actor_name: str | None = Field(default=None, max_length=120)
    text: str | None = Field(default=None, sa_type=Text)
    data: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    created_at: datetime = _ts(default_factory=utcnow)


# --- Calendar feeds and update de-duplication (issue 6) ---------------------------------------


class CalendarToken(SQLModel, table=True):
    """An officer's personal feed link; only its SHA-256 is stored."""

    __tablename__ = "calendar_tokens"

    id: int | None = Field(default=None, primary_key=True)
    officer_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("officers.id", ondelete="CASCADE"), nullable=False, index=True
        )
    )
    token_hash: str = Field(max_length=64, unique=True, index=True)
    created_at: datetime = _ts(default_factory=utcnow)
    revoked_at: datetime | None = _ts(nullable=True, default=None)


class ProcessedUpdate(SQLModel, table=True):
    """Telegram ``update_id``s already handled (getUpdates and webhooks are at-least-once)."""

    __tablename__ = "processed_updates"

    update_id: int = Field(
        sa_type=BigInteger, primary_key=True, sa_column_kwargs={"autoincrement": False}
    )
    received_at: datetime = _ts(default_factory=utcnow, index=True)
