"""Conversations read from JSON: decoded with msgspec and checked before any template sees them.

The checks reject what no chat template can render sensibly (a conversation that is not a list, a
message that is not an object, a missing or non-string role, content that is neither text, a list of
content blocks, nor null) and name the message and the field. They never change a valid conversation:
the decoded objects are passed on as they are, key order included, so validation cannot alter a render.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import msgspec

from .errors import InvalidConversation

_any_decoder = msgspec.json.Decoder()


def validate_message(message: Any, index: int) -> None:
    """Raise InvalidConversation naming message `index` and the field when `message` is not renderable."""
    if not isinstance(message, Mapping):
        raise InvalidConversation(f"a message must be an object, got {_json_type(message)}", message_index=index)
    if "role" not in message:
        raise InvalidConversation("the message has no 'role'", message_index=index, field="role")
    role = message["role"]
    if not isinstance(role, str):
        raise InvalidConversation(f"'role' must be a string, got {_json_type(role)}", message_index=index, field="role")
    content = message.get("content")
    if content is None or isinstance(content, str):
        return
    if isinstance(content, list):
        for position, block in enumerate(content):
            if not isinstance(block, Mapping):
                raise InvalidConversation(
                    f"content block {position} must be an object such as {{\"type\": \"text\", \"text\": ...}}, "
                    f"got {_json_type(block)}",
                    message_index=index,
                    field="content",
                )
        return
    raise InvalidConversation(
        f"'content' must be a string, a list of content blocks, or null; got {_json_type(content)}",
        message_index=index,
        field="content",
    )


def validate_conversation(conversation: Any) -> list[dict[str, Any]]:
    """Check a decoded conversation (see the module docstring) and return it unchanged."""
    if not isinstance(conversation, list):
        raise InvalidConversation(f"a conversation must be a list of messages, got {_json_type(conversation)}")
    for index, message in enumerate(conversation):
        validate_message(message, index)
    return conversation


def decode_conversation(data: bytes | str, *, source: str = "the input") -> list[dict[str, Any]]:
    """A conversation from JSON text: a list of messages, or an object with a "messages" list.

    `source` names where the text came from (a file name, "stdin") in error messages.
    """
    try:
        decoded = _any_decoder.decode(data)
    except msgspec.DecodeError as exc:
        raise InvalidConversation(f"{source} is not valid JSON: {exc}") from exc
    if isinstance(decoded, dict) and "messages" in decoded:
        decoded = decoded["messages"]
    return validate_conversation(decoded)


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, (list, tuple)):
        return "array"
    if isinstance(value, Mapping):
        return "object"
    return type(value).__name__
