"""Reports for coordinators: ``/reporte [año]`` shows a summary of the year with a button per
section (Cobertura, Solicitudes, Asistencia: each one edits the message, with "⬅️ Resumen" to
come back) and "📊 Descargar Excel" (the workbook of ``bot.report_export``).

Buttons carry ``rp:<view>:<year>[:<page>]``. The role is read again at the command and at every
press, so a forged press from anyone else gets the refusal and nothing else.
"""

from __future__ import annotations

from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, InputFile, Update
from telegram.constants import ParseMode
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, ContextTypes, filters

from bot.report_export import report_filename, report_xlsx
from bot.reports import YearReport, page_of
from handlers.common import (
    answer,
    button,
    cb,
    edit_or_send,
    inline,
    label,
    render,
    reply,
    require,
    services,
)
from handlers.router import ROUTER

PREFIX = "rp"
SUMMARY, COVERAGE, REQUESTS, ATTENDANCE, EXCEL = "s", "c", "r", "a", "x"
NETWORKS_PER_PAGE = 20
SESSIONS_PER_PAGE = 8
NETWORKS_SHOWN = 15  # requests by network in the chat; the workbook has them all


async def require_coordinator(update: Update, context: ContextTypes.DEFAULT_TYPE) -> bool:
    return await require(update, context, lambda r: r.is_coordinator, "only_coordinators")


# ---------------------------------------------------------------- the command


async def report_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/reporte [año]: the summary of the year (default: the current year in Lima)."""
    if not await require_coordinator(update, context):
        return
    reports = services(context).reports
    args = context.args or []
    year: int | None = reports.current_year()
    if args:
        year = reports.parse_year(args[0]) if len(args) == 1 else None
    if year is None:
        first, last = reports.year_range()
        typed = " ".join(args)
        await reply(update, context, "reports/bad_year", typed=typed, first=first, last=last)
        return
    report = await reports.report(year)
    await reply(update, context, "reports/summary", _summary_markup(context, year), r=report)


# ---------------------------------------------------------------- buttons


async def on_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """``rp:<view>:<year>[:<page>]`` — the role first, then the year, then the view."""
    query = update.callback_query
    assert query is not None
    if not await require_coordinator(update, context):
        return
    parts = (query.data or "").split(":")
    reports = services(context).reports
    view = parts[1] if len(parts) > 1 else ""
    year = reports.parse_year(parts[2]) if len(parts) > 2 else None
    page = _int(parts[3]) if len(parts) > 3 else 0
    if view not in _VIEWS or year is None or page is None or len(parts) > 4:
        await answer(update, context, "stale_button", alert=True)
        return
    if view == EXCEL:
        await answer(update, context, "report_preparing")
        await _send_workbook(update, context, year)
        return
    await answer(update, context)
    report = await reports.report(year)
    if view == SUMMARY:
        markup = _summary_markup(context, year)
        await edit_or_send(update, context, "reports/summary", markup, r=report)
        return
    template, values, pages = _section(view, report, page)
    markup = _section_markup(context, view, year, values["page"], pages)
    await edit_or_send(update, context, template, markup, r=report, **values)


def _section(view: str, report: YearReport, page: int) -> tuple[str, dict[str, Any], int]:
    """The template of a section, what it shows on this page, and how many pages there are."""
    if view == COVERAGE:
        networks = page_of(report.coverage.networks, page, NETWORKS_PER_PAGE)
        return "reports/coverage", {"networks": networks, "page": networks.page}, networks.pages
    if view == ATTENDANCE:
        sessions = page_of(report.attendance.sessions, page, SESSIONS_PER_PAGE)
        return "reports/attendance", {"sessions": sessions, "page": sessions.page}, sessions.pages
    networks_shown = report.requests.by_network[:NETWORKS_SHOWN]
    rest = report.requests.by_network[NETWORKS_SHOWN:]
    values = {
        "networks": networks_shown,
        "other_networks": len(rest),
        "other_requests": sum(c.count for c in rest),
        "page": 0,
    }
    return "reports/requests", values, 1


async def _send_workbook(update: Update, context: ContextTypes.DEFAULT_TYPE, year: int) -> None:
    s = services(context)
    report = await s.reports.report(year)
    data = report_xlsx(report, s.texts, s.settings.tz)
    chat = update.effective_chat
    assert chat is not None
    await context.bot.send_document(
        chat.id,
        InputFile(data, filename=report_filename(year)),
        caption=render(context, "reports/export_caption", r=report),
        parse_mode=ParseMode.HTML,
    )


# ---------------------------------------------------------------- keyboards


def _summary_markup(context: ContextTypes.DEFAULT_TYPE, year: int) -> InlineKeyboardMarkup:
    return inline(
        [
            [
                button(label(context, "report_coverage"), cb(PREFIX, COVERAGE, year, 0)),
                button(label(context, "report_requests"), cb(PREFIX, REQUESTS, year)),
            ],
            [button(label(context, "report_attendance"), cb(PREFIX, ATTENDANCE, year, 0))],
            [button(label(context, "report_excel"), cb(PREFIX, EXCEL, year))],
        ]
    )


def _section_markup(
    context: ContextTypes.DEFAULT_TYPE, view: str, year: int, page: int, pages: int
) -> InlineKeyboardMarkup:
    nav: list[InlineKeyboardButton] = []
    if page > 0:
        nav.append(button(label(context, "page_prev"), cb(PREFIX, view, year, page - 1)))
    if page + 1 < pages:
        nav.append(button(label(context, "page_next"), cb(PREFIX, view, year, page + 1)))
    return inline(
        [
            nav,
            [
                button(label(context, "report_back"), cb(PREFIX, SUMMARY, year)),
                button(label(context, "report_excel"), cb(PREFIX, EXCEL, year)),
            ],
        ]
    )


def _int(value: str) -> int | None:
    return int(value) if value.isascii() and value.isdigit() and len(value) <= 4 else None


_VIEWS = (SUMMARY, COVERAGE, REQUESTS, ATTENDANCE, EXCEL)


def register(app: Application[Any, Any, Any, Any, Any, Any]) -> None:
    private = filters.ChatType.PRIVATE
    app.add_handler(CommandHandler("reporte", report_command, filters=private))
    app.add_handler(CallbackQueryHandler(on_button, pattern=rf"^{PREFIX}:"))
    ROUTER.menu("menu_reports", report_command)
