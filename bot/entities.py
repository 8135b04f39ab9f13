"""The entities officers register under: browsing, search, and the import of SIP's list."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import case, func, select

from bot.catalog import Catalog, EntityRow
from bot.content_problems import ContentProblem
from bot.db import Database, utcnow
from bot.entity_search import EntityMatch, EntitySearchIndex, SearchableEntity, SearchVocabulary
from bot.models import Entity


@dataclass
class ImportReport:
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: list[ContentProblem] = field(default_factory=list)

    @property
    def applied(self) -> bool:
        """A file with any rejected row is not applied at all."""
        return not self.rejected


@dataclass(frozen=True, slots=True)
class Page:
    items: list[Entity]
    page: int
    pages: int
    total: int


def _fields(row: EntityRow) -> dict[str, object]:
    return {
        "name": row.name,
        "acronym": row.acronym or None,
        "aliases": "|".join(row.aliases),
        "level": row.level,
        "network": row.network or None,
    }


class EntityDirectory:
    def __init__(
        self, db: Database, catalog: Catalog, vocabulary: SearchVocabulary | None = None
    ) -> None:
        self._db = db
        self.catalog = catalog
        self._vocabulary = vocabulary
        self._index: EntitySearchIndex | None = None
        self._index_key: tuple[int, object] | None = None
        self._lock = asyncio.Lock()

    async def upsert(self, rows: Sequence[EntityRow], *, add_only: bool = False) -> ImportReport:
        """Insert new codes and update changed ones, in one transaction.

        ``add_only`` (used for the shipped catalogue at start) never overwrites what an import of
        SIP's list may have changed.
        """
        report = ImportReport()
        async with self._db.session() as session:
            existing = {e.code: e for e in (await session.execute(select(Entity))).scalars().all()}
            now = utcnow()
            for row in rows:
                values = _fields(row)
                entity = existing.get(row.code)
                if entity is None:
                    session.add(Entity(code=row.code, created_at=now, updated_at=now, **values))
                    report.added += 1
                elif add_only or all(getattr(entity, k) == v for k, v in values.items()):
                    report.unchanged += 1
                else:
                    for key, value in values.items():
                        setattr(entity, key, value)
                    entity.active = True
                    entity.updated_at = now
                    report.updated += 1
        self._index_key = None
        return report

    async def get(self, entity_id: int) -> Entity | None:
        async with self._db.session() as session:
            return await session.get(Entity, entity_id)

    async def by_code(self, code: str) -> Entity | None:
        async with self._db.session() as session:
            return (
                await session.execute(select(Entity).where(Entity.code == code))  # type: ignore[arg-type]
            ).scalar_one_or_none()

    async def page_of_network(self, network: str, page: int, per_page: int) -> Page:
        """A page of the network's active entities: its head first (the ministry, the regional
        government: the first of the network to be loaded), then the others by name."""
        async with self._db.session() as session:
            condition = (Entity.network == network) & Entity.active.is_(True)  # type: ignore[attr-defined]
            total = int((await session.execute(select(func.count()).where(condition))).scalar_one())
            pages = max(1, -(-total // per_page))
            page = min(max(page, 0), pages - 1)
            head = select(func.min(Entity.id)).where(condition).scalar_subquery()
            items = (
                (
                    await session.execute(
                        select(Entity)
                        .where(condition)
                        .order_by(case((Entity.id == head, 0), else_=1), Entity.name)
                        .offset(page * per_page)
                        .limit(per_page)
                    )
                )
                .scalars()
                .all()
            )
        return Page(list(items), page, pages, total)

    async def counts_by_network(self) -> dict[str, int]:
        async with self._db.session() as session:
            rows = await session.execute(
                select(Entity.network, func.count())
                .where(Entity.active.is_(True))  # type: ignore[attr-defined]
                .group_by(Entity.network)
            )
            return {net: n for net, n in rows.all() if net}

    async def search(self, query: str, limit: int = 5) -> list[EntityMatch]:
        index = await self._current_index()
        return index.search(query, limit=limit)

    async def _current_index(self) -> EntitySearchIndex:
        """Rebuilt when the table changed (an import by the CLI in another process, say)."""
        async with self._db.session() as session:
            key_row = (
                await session.execute(select(func.count(), func.max(Entity.updated_at)))
            ).one()
        key = (int(key_row[0]), key_row[1])
        async with self._lock:
            if self._index is None or key != self._index_key:
                async with self._db.session() as session:
                    entities = (
                        (
                            await session.execute(
                                select(Entity).where(Entity.active.is_(True))  # type: ignore[attr-defined]
                            )
                        )
                        .scalars()
                        .all()
                    )
                self._index = EntitySearchIndex(
                    [self._searchable(e) for e in entities], self._vocabulary
                )
                self._index_key = key
            return self._index

    def _searchable(self, entity: Entity) -> SearchableEntity:
        network = self.catalog.maybe_network(entity.network)
        level = self.catalog.maybe_level(entity.level)
        return SearchableEntity(
            id=entity.id or 0,
            name=entity.name,
            acronym=entity.acronym,
            aliases=entity.alias_list,
            network_name=network.name if network else None,
            level_name=level.name if level else None,
        )
