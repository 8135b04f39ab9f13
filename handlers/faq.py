"""Questions to the FAQ (free text, /preguntar, inline mode), the ICP calculator (/icp) and a
network's priorities (/brechas)."""

from __future__ import annotations

import logging
from typing import Any
from uuid import uuid4

from telegram import InlineQueryResultArticle, InputTextMessageContent, Update
from telegram.constants import ParseMode
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    InlineQueryHandler,
    filters,
)

from bot.dialogs import Dialog
from bot.faq import Answer
from bot.icp import IcpError, parse_number
from bot.roles import Role
from handlers.assistance import start_intake
from handlers.common import (
    answer,
    button,
    cb,
    edit_or_send,
    inline,
    label,
    parse_cb,
    render,
    reply,
    require,
    role,
    services,
    two_buttons,
)
from handlers.router import ROUTER

log = logging.getLogger(__name__)
QUESTION_FLOW = "faq"
ICP_FLOW = "icp"
NETWORK_FLOW = "brechas"
INLINE_RESULTS = 5


async def _registered(update: Update, context: ContextTypes.DEFAULT_TYPE) -> bool:
    """Questions are for registered officers (and coordinators); others are pointed to /start."""
    return await require(update, context, lambda r: r is not Role.GUEST, "only_registered")


# ---------------------------------------------------------------- questions


