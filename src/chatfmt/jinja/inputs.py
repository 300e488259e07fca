"""What transformers does to the inputs before a template sees them (SPEC §2.2, steps 5 and 8a–e).

Templates come from the Hub and are untrusted, so everything they see is rebuilt from plain data: a
fresh copy in which any object that is not JSON-like becomes the string `"<TypeName>"`. That copy also
means the caller's messages are never modified.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence
from itertools import chain

from .._values import TYPE_CHECKING
from ..errors import InvalidConversation, NestingTooDeep

if TYPE_CHECKING:
    from typing import Any

REASONING_FIELDS = ("reasoning_content", "thinking", "reasoning")
_REASONING_NAMES = frozenset(REASONING_FIELDS)
_SCALARS = frozenset((str, int, float, bool))
_DICT = frozenset((dict,))


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
        if _SCALARS.issuperset(map(type, value.values())) and _SCALARS.issuperset(map(type, value)):
            return value.copy()  # flat and already plain (special tokens, a plain message): equal, and fresh
        return {
            (key if type(key) in _SCALARS else _plain(key)): (item if type(item) in _SCALARS else _plain(item))
            for key, item in value.items()
        }
    if kind is list:
        return [item if type(item) in _SCALARS else _plain(item) for item in value]
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
    if _flat_messages(conversation):
        return FlatChat(conversation)  # nothing to drop (and `prepare_chat` copies messages where they may be edited)
    cleaned = []
    for index, message in enumerate(conversation):
        if type(message) is dict:
            if _SCALARS.issuperset(map(type, message.values())):
                cleaned.append(message)  # no None to drop (and `prepare_chat` copies it where it may be edited)
            else:
                cleaned.append({key: value for key, value in message.items() if value is not None})
            continue
        items = getattr(message, "items", None)
        if not callable(items):
            raise InvalidConversation(
                f"expected a mapping with 'role' and 'content', got {type(message).__name__}", message_index=index
            )
        cleaned.append({key: value for key, value in items() if value is not None})
    return cleaned


def _aliased(message: dict[str, Any]) -> dict[str, Any]:
    """Copy a message's reasoning under every name templates read it by, in transformers' key order."""
    reasoning = next((message[key] for key in REASONING_FIELDS if message.get(key) is not None), None)
    if reasoning is None:
        return message
    return {"thinking": reasoning, **message, "reasoning_content": reasoning}


class FlatChat(list):  # type: ignore[type-arg]
    """A conversation `drop_none_values` found flat (see `_flat_messages`), so `prepare_chat` need not look again."""

    __slots__ = ()


def _flat_messages(conversation: Any) -> bool:
    """Whether `conversation` is a list or tuple of exact dicts whose keys and values are all exact JSON
    scalars: the usual conversation, tested in a few passes that run in C."""
    return (
        type(conversation) in (list, tuple)
        and _DICT.issuperset(map(type, conversation))
        and _SCALARS.issuperset(map(type, chain.from_iterable(map(dict.values, conversation))))
        and _SCALARS.issuperset(map(type, chain.from_iterable(conversation)))
    )


def prepare_chat(conversation: Any, *, editable: bool = True) -> list[dict[str, Any]]:
    """The messages a template sees: plain data, every message a dict, reasoning aliased.

    With `editable=False` the caller promises not to modify the messages returned, and a message that
    is already an exact dict of exact JSON scalars is passed as it is rather than copied: the sandbox
    lets no template modify a dict, and no template can tell a copy from the original.
    """
    if type(conversation) is FlatChat or _flat_messages(conversation):
        chat = [message.copy() for message in conversation] if editable else list(conversation)
        if not _REASONING_NAMES.isdisjoint(chain.from_iterable(chat)):
            chat = [_aliased(message) for message in chat]
        return chat
    messages = (
        conversation if type(conversation) is list else plain_data(getattr(conversation, "messages", conversation))
    )
    # plain_data(message), inlined for the usual flat message of strings (see plain_data's first dict case).
    chat = [
        (message.copy() if editable else message)
        if type(message) is dict
        and _SCALARS.issuperset(map(type, message.values()))
        and _SCALARS.issuperset(map(type, message))
        else plain_data(message)
        for message in messages
    ]
    for index, message in enumerate(chat):
        if type(message) is not dict and not isinstance(message, dict):
            raise InvalidConversation(
                f"Chat messages should be dicts, dataclasses or pydantic models, but got {message!r}.",
                message_index=index,
            )
        if not _REASONING_NAMES.isdisjoint(message):
            chat[index] = _aliased(message)
    return chat


def text_size(value: Any) -> int:
    """The characters of every string in plain data (keys included): the input size work budgets scale with."""
    kind = type(value)
    if kind is str:
        return len(value)
    if kind is dict:
        return sum(text_size(key) + text_size(item) for key, item in value.items())
    if kind in (list, tuple):
        return sum(text_size(item) for item in value)
    return 1


def check_documents(documents: Any) -> None:
    if documents is not None:
        for document in documents:
            if not isinstance(document, dict):
                raise TypeError("Documents should be a list of dicts with 'title' and 'text' keys!")
