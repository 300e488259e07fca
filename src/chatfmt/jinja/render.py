"""The Jinja render of one `apply_chat_template(tokenize=False)` call (SPEC §2.2 step 8 and §2.6).

A `RenderCall` holds what the conversations of one call share (the compiled template, tools, documents,
variables), so a batch pays for it once; `chatfmt.pipeline.jinja_call` builds it after transformers'
checks. `RenderCall.render` does the per-conversation work.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import jinja2

from . import inputs
from .limits import DEFAULT_LIMITS, Limits, budget

CONTINUE_TAG = "CONTINUE_FINAL_MESSAGE_TAG "
Conversation = Sequence[Mapping[str, Any]]
ContentHook = Callable[[list[dict[str, Any]]], None]


class RenderCall:
    """Everything one `apply_chat_template` call shares between its conversations."""

    __slots__ = ("add_generation_prompt", "compiled", "continue_final_message", "documents", "limits", "source",
                 "tools", "variables")

    def __init__(self, *, source: str, compiled: jinja2.Template, tools: Any, documents: Any,
                 add_generation_prompt: bool, continue_final_message: bool | str, variables: dict[str, Any],
                 limits: Limits = DEFAULT_LIMITS) -> None:
        self.source = source
        self.compiled = compiled
        # transformers renders from a plain-data copy of everything (SPEC §2.2 step 8c)
        self.tools = inputs.plain_data(tools)
        self.documents = inputs.plain_data(documents)
        self.add_generation_prompt = add_generation_prompt
        self.continue_final_message = continue_final_message
        self.variables = inputs.plain_data(variables)
        self.limits = limits

    def render(self, cleaned_chat: Sequence[Mapping[str, Any]], mark_contents: ContentHook | None = None) -> str:
        """Render one conversation whose None-valued keys are already dropped.

        `mark_contents` may rewrite message contents after transformers' preparation (spans use it).
        """
        chat = inputs.prepare_chat(cleaned_chat)
        if mark_contents is not None:
            mark_contents(chat)
        final = self._tag_final_message(chat) if self.continue_final_message else None
        with budget(self.limits) as current:
            pieces = []
            size = 0
            limit = self.limits.max_output_chars or sys.maxsize
            for piece in self.compiled.generate(
                messages=chat,
                tools=self.tools,
                documents=self.documents,
                add_generation_prompt=self.add_generation_prompt,
                **self.variables,
            ):
                size += len(piece)
                if size > limit:
                    current.check_size(size)  # raises, with the message
                pieces.append(piece)
        text = "".join(pieces)
        return text if final is None else _cut_after_final(text, final)

    def _tag_final_message(self, chat: list[dict[str, Any]]) -> str:
        if not chat:
            raise ValueError("continue_final_message is set but the conversation is empty!")
        field = self.continue_final_message if isinstance(self.continue_final_message, str) else "content"
        last = chat[-1]
        final = last.get(field)
        if final is None:
            raise ValueError(f'continue_final_message is set but the final message has no "{field}" to continue!')
        fields = [field]
        if field in inputs.REASONING_FIELDS:
            fields = [name for name in inputs.REASONING_FIELDS if last.get(name) == final]
        if not any(name in self.source for name in fields):
            raise ValueError(
                f'continue_final_message is set to "{field}" but this is not an accepted field in the chat_template'
            )
        if isinstance(final, (list, tuple)):
            for block in reversed(final):
                if "text" in block:
                    final = block["text"]
                    block["text"] = block["text"] + CONTINUE_TAG
                    return final
            raise ValueError(
                "continue_final_message is set but we could not find any text to continue in the final message!"
            )
        for name in fields:
            last[name] = last[name] + CONTINUE_TAG
        return final


def _cut_after_final(text: str, final: Any) -> str:
    tag = CONTINUE_TAG.strip()
    if final.strip() not in text or tag not in text:
        raise ValueError(
            "continue_final_message is set but the final message does not appear in the chat after applying the "
            "chat template! This can happen if the chat template deletes portions of the final message. Please "
            "verify the chat template and final message in your chat to ensure they are compatible."
            f"Final message to continue: {final.strip()}\nRendered chat:\n{text}"
        )
    location = text.rindex(tag)
    if text[location : location + len(CONTINUE_TAG)] == CONTINUE_TAG:
        return text[:location]
    return text[:location].rstrip()