async def on_question(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Free text outside a dialog from a registered user: a question."""
    message = update.effective_message
    user = update.effective_user
    assert message is not None and user is not None
    result = await services(context).faq.ask(user.id, message.text or "")
    await _show(update, context, result, edit=False)


async def ask_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    if not await _registered(update, context):
        return
    text = " ".join(context.args or []).strip()
    user = update.effective_user
    assert user is not None
    if not text:
        await services(context).dialogs.save(user.id, Dialog(QUESTION_FLOW, "question"))
        await reply(update, context, "faq/ask_question")
        return
    result = await services(context).faq.ask(user.id, text)
    await _show(update, context, result, edit=False)


async def on_dialog_question(
    update: Update, context: ContextTypes.DEFAULT_TYPE, dialog: Dialog
) -> None:
    user = update.effective_user
    assert user is not None
    await services(context).dialogs.clear(user.id)
    await on_question(update, context)


async def reprompt_question(
    update: Update, context: ContextTypes.DEFAULT_TYPE, dialog: Dialog
) -> None:
    await reply(update, context, "faq/ask_question")


async def _show(
    update: Update, context: ContextTypes.DEFAULT_TYPE, result: Answer, *, edit: bool
) -> None:
    s = services(context)
    qid = result.question_id or 0
    if result.band == "calculator":
        await _show_rating(update, context, result)
        return
    if result.band == "answer" and result.top is not None:
        markup = two_buttons(
            context, "faq_helpful", cb("fq", "y", qid),
            "faq_not_helpful", cb("fq", "n", qid),
        )
        catalog = s.content.catalog
        send = edit_or_send if edit else reply
        await send(
            update,
            context,
            "faq/answer",
            markup,
            entry=result.top,
            components=[catalog.component(n) for n in result.top.components],
        )
        if result.top.then == "own_network_gaps":
            await _own_network_gaps(update, context)
        return
    if result.band == "suggest":
        rows = [
            [button(h.entry.question[:60], cb("fq", "s", qid, i))]
            for i, h in enumerate(result.hits[:3])
        ]
        rows.append([button(label(context, "faq_none_of_these"), cb("fq", "x", qid))])
        await reply(update, context, "faq/suggest", inline(rows))
        return
    if result.band == "too_short":
        await reply(update, context, "faq/too_short")
        return
    await reply(
        update,
        context,
        "faq/fallback",
        inline([[button(label(context, "faq_hand_off"), cb("fq", "h", qid))]]),
    )


async def on_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    user = update.effective_user
    assert query is not None and user is not None
    parts = (query.data or "").split(":")
    s = services(context)
    if len(parts) < 3 or not parts[2].isdigit():
        await answer(update, context, "stale_button")
        return
    action, qid = parts[1], int(parts[2])
    asked = await s.faq.question(qid, user.id)
    if asked is None:  # not this user's question, or erased with /baja
        await answer(update, context, "stale_button", alert=True)
        return
    if action in ("y", "n"):
        await s.faq.feedback(qid, user.id, action == "y")
        await answer(update, context, "faq_thanks")
        await query.edit_message_reply_markup(None)
    elif action == "s" and len(parts) == 4 and parts[3].isdigit():
        hits = s.faq.search(asked.text).hits
        index = int(parts[3])
        if index >= len(hits):
            await answer(update, context, "stale_button")
            return
        entry = hits[index].entry
        await s.faq.choose(qid, user.id, entry.id)
        await answer(update, context)
        await _show(update, context, Answer("answer", [hits[index]], qid), edit=True)
    elif action == "x":
        await s.faq.feedback(qid, user.id, False)
        await answer(update, context)
        await edit_or_send(
            update,
            context,
            "faq/fallback",
            inline([[button(label(context, "faq_hand_off"), cb("fq", "h", qid))]]),
        )
    elif action == "h":
        # the hand-off opens the /solicitar intake with the question as its topic (issue 4)
        await s.faq.hand_off(qid, user.id)
        await answer(update, context)
        if await role(update, context) is Role.OFFICER:  # others are told why not
            await edit_or_send(update, context, "faq/handed_off", question=asked.text)
        await start_intake(update, context, topic=asked.text, source="faq")
    else:
        await answer(update, context, "stale_button")


async def pending_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    if not await require(update, context, lambda r: r.is_coordinator, "only_coordinators"):
        return
    questions = await services(context).faq.pending()
    await reply(update, context, "faq/pending", questions=questions)


async def on_inline_query(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """``@bot texto`` from any chat: the best entries, ready to share."""
    query = update.inline_query
    assert query is not None
    s = services(context)
    result = s.faq.search(query.query, limit=INLINE_RESULTS)
    articles = []
    if result.band == "calculator" and result.rating is not None:  # "@bot etapa 2 1.75"
        articles.append(
            InlineQueryResultArticle(
                id=uuid4().hex,
                title=label(
                    context,
                    "inline_rating_title",
                    stage=result.rating.stage,
                    score=result.rating.score,
                    band=result.rating.band.name,
                ),
                input_message_content=InputTextMessageContent(
                    render(context, "icp/result", rating=result.rating),
                    parse_mode=ParseMode.HTML,
                ),
                description=label(context, "inline_description"),
            )
        )
    if result.band in ("answer", "suggest", "calculator"):  # after a rating: its entries
        for hit in result.hits:
            text = render(context, "faq/inline_answer", entry=hit.entry)
            articles.append(
                InlineQueryResultArticle(
                    id=uuid4().hex,
                    title=hit.entry.question[:100],
                    input_message_content=InputTextMessageContent(text, parse_mode=ParseMode.HTML),
                    description=label(context, "inline_description"),
                )
            )
    await query.answer(articles, cache_time=60, is_personal=False)


# ---------------------------------------------------------------- /icp


async def icp_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    args = context.args or []
    if len(args) >= 2:
        await _rate_typed(update, context, args[0], args[1])
        return
    if len(args) == 1:
        await _ask_score(update, context, args[0])
        return
    rows = [[button(label(context, "icp_stage", n=n), cb("ic", n)) for n in range(1, 6)]]
    await reply(update, context, "icp/ask_stage", inline(rows))


async def _ask_score(update: Update, context: ContextTypes.DEFAULT_TYPE, stage_text: str) -> None:
    user = update.effective_user
    assert user is not None
    if not stage_text.isdigit() or not 1 <= int(stage_text) <= 5:
        await reply(update, context, "icp/invalid", error="stage", stage=None, typed=stage_text)
        return
    stage = int(stage_text)
    await services(context).dialogs.save(user.id, Dialog(ICP_FLOW, "score", {"stage": stage}))
    await reply(update, context, "icp/ask_score", stage=stage)


async def _rate_typed(
    update: Update, context: ContextTypes.DEFAULT_TYPE, stage_text: str, score_text: str
) -> None:
    if not stage_text.isdigit():
        await reply(update, context, "icp/invalid", error="stage", stage=None, typed=stage_text)
        return
    try:
        score = parse_number(score_text)
    except IcpError:
        await reply(
            update, context, "icp/invalid", error="score", stage=int(stage_text), typed=score_text
        )
        return
    result = services(context).faq.rate(int(stage_text), score)
    await _show_rating(update, context, result, typed=score_text)


async def _show_rating(
    update: Update, context: ContextTypes.DEFAULT_TYPE, result: Answer, typed: str = ""
) -> None:
    if result.rating is None:
        await reply(
            update, context, "icp/invalid", error=result.icp_error, stage=result.stage, typed=typed
        )
        return
    await reply(update, context, "icp/result", rating=result.rating)


async def on_icp_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    assert query is not None
    args = parse_cb(query.data, "ic", 1)
    await answer(update, context)
    if args is None:
        return
    await _ask_score(update, context, args[0])


async def on_icp_text(update: Update, context: ContextTypes.DEFAULT_TYPE, dialog: Dialog) -> None:
    message = update.effective_message
    user = update.effective_user
    assert message is not None and user is not None
    stage = int(dialog.data.get("stage", 0))
    text = (message.text or "").strip()
    try:
        score = parse_number(text)
    except IcpError:
        await reply(update, context, "icp/invalid", error="score", stage=stage, typed=text[:40])
        return
    result = services(context).faq.rate(stage, score)
    if result.rating is None:
        await reply(
            update, context, "icp/invalid", error=result.icp_error, stage=stage, typed=text[:40]
        )
        return
    await services(context).dialogs.clear(user.id)
    await _show_rating(update, context, result)


async def reprompt_icp(update: Update, context: ContextTypes.DEFAULT_TYPE, dialog: Dialog) -> None:
    await reply(update, context, "icp/ask_score", stage=int(dialog.data.get("stage", 1)))


# ---------------------------------------------------------------- /brechas


async def gaps_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    user = update.effective_user
    assert user is not None
    s = services(context)
    user_role = await role(update, context)
    typed = " ".join(context.args or []).strip()
    if typed and user_role.is_coordinator:
        await _show_network(update, context, typed)
        return
    if user_role is Role.OFFICER and await _own_network_gaps(update, context):
        return
    if user_role.is_coordinator:
        await s.dialogs.save(user.id, Dialog(NETWORK_FLOW, "network"))
        await reply(update, context, "faq/ask_network")
        return
    await reply(update, context, "faq/no_network", registered=user_role is not Role.GUEST)


async def _own_network_gaps(update: Update, context: ContextTypes.DEFAULT_TYPE) -> bool:
    """The asking officer's own network's priorities, when they have one (else nothing)."""
    user = update.effective_user
    s = services(context)
    if user is None or await role(update, context) is not Role.OFFICER:
        return False
    view = await s.officers.by_user(user.id)
    network = s.content.catalog.maybe_network(view.entity.network) if view else None
    if network is None:
        return False
    await reply(update, context, "faq/network_gaps", network=network, catalog=s.content.catalog)
    return True


async def _show_network(update: Update, context: ContextTypes.DEFAULT_TYPE, typed: str) -> None:
    s = services(context)
    network = s.content.catalog.search_network(typed)
    if network is None:
        await reply(update, context, "faq/network_not_found", typed=typed[:100])
        return
    user = update.effective_user
    if user is not None:
        await s.dialogs.clear(user.id)
    await reply(update, context, "faq/network_gaps", network=network, catalog=s.content.catalog)


async def on_network_text(
    update: Update, context: ContextTypes.DEFAULT_TYPE, dialog: Dialog
) -> None:
    message = update.effective_message
    assert message is not None
    if not await require(update, context, lambda r: r.is_coordinator, "only_coordinators"):
        return
    await _show_network(update, context, message.text or "")


async def reprompt_network(
    update: Update, context: ContextTypes.DEFAULT_TYPE, dialog: Dialog
) -> None:
    await reply(update, context, "faq/ask_network")


def register(app: Application[Any, Any, Any, Any, Any, Any]) -> None:
    private = filters.ChatType.PRIVATE
    app.add_handler(CommandHandler("preguntar", ask_command, filters=private))
    app.add_handler(CommandHandler("icp", icp_command, filters=private))
    app.add_handler(CommandHandler("brechas", gaps_command, filters=private))
    app.add_handler(CommandHandler("faq_pendientes", pending_command, filters=private))
    app.add_handler(CallbackQueryHandler(on_button, pattern=r"^fq:"))
    app.add_handler(CallbackQueryHandler(on_icp_button, pattern=r"^ic:"))
    app.add_handler(InlineQueryHandler(on_inline_query))
    ROUTER.dialog(QUESTION_FLOW, text=on_dialog_question, prompt=reprompt_question)
    ROUTER.dialog(ICP_FLOW, text=on_icp_text, prompt=reprompt_icp)
    ROUTER.dialog(NETWORK_FLOW, text=on_network_text, prompt=reprompt_network)
    ROUTER.free_text = on_question
    ROUTER.menu("menu_ask", ask_command)
    ROUTER.menu("menu_icp", icp_command)
    ROUTER.menu("menu_gaps", gaps_command)
