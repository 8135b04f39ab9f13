"""The services one running bot uses, built once from the settings."""

from __future__ import annotations

from dataclasses import dataclass

from bot.assistance import AssistanceService
from bot.content import Content, load_content
from bot.content_problems import ContentError, ContentProblem
from bot.db import Database
from bot.dialogs import DialogStore
from bot.entities import EntityDirectory, ImportReport
from bot.faq import FaqService, load_knowledge
from bot.feeds import FeedService
from bot.invitations import InvitationService
from bot.officers import OfficerService
from bot.plan import load_plan
from bot.reports import ReportService
from bot.roles import RoleService
from bot.sessions import SessionService
from bot.settings import Settings
from bot.texts import Texts
from bot.updates import UpdateLog


@dataclass
class Services:
    settings: Settings
    db: Database
    content: Content
    entities: EntityDirectory
    invitations: InvitationService
    officers: OfficerService
    roles: RoleService
    dialogs: DialogStore
    faq: FaqService
    assistance: AssistanceService
    # --- calendar feeds and update de-duplication (issue 6) ---
    feeds: FeedService
    updates: UpdateLog

    @property
    def texts(self) -> Texts:
        return self.content.texts

    def reload_content(self) -> list[ContentProblem]:
        """Load ``content/`` again; on any problem keep what is live and return the problems."""
        try:
            content = load_content(
                self.settings.content_dir, Texts(self.settings.content_dir, self.settings.tz)
            )
        except ContentError as exc:
            return exc.problems
        knowledge, problems = load_knowledge(self.settings.content_dir, content.catalog)
        if knowledge is None:
            return problems
        self.content = content
        self.entities.catalog = content.catalog
        self.faq.knowledge = knowledge
        return []

    @property
    def sessions(self) -> SessionService:  # issue 5: sessions (stateless, cheap to build)
        return SessionService(self.db, self.settings.reminder_offset_list)

    @property
    def reports(self) -> ReportService:  # reports for coordinators (stateless, cheap to build)
        return ReportService(
            self.db, self.content.catalog, assistance=self.assistance, tz=self.settings.tz
        )

    async def seed_entities(self) -> ImportReport:
        """Add the shipped entities that are missing; never overwrite an imported change."""
        return await self.entities.upsert(self.content.entities, add_only=True)


def build_services(settings: Settings, db: Database | None = None) -> Services:
    """Load the content (raising ContentError on any problem) and wire the services."""
    content = load_content(settings.content_dir, Texts(settings.content_dir, settings.tz))
    knowledge, problems = load_knowledge(settings.content_dir, content.catalog)
    if knowledge is None:
        raise ContentError(problems)
    db = db or Database(settings.database_url)
    plan, _ = load_plan(settings.content_dir)  # already checked with the FAQ it feeds
    holidays = frozenset(
        day
        for days in (plan.rules.holidays.values() if plan and plan.rules else ())
        for day in days
    )
    invitations = InvitationService(db, settings.invitation_ttl_days)
    return Services(
        settings=settings,
        db=db,
        content=content,
        entities=EntityDirectory(db, content.catalog, content.vocabulary),
        invitations=invitations,
        officers=OfficerService(db, invitations),
        roles=RoleService(db, settings.admin_telegram_ids, invitations),
        dialogs=DialogStore(db),
        faq=FaqService(db, knowledge),
        assistance=AssistanceService(db, settings.tz, settings.request_overdue_days, holidays),
        # --- calendar feeds and update de-duplication (issue 6) ---
        feeds=FeedService(db),
        updates=UpdateLog(db),
    )
