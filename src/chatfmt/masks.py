"""Token ids plus an assistant mask, from a rendered prompt's spans and a tokenizer the caller supplies.

chatfmt does not tokenize on its own (that is the tokenizer's job); given `RenderedSpans` and a
`tokenizers.Tokenizer` or a transformers tokenizer, it marks every token whose characters overlap a span.
Unlike transformers' `return_assistant_tokens_mask`, a span cut by truncation keeps the tokens that
remain (transformers #34494 drops them), and a span ending on token 0 marks just that token
(transformers #47325 marks the rest of the sequence).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from .spans import RenderedSpans

Span = tuple[int, int]


@dataclass(frozen=True, slots=True)
class TokenizedPrompt:
    """`input_ids` with `assistant_mask` (1 = the model is trained to produce this token) and char offsets."""

    input_ids: list[int]
    assistant_mask: list[int]
    offsets: list[Span]


def _encode(tokenizer: Any, text: str) -> tuple[list[int], list[Span]]:
    """Ids and character offsets, without added special tokens (BOS/EOS come from the template)."""
    if hasattr(tokenizer, "encode_batch") and hasattr(tokenizer, "get_vocab_size"):  # tokenizers.Tokenizer
        encoding = tokenizer.encode(text, add_special_tokens=False)
        return list(encoding.ids), [tuple(offset) for offset in encoding.offsets]
    if callable(tokenizer):  # a transformers tokenizer (fast tokenizers give offsets)
        out = tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)
        return list(out["input_ids"]), [tuple(offset) for offset in out["offset_mapping"]]
    raise TypeError(f"expected a tokenizers.Tokenizer or a transformers tokenizer, got {type(tokenizer).__name__}")


def mask_from_offsets(offsets: Sequence[Span], spans: Sequence[Span]) -> list[int]:
    """1 for each token whose characters overlap a span; a zero-width token counts when it sits inside one."""
    ranges = [(start, end) for start, end in spans if end > start]

    def covered(token_start: int, token_end: int) -> bool:
        if token_end > token_start:
            return any(start < token_end and token_start < end for start, end in ranges)
        return any(start <= token_start < end for start, end in ranges)

    return [int(covered(token_start, token_end)) for token_start, token_end in offsets]


def tokenize_with_mask(
    rendered: RenderedSpans,
    tokenizer: Any,
    *,
    spans: Literal["generation", "assistant"] = "generation",
    max_length: int | None = None,
) -> TokenizedPrompt:
    """Tokenize `rendered.text` and mark the tokens of its generation spans (or assistant contents).

    `spans="generation"` uses `rendered.generation` (the template's `{% generation %}` blocks, or the
    compiled format's assistant turns); `spans="assistant"` uses the content spans of assistant messages,
    and raises when one of them is unknown rather than train on a wrong mask.
    `max_length` truncates ids, mask and offsets together, keeping what remains of a cut span.
    """
    if spans == "generation":
        chosen = list(rendered.generation)
    elif spans == "assistant":
        chosen = []
        for message in rendered.messages:
            if message.role != "assistant":
                continue
            if message.start is None or message.end is None:
                raise ValueError(f"assistant message {message.index} has no known span: {message.reason}")
            chosen.append((message.start, message.end))
    else:
        raise ValueError(f"spans must be 'generation' or 'assistant', got {spans!r}")
    ids, offsets = _encode(tokenizer, rendered.text)
    if max_length is not None:
        ids, offsets = ids[:max_length], offsets[:max_length]
    return TokenizedPrompt(ids, mask_from_offsets(offsets, chosen), offsets)
