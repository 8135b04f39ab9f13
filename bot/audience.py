"""Who a session or an announcement is for.

An audience is a small dict stored with the session: ``{"all": true}``, or any of
``{"levels": [level codes], "networks": [network codes], "entities": [entity ids],
"officers": [officer ids]}`` (a union: an officer matching any part is in it).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import false, or_, true
from sqlalchemy.sql.elements import ColumnElement

from bot.models import Entity, Officer

Audience = dict[str, Any]
ALL: Audience = {"all": True}


def normalise(audience: Audience) -> Audience:
    """Drop empty parts and sort lists, so equal audiences compare equal."""
    if audience.get("all"):
        return dict(ALL)
    out: Audience = {}
    for key in ("levels", "networks", "entities", "officers"):
        values = sorted(set(audience.get(key) or []))
        if values:
            out[key] = values
    return out


def matches(
    audience: Audience, *, officer_id: int, entity_id: int, level: str, network: str | None
) -> bool:
    """Whether one officer (of that entity, level and network) is in the audience."""
    if audience.get("all"):
        return True
    return (
        level in (audience.get("levels") or [])
        or (network is not None and network in (audience.get("networks") or []))
        or entity_id in (audience.get("entities") or [])
        or officer_id in (audience.get("officers") or [])
    )


def officer_filter(audience: Audience) -> ColumnElement[bool]:
    """A WHERE clause over ``Officer`` joined with ``Entity`` selecting the audience."""
    if audience.get("all"):
        return true()
    parts: list[ColumnElement[bool]] = []
    if audience.get("levels"):
        parts.append(Entity.level.in_(audience["levels"]))  # type: ignore[attr-defined]
    if audience.get("networks"):
        parts.append(Entity.network.in_(audience["networks"]))  # type: ignore[union-attr]
    if audience.get("entities"):
        parts.append(Entity.id.in_(audience["entities"]))  # type: ignore[union-attr]
    if audience.get("officers"):
        parts.append(Officer.id.in_(audience["officers"]))  # type: ignore[union-attr]
    return or_(*parts) if parts else false()
