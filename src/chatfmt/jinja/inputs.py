"""What transformers does to the inputs before a template sees them (SPEC §2.2, steps 5 and 8a–e).

Templates come from the Hub and are untrusted, so everything they see is rebuilt from plain data: a
fresh copy in which any object that is not JSON-like becomes the string `"<TypeName>"`. That copy also
means the caller's messages are never modified.
"""

from __future__ import annotations

import dataclasses
import sys
from collections.abc import Mapping, Sequence
from typing import Any

from ..errors import InvalidConversation

REASONING_FIELDS = ("reasoning_content", "thinking", "reasoning")
_SCALARS = frozenset((str, int, float, bool))


def plain_data(value: Any) -> Any:
    """A deep copy made of JSON-like builtins only, exactly as transformers' `_plain_template_data`."""
    kind = type(value)
    if value is None or kind in _SCALARS:
        return value
    if kind is dict:  # the common case, checked before the slower Mapping ABC test
        return {plain_data(key): plain_data(item) for key, item in value.items()}
    if kind is list:
        return [plain_data(item) for item in value]
    if isinstance(value, str):
        return str.__str__(value)
    if isinstance(value, int):
        return int.__int__(value)
    if isinstance(value, float):
        return float.__float__(value)
    if isinstance(value, Mapping):
        return {plain_data(key): plain_data(item) for key, item in value.items()}
    if isinstance(value, list):
        return [plain_data(item) for item in value]
    if isinstance(value, tuple):
        return tuple(plain_data(item) for item in value)
    numpy = sys.modules.get("numpy")  # only an already-imported numpy can have made this value
    if numpy is not None and isinstance(value, numpy.generic):
        return plain_data(value.item())
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {field.name: plain_data(getattr(value, field.name)) for field in dataclasses.fields(value)}
    if callable(getattr(value, "model_dump", None)):
        return plain_data(value.model_dump())
    return f"<{type(value).__name__}>"


def drop_none_values(conversation: Sequence[Any]) -> list[dict[str, Any]]:
    """Drop top-level keys whose value is None, as transformers v5 does before rendering."""
    cleaned = []
    for index, message in enumerate(conversation):
        items = getattr(message, "items", None)
        if not callable(items):
            raise InvalidConversation(
                f"expected a mapping with 'role' and 'content', got {type(message).__name__}", message_index=index
            )
        cleaned.append({key: value for key, value in items() if value is not None})
    return cleaned


def alias_reasoning(chat: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Copy a message's reasoning under every name templates read it by, in transformers' key order."""
    return [_aliased(message) for message in chat]


def _aliased(message: dict[str, Any]) -> dict[str, Any]:
    if "reasoning_content" not in message and "thinking" not in message and "reasoning" not in message:
        return message  # the common case: no reasoning under any name, nothing to copy
    reasoning = next((message[key] for key in REASONING_FIELDS if message.get(key) is not None), None)
    if reasoning is None:
        return message
    return {"thinking": reasoning, **message, "reasoning_content": reasoning}


def _plain_message(message: Any) -> Any:
    """`plain_data(message)`, by a shallow copy when every key and value is already an exact JSON scalar
    (the usual `{"role": ..., "content": "..."}`): those are immutable, so the copies are equal and
    equally independent of the caller's dict."""
    if type(message) is dict and _SCALARS.issuperset(map(type, message.values())) and _SCALARS.issuperset(map(type, message)):
        return message.copy()
    return plain_data(message)


def prepare_chat(conversation: Any) -> list[dict[str, Any]]:
    """The messages a template sees: plain data, every message a dict, reasoning aliased."""
    messages = getattr(conversation, "messages", conversation)
    if type(messages) is not list:
        messages = plain_data(messages)
    chat = [_plain_message(message) for message in messages]
    for index, message in enumerate(chat):
        if not isinstance(message, dict):
            raise InvalidConversation(
                f"Chat messages should be dicts, dataclasses or pydantic models, but got {message!r}.",
                message_index=index,
            )
    return alias_reasoning(chat)


def check_documents(documents: Any) -> None:
    if documents is not None:
        for document in documents:
            if not isinstance(document, dict):
                raise TypeError("Documents should be a list of dicts with 'title' and 'text' keys!")
