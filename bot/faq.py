"""Answering officers' questions: the FAQ index, the ICP calculator, feedback and hand-off.

Knows nothing of Telegram: handlers pass text in and render what comes back.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field, replace
from decimal import Decimal
from pathlib import Path

from sqlalchemy import or_, select, update

from bot.catalog import Catalog
from bot.content_problems import ContentProblem
from bot.db import Database
from bot.faq_content import FaqEntry, load_faq
from bot.faq_search import FaqHit, FaqIndex, load_shorthand
from bot.icp import (
    SCALE_FILE,
    IcpError,
    Rating,
    Scale,
    find_stage_and_score,
    load_scale,
    rate,
)
from bot.models import FaqQuestion

QUESTION_MAX = 4096
_MEANINGFUL = re.compile(r"[^\W_]", re.UNICODE)


@dataclass(frozen=True)
class Knowledge:
    """Everything the answering needs, loaded together so a reload swaps it in one go."""

    entries: dict[str, FaqEntry]
    index: FaqIndex
    scale: Scale


def load_knowledge(
    content_dir: Path, catalog: Catalog
) -> tuple[Knowledge | None, list[ContentProblem]]:
    entries, entry_problems = load_faq(content_dir, catalog)  # loads the plan too
    shorthand, shorthand_problems = load_shorthand(content_dir)
    scale, scale_problems = load_scale(content_dir)
    problems = [*entry_problems, *shorthand_problems, *scale_problems]
    if scale is not None:
        problems += scale_entry_problems(scale, {entry.id for entry in entries})
    if problems or scale is None:
        return None, problems
    return Knowledge({e.id: e for e in entries}, FaqIndex(entries, shorthand), scale), []


def scale_entry_problems(scale: Scale, entry_ids: AbstractSet[str]) -> list[ContentProblem]:
    """The FAQ entries the calculator's ratings point to must exist."""
    named = [
        ("entry", scale.entry),
        ("rounding_entry", scale.rounding_entry),
        *((band.name, band.entry) for band in scale.bands),
    ]
    return [
        ContentProblem(SCALE_FILE, where, f"unknown FAQ entry {entry_id!r}")
        for where, entry_id in named
        if entry_id is not None and entry_id not in entry_ids
    ]


@dataclass(frozen=True)
class Answer:
    band: str  # answer | suggest | fallback | calculator | too_short
    hits: list[FaqHit] = field(default_factory=list)
    question_id: int | None = None
    rating: Rating | None = None
    icp_error: str | None = None  # "stage" or "score" when the calculator refused
    stage: int | None = None  # the stage the calculator was asked about

    @property
    def top(self) -> FaqEntry | None:
        return self.hits[0].entry if self.hits else None


def _result(hit: FaqHit) -> dict[str, object]:
    entry = hit.entry
    return {
        "id": entry.id,
        "question": entry.question,
        "answer": entry.answer,
        "score": round(hit.score, 4),
    }


