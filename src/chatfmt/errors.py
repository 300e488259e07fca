"""chatfmt's own exceptions.

Errors that transformers raises keep transformers' types (jinja2 exceptions, ValueError, TypeError), so
code written against `apply_chat_template` catches the same things. The classes here add what only
chatfmt can fail at: finding a template, reading a conversation, loading a plugin or a Hub repo.
"""

from __future__ import annotations


class ChatfmtError(Exception):
    """Base class of every error chatfmt raises on its own account."""


class InvalidConversation(ChatfmtError, TypeError, ValueError, AttributeError):
    """A conversation is not a list of message mappings with a string role.

    It is a TypeError, a ValueError and an AttributeError too, because for the same inputs transformers
    raises one of those (AttributeError for a message without `.items()`), so code catching
    transformers' exception catches chatfmt's; `message_index` and `field` say where the problem is.
    """

    def __init__(self, reason: str, *, message_index: int | None = None, field: str | None = None) -> None:
        where = []
        if message_index is not None:
            where.append(f"message {message_index}")
        if field is not None:
            where.append(f"field {field!r}")
        super().__init__(f"{', '.join(where)}: {reason}" if where else reason)
        self.reason = reason
        self.message_index = message_index
        self.field = field


class NestingTooDeep(InvalidConversation, RecursionError):
    """An input nests lists or mappings deeper than chatfmt walks (Python's recursion limit).

    It is a RecursionError too, since that is what transformers raises for the same input.
    """


class InputTooLarge(InvalidConversation, MemoryError):
    """An input is larger than chatfmt accepts (or than memory allows) before any work on it starts."""


class TemplateNotFound(ChatfmtError, LookupError):
    """No registered format, plugin, file or Hub repo answers to a name."""


class PluginError(ChatfmtError):
    """An entry-point plugin failed to load; names the plugin and the distribution that declared it."""


class HubError(ChatfmtError):
    """A Hugging Face Hub repo could not give a chat template; the message names the repo and what to do."""

    def __init__(self, message: str, *, repo_id: str) -> None:
        super().__init__(message)
        self.repo_id = repo_id


class HubUnreachable(HubError):
    """The Hub could not be asked (no network, HF_HUB_OFFLINE set) and the local cache lacks the repo.

    `reason` says why the Hub could not be reached (None in offline mode); `offline` is true when
    HF_HUB_OFFLINE made chatfmt not ask.
    """

    def __init__(self, message: str, *, repo_id: str, reason: str | None, offline: bool) -> None:
        super().__init__(message, repo_id=repo_id)
        self.reason = reason
        self.offline = offline
