"""What transformers does to the inputs before a template sees them (SPEC §2.2, steps 5 and 8a–e).

Templates come from the Hub and are untrusted, so everything they see is rebuilt from plain data: a
fresh copy in which any object that is not JSON-like becomes the string `"<TypeName>"`. That copy also
means the caller's messages are never modified.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence

from .._values import TYPE_CHECKING
from ..errors import InvalidConversation, NestingTooDeep

if TYPE_CHECKING:
    from typing import Any

REASONING_FIELDS = ("reasoning_content", "thinking", "reasoning")
_SCALARS = frozenset((str, int, float, bool))


def plain_data(value: Any) -> Any:
    """A deep copy made of JSON-like builtins only, exactly as transformers' `_plain_template_data`.

    Where that recursion runs out of stack, transformers raises RecursionError; chatfmt raises
    NestingTooDeep, which is one.
    """
    try:
        return _plain(value)
    except RecursionError as exc:
        raise NestingTooDeep("the input nests lists or mappings too deeply to copy for the template") from exc


def _plain(value: Any) -> Any:
    kind = type(value)
    if value is None or kind in _SCALARS:
        return value
    if kind is dict:  # the common case, checked before the slower Mapping ABC test
        return {_plain(key): _plain(item) for key, item in value.items()}
    if kind is list:
        return [_plain(item) for item in value]
    if isinstance(value, str):
        return str.__str__(value)
    if isinstance(value, int):
        return int.__int__(value)
    if isinstance(value, float):
        return float.__float__(value)
    if isinstance(value, Mapping):
        return {_plain(key): _plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    if isinstance(value, tuple):
        return tuple(_plain(item) for item in value)
    numpy = sys.modules.get("numpy")  # only an already-imported numpy can have made this value
    if numpy is not None and isinstance(value, numpy.generic):
        return _plain(value.item())
    if hasattr(type(value), "__dataclass_fields__"):  # dataclasses.is_dataclass of an instance, without its import
        import dataclasses

        return {field.name: _plain(getattr(value, field.name)) for field in dataclasses.fields(value)}
    if callable(getattr(value, "model_dump", None)):
        return _plain(value.model_dump())
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
    aliased = []
    for message in chat:
        reasoning = next((message[key] for key in REASONING_FIELDS if message.get(key) is not None), None)
        if reasoning is not None:
            message = {"thinking": reasoning, **message, "reasoning_content": reasoning}
        aliased.append(message)
    return aliased


def prepare_chat(conversation: Any) -> list[dict[str, Any]]:
    """The messages a template sees: plain data, every message a dict, reasoning aliased."""
    chat = plain_data(getattr(conversation, "messages", conversation))
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