class FaqService:
    """``db`` may be None for read-only use (the CLI): then nothing is recorded."""

    def __init__(self, db: Database | None, knowledge: Knowledge) -> None:
        self._db = db
        self.knowledge = knowledge

    def entry(self, entry_id: str) -> FaqEntry | None:
        return self.knowledge.entries.get(entry_id)

    def search(self, text: str, limit: int = 5) -> Answer:
        """Rank without recording (the CLI, inline mode)."""
        calculated = self._calculator(text)
        if calculated is not None:
            return self._with_related(calculated, text, limit)
        if len(_MEANINGFUL.findall(text)) < 2:
            return Answer("too_short")
        result = self.knowledge.index.ask(text[:QUESTION_MAX], limit=limit)
        return Answer(result.band, list(result.hits))

    def as_json(self, text: str, render_rating: Callable[[Answer], str]) -> dict[str, object]:
        """The ``faq ask --json`` object: band, answer text or null, up to five results."""
        result = self.search(text)
        if result.band == "calculator":
            return {
                "band": "answer",
                "answer": render_rating(result),
                "results": [_result(hit) for hit in result.hits[:5]],
            }
        band = "fallback" if result.band == "too_short" else result.band
        top = result.top
        return {
            "band": band,
            "answer": top.answer if band == "answer" and top is not None else None,
            "results": [_result(hit) for hit in result.hits[:5]],
        }

    def rate(self, stage: int, score: Decimal) -> Answer:
        """The calculator's answer; its hits are the FAQ entries on the rating and on the scale
        (for ``faq ask --json`` and inline mode), when the scale names them."""
        scale = self.knowledge.scale
        try:
            rating = rate(scale, stage, score)
        except IcpError as exc:
            valid_stage = stage if exc.kind == "score" else None
            related = [self.entry(scale.entry)] if scale.entry else []
            hits = [FaqHit(e, 1.0) for e in related if e is not None]
            return Answer("calculator", hits, icp_error=exc.kind, stage=valid_stage)
        rounding = scale.rounding_entry if rating.was_rounded else None
        related = [self.entry(i) for i in (rating.band.entry, scale.entry, rounding) if i]
        hits = [FaqHit(e, 1.0) for e in related if e is not None]
        return Answer("calculator", hits, rating=rating, stage=stage)

    def _with_related(self, calculated: Answer, text: str, limit: int) -> Answer:
        """The calculator's entries, then the ranker's for the rest of the question ("¿cuánto
        nos falta para pasar a la etapa 3?"), without repeating one, up to ``limit``."""
        seen = {hit.entry.id for hit in calculated.hits}
        related = [
            hit
            for hit in self.knowledge.index.ask(text[:QUESTION_MAX], limit=limit).hits
            if hit.entry.id not in seen
        ]
        hits = [*calculated.hits, *related][:limit]
        return replace(calculated, hits=hits)

    def _calculator(self, text: str) -> Answer | None:
        try:
            found = find_stage_and_score(text)
        except IcpError:
            return None
        return self.rate(*found) if found else None

    async def ask(self, user_id: int | None, text: str) -> Answer:
        """Answer and record the question (for feedback and the coordinators' review)."""
        answer = self.search(text)
        if answer.band == "too_short":
            return answer
        top = answer.top
        if self._db is None:
            return answer
        async with self._db.session() as session:
            row = FaqQuestion(
                telegram_user_id=user_id,
                text=text[:QUESTION_MAX],
                band=answer.band,
                entry_id=top.id if top is not None and answer.band == "answer" else None,
            )
            session.add(row)
            await session.flush()
            question_id = row.id
        return Answer(
            answer.band, answer.hits, question_id, answer.rating, answer.icp_error, answer.stage
        )

    @property
    def db(self) -> Database:
        if self._db is None:
            raise RuntimeError("read-only FAQ service")
        return self._db

    async def question(self, question_id: int, user_id: int) -> FaqQuestion | None:
        """One of the user's own questions (nobody sees another officer's)."""
        async with self.db.session() as session:
            return (
                await session.execute(
                    select(FaqQuestion).where(
                        FaqQuestion.id == question_id,  # type: ignore[arg-type]
                        FaqQuestion.telegram_user_id == user_id,  # type: ignore[arg-type]
                    )
                )
            ).scalar_one_or_none()

    async def _set(self, question_id: int, user_id: int, **values: object) -> bool:
        async with self.db.session() as session:
            result = await session.execute(
                update(FaqQuestion)
                .where(
                    FaqQuestion.id == question_id,  # type: ignore[arg-type]
                    FaqQuestion.telegram_user_id == user_id,  # type: ignore[arg-type]
                )
                .values(**values)
            )
            return result.rowcount == 1

    async def choose(self, question_id: int, user_id: int, entry_id: str) -> bool:
        return await self._set(question_id, user_id, entry_id=entry_id)

    async def feedback(self, question_id: int, user_id: int, helpful: bool) -> bool:
        return await self._set(question_id, user_id, helpful=helpful)

    async def hand_off(self, question_id: int, user_id: int) -> bool:
        return await self._set(question_id, user_id, handed_off=True)

    async def pending(self, limit: int = 20) -> list[FaqQuestion]:
        """Unanswered and 👎 questions, newest first, for coordinators to improve the content."""
        async with self.db.session() as session:
            rows = await session.execute(
                select(FaqQuestion)
                .where(
                    or_(
                        FaqQuestion.band == "fallback",  # type: ignore[arg-type]
                        FaqQuestion.helpful.is_(False),  # type: ignore[union-attr]
                    )
                )
                .order_by(FaqQuestion.created_at.desc(), FaqQuestion.id.desc())  # type: ignore[union-attr]
                .limit(limit)
            )
            return list(rows.scalars())
