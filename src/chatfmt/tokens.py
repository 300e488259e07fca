"""Special tokens as transformers puts them in a template's context (`tokenizer.special_tokens_map`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def token_text(value: Any) -> str | None:
    """A special token's string from any form a tokenizer stores: a str, an AddedToken (its `content`), a
    JSON object with a string "content", or None (the token is absent). Any other value is not a token."""
    if value is None or type(value) is str:
        return value
    if isinstance(value, str):
        return str.__str__(value)
    content = value.get("content") if isinstance(value, Mapping) else getattr(value, "content", None)
    return content if isinstance(content, str) else None


def clean_special_tokens(tokens: Mapping[str, Any] | None) -> dict[str, str]:
    """The tokens a render sees: absent ones (None) left out, every other one as its string."""
    cleaned = {}
    for name, value in (tokens or {}).items():
        if not isinstance(name, str):
            raise TypeError(f"special token names must be strings, got {name!r}")
        if value is None:
            continue
        text = token_text(value)
        if text is None:
            raise TypeError(
                f"special token {name} must be a string, an AddedToken or {{'content': str}}, got {type(value).__name__}"
            )
        cleaned[name] = text
    return cleaned
