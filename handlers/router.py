"""Routes private text and media to the open dialog of the user, or to a main-menu action.

Capability modules register here the steps they own; the router itself holds no logic beyond
choosing whom to call.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from telegram import Update
from telegram.ext import ContextTypes

from bot.dialogs import Dialog

DialogHandler = Callable[[Update, ContextTypes.DEFAULT_TYPE, Dialog], Awaitable[None]]
Action = Callable[[Update, ContextTypes.DEFAULT_TYPE], Awaitable[None]]


class Router:
    def __init__(self) -> None:
        self.text_by_flow: dict[str, DialogHandler] = {}
        self.media_by_flow: dict[str, DialogHandler] = {}
        self.prompt_by_flow: dict[str, DialogHandler] = {}
        self.menu_actions: dict[str, Action] = {}  # label key → action
        self.free_text: Action | None = None  # registered users' text outside any dialog

    def dialog(
        self,
        flow: str,
        *,
        text: DialogHandler,
        prompt: DialogHandler,
        media: DialogHandler | None = None,
    ) -> None:
        """Register a flow: what to do with typed text, how to ask again, other messages."""
        self.text_by_flow[flow] = text
        self.prompt_by_flow[flow] = prompt
        if media is not None:
            self.media_by_flow[flow] = media

    def menu(self, label_key: str, action: Action) -> None:
        self.menu_actions[label_key] = action


ROUTER = Router()
