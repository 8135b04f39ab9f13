"""The database tables (SQLModel). Migrations in ``bot/migrations`` must follow every change."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, BigInteger, Column, ForeignKey, Integer
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
    telegram_user_id: int | None = Field(default=None, sa_type=BigInteger, index=True,
                                         nullable=True)  # erased with /baja
    text: str = Field(max_length=4096)
    band: str = Field(max_length=16, index=True)  # answer | suggest | fallback | calculator
    entry_id: str | None = Field(default=None, max_length=80)  # the entry finally shown
    helpful: bool | None = None
    handed_off: bool = False  # the officer asked SIP for individual assistance with it
    created_at: datetime = _ts(default_factory=utcnow)
