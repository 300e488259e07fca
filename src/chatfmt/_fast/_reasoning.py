"""The reasoning transforms both builders share: what a template does with a `<think>` block.

They depend on more than the content (the message's reasoning field, whether it is the last message,
whether it follows the last user query), so they are plain functions both builders call, written once
from the templates' own expressions rather than twice.
"""

from __future__ import annotations

from collections.abc import Mapping

__all__ = ["REASONING_FIELDS", "is_query", "past_after_think", "reasoning_of", "think_block"]

# The names transformers aliases a message's reasoning by, in the order it looks them up.
REASONING_FIELDS = ("reasoning_content", "thinking", "reasoning")


def reasoning_of(message: Mapping[str, object]) -> object:
    """The reasoning a template sees as `message.reasoning_content` after transformers' aliasing: the first
    non-None reasoning field (a str subclass as a plain str), or None. A value that is not a str is
    returned as it is: the builders decline it."""
    for key in REASONING_FIELDS:
        value = message.get(key)
        if value is not None:
            return str.__str__(value) if isinstance(value, str) else value
    return None


def is_query(content: str) -> bool:
    """Whether a user message is a query, not a tool response wrapped in a user turn (Qwen3)."""
    return not (content.startswith("<tool_response>") and content.endswith("</tool_response>"))


def past_after_think(content: str, last: bool) -> str:
    """QwQ: every message but the last keeps only the text after its last `</think>`."""
    return content if last else content.split("</think>")[-1].lstrip("\n")


def think_block(content: str, reasoning: str | None, last: bool, after_query: bool) -> tuple[str, int]:
    """Qwen3's assistant text and where the content starts in it.

    The reasoning is the message's field or, without one, the text between `<think>` and the last
    `</think>`'s first part; it is printed in a block for the last message, and for any message after
    the last user query that has reasoning.
    """
    if reasoning is None:
        reasoning = ""
        if "</think>" in content:
            parts = content.split("</think>")
            reasoning = parts[0].rstrip("\n").split("<think>")[-1].lstrip("\n")
            content = parts[-1].lstrip("\n")
    if after_query and (last or reasoning):
        block = "<think>\n" + reasoning.strip("\n") + "\n</think>\n\n"
        return block + content.lstrip("\n"), len(block)
    return content, 0
