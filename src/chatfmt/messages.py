"""Conversations read from JSON: decoded with msgspec and checked before any template sees them.

The checks reject what no chat template can render sensibly (a conversation that is not a list, a
message that is not an object, a missing or non-string role, content that is neither text, a list of
content blocks, nor null) and name the message and the field. They never change a valid conversation:
the decoded objects are passed on as they are, key order included, so validation cannot alter a render.
"""

from __future__ import annotations

from typing import Any

import msgspec

from .errors import InputTooLarge, InvalidConversation, NestingTooDeep
from .strict import check_message_shape, json_type

_any_decoder = msgspec.json.Decoder()

MAX_INPUT_CHARS = 1 << 30  # a conversation's JSON text, in characters (bytes for bytes input)


def validate_conversation(conversation: Any) -> list[dict[str, Any]]:
    """Check a decoded conversation (see the module docstring) and return it unchanged."""
    if not isinstance(conversation, list):
        raise InvalidConversation(f"a conversation must be a list of messages, got {json_type(conversation)}")
    for index, message in enumerate(conversation):
        check_message_shape(message, index)
    return conversation


def decode_conversation(
    data: bytes | str, *, source: str = "the input", max_chars: int | None = MAX_INPUT_CHARS
) -> list[dict[str, Any]]:
    """A conversation from JSON text: a list of messages, or an object with a "messages" list.

    `source` names where the text came from (a file name, "stdin") in error messages. Input longer than
    `max_chars` raises InputTooLarge, and nesting deeper than the decoder follows raises NestingTooDeep,
    never MemoryError or a bare RecursionError.
    """
    if max_chars is not None and len(data) > max_chars:
        raise InputTooLarge(f"{source} is {len(data)} characters long, more than the limit of {max_chars}")
    try:
        decoded = _any_decoder.decode(data)
    except msgspec.DecodeError as exc:
        raise InvalidConversation(f"{source} is not valid JSON: {exc}") from exc
    except RecursionError as exc:
        raise NestingTooDeep(f"{source} nests arrays or objects too deeply to decode") from exc
    except MemoryError as exc:
        raise InputTooLarge(f"{source} is too large to decode in the memory available") from exc
    if isinstance(decoded, dict) and "messages" in decoded:
        decoded = decoded["messages"]
    return validate_conversation(decoded)
