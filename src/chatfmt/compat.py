"""`apply_chat_template` with transformers' argument names and return shapes, for drop-in use."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from .template import Template


def apply_chat_template(
    conversation: Sequence[Any],
    *,
    chat_template: str | Mapping[str, str] | Template,
    special_tokens: Mapping[str, str | None] | None = None,
    tools: Sequence[Any] | None = None,
    documents: Sequence[Mapping[str, Any]] | None = None,
    add_generation_prompt: bool = False,
    continue_final_message: bool | str = False,
    tokenize: bool = False,
    **kwargs: Any,
) -> str | list[str]:
    """`tokenizer.apply_chat_template(conversation, tokenize=False, ...)` without a tokenizer.

    `chat_template` is what the tokenizer would hold: Jinja source, a mapping of named sources, or a
    `Template`; `special_tokens` is its `special_tokens_map`. A conversation gives a str; a batch (a
    list of conversations) gives a list of str, as in transformers. `tokenize=False` is accepted for
    drop-in calls; chatfmt returns text (see `chatfmt.masks` to tokenize with your own tokenizer).
    """
    if tokenize:
        raise ValueError(
            "chatfmt.apply_chat_template returns text (tokenize=False); tokenize it with your tokenizer, or use "
            "chatfmt.masks.tokenize_with_mask on Template.render_spans(...) for ids with an assistant mask"
        )
    template = chat_template if isinstance(chat_template, Template) else Template(chat_template)
    if special_tokens is not None:
        template = template.replace(special_tokens=special_tokens)
    options = dict(
        tools=tools,
        documents=documents,
        add_generation_prompt=add_generation_prompt,
        continue_final_message=continue_final_message,
        **kwargs,
    )
    is_batch = (
        isinstance(conversation, (list, tuple))
        and len(conversation) > 0
        and (isinstance(conversation[0], (list, tuple)) or hasattr(conversation[0], "messages"))
    )
    if is_batch:
        return template.render_batch(conversation, **options)
    return template.render(conversation, **options)
