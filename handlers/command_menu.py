"""The command menu Telegram shows each user: officers by default, coordinators per chat."""

from __future__ import annotations

import logging

from telegram import Bot, BotCommand, BotCommandScopeAllPrivateChats, BotCommandScopeChat
from telegram.error import TelegramError

from bot.roles import Role
from bot.services import Services

log = logging.getLogger(__name__)


def commands_for(services: Services, user_role: Role) -> list[BotCommand]:
    table = services.texts.commands
    keys = ["officer"]
    if user_role.is_coordinator:
        keys.append("coordinator")
    if user_role is Role.ADMIN:
        keys.append("admin")
    seen: dict[str, BotCommand] = {}
    for key in keys:
        for item in table.get(key, []):
            seen[item["command"]] = BotCommand(item["command"], item["description"])
    return list(seen.values())


async def set_default_commands(bot: Bot, services: Services) -> None:
    await bot.set_my_commands(
        commands_for(services, Role.OFFICER), scope=BotCommandScopeAllPrivateChats()
    )


async def set_commands_for(bot: Bot, services: Services, chat_id: int, user_role: Role) -> None:
    """Coordinators and admins get their own list; others fall back to the default one."""
    try:
        if user_role.is_coordinator:
            await bot.set_my_commands(
                commands_for(services, user_role), scope=BotCommandScopeChat(chat_id)
            )
        else:
            await bot.delete_my_commands(scope=BotCommandScopeChat(chat_id))
    except TelegramError as exc:  # the chat may not exist yet for the bot
        log.info("could not set commands for chat %s: %s", chat_id, exc)


async def set_all_commands(bot: Bot, services: Services) -> None:
    await set_default_commands(bot, services)
    for coordinator in await services.roles.coordinators():
        await set_commands_for(bot, services, coordinator.telegram_user_id, Role.COORDINATOR)
    for admin_id in services.roles.admin_ids:
        await set_commands_for(bot, services, admin_id, Role.ADMIN)
