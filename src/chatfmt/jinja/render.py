"""The Jinja render of one `apply_chat_template(tokenize=False)` call (SPEC §2.2 step 8 and §2.6).

A `RenderCall` holds what the conversations of one call share (the compiled template, tools, documents,
variables), so a batch pays for it once; `chatfmt.pipeline.jinja_call` builds it after transformers'
checks. `RenderCall.render` does the per-conversation work.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import jinja2
from jinja2.runtime import new_context

from . import inputs
from .environment import COMPILED_CACHE_SIZE, compile_template, template_globals
from .limits import DEFAULT_LIMITS, Limits, budget, effective

CONTINUE_TAG = "CONTINUE_FINAL_MESSAGE_TAG "
_STR = frozenset((str,))
RENDER_ARGUMENTS = frozenset(("messages", "tools", "documents", "add_generation_prompt"))
Conversation = Sequence[Mapping[str, Any]]
ContentHook = Callable[[list[dict[str, Any]]], None]


class RenderCall:
    """Everything one `apply_chat_template` call shares between its conversations."""

    __slots__ = (
        "add_generation_prompt",
        "clash",
        "compiled",
        "continue_final_message",
        "documents",
        "globals",
        "limits",
        "shared",
        "source",
        "tools",
        "variables",
    )

    def __init__(
        self,
        *,
        source: str,
        compiled: jinja2.Template,
        tools: Any,
        documents: Any,
        add_generation_prompt: bool,
        continue_final_message: bool | str,
        variables: dict[str, Any],
        limits: Limits = DEFAULT_LIMITS,
    ) -> None:
        self.source = source
        self.compiled = compiled
        self.globals = template_globals(source)
        # A variable named like one of render's own arguments makes transformers' render call fail.
        self.clash = next((name for name in variables if name in RENDER_ARGUMENTS), None)
        self.tools = tools
        self.documents = documents
        self.add_generation_prompt = add_generation_prompt
        self.continue_final_message = continue_final_message
        self.variables = variables
        self.limits = limits
        # What every conversation's context holds but the messages: the globals overlaid with the call's
        # variables, as Jinja builds it (no variable is named "messages": see `clash`).
        self.shared = {
            **self.globals,
            "tools": tools,
            "documents": documents,
            "add_generation_prompt": add_generation_prompt,
            **variables,
        }

    def render(self, cleaned_chat: Sequence[Mapping[str, Any]], mark_contents: ContentHook | None = None) -> str:
        """Render one conversation whose None-valued keys are already dropped.

        `mark_contents` may rewrite message contents after transformers' preparation (spans use it).
        """
        chat = inputs.prepare_chat(
            cleaned_chat, editable=mark_contents is not None or bool(self.continue_final_message)
        )
        if mark_contents is not None:
            mark_contents(chat)
        final = self._tag_final_message(chat) if self.continue_final_message else None
        if self.clash is not None:
            # What transformers' calls raise: `apply_chat_template` passes tools, documents and
            # add_generation_prompt to `render_jinja_template` by name, which passes messages to Jinja.
            caller = "jinja2.environment.Template.render" if self.clash == "messages" else "render_jinja_template"
            raise TypeError(f"{caller}() got multiple values for keyword argument {self.clash!r}")
        compiled = self.compiled
        # Jinja's `Template.new_context`, given the globals as one flat dict rather than its layered view
        # (which it would iterate in Python twice per render); the context is the same.
        parent = self.shared.copy()
        parent["messages"] = chat
        context = new_context(compiled.environment, compiled.name, compiled.blocks, parent, True, self.globals)
        pieces: list[str] = []
        append = pieces.append
        size = 0
        limits = effective(self.limits)
        with budget(limits, lambda: inputs.text_size((chat, self.tools, self.documents, self.variables))) as current:
            limit = current.output_cap or sys.maxsize
            try:
                # The compiled root function itself, as `Template.render` runs it (`generate` would add a
                # generator layer per piece); the same exceptions, with Jinja's traceback rewriting.
                for piece in compiled.root_render_func(context):
                    size += len(piece)
                    if size > limit:
                        current.check_size(size)  # raises, with the message, unless the input's share is granted
                        limit = current.output_cap or sys.maxsize
                    append(piece)
            except Exception:
                compiled.environment.handle_exception()
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


def call_for(
    source: str,
    *,
    tools: Any,
    documents: Any,
    add_generation_prompt: Any,
    continue_final_message: bool | str,
    variables: Mapping[str, Any],
    limits: Limits = DEFAULT_LIMITS,
) -> RenderCall:
    """The RenderCall of a call whose checks passed (`chatfmt.pipeline.jinja_call` runs them): the
    template compiled, and tools (as schemas), documents and variables copied as plain data."""
    if (
        tools is None
        and documents is None
        and type(add_generation_prompt) is bool
        and _STR.issuperset(map(type, variables.values()))
    ):
        # The usual call (special tokens, no tools): its RenderCall depends on nothing else, so it is
        # built once. Nothing here can raise except compilation, which an lru_cache does not remember.
        key = tuple(variables.items())
        # `limits is DEFAULT_LIMITS` is part of the key: that object stands for the global default (see
        # `limits.effective`), which an equal `Limits()` given explicitly does not.
        return _plain_call(source, add_generation_prompt, continue_final_message, key, limits, limits is DEFAULT_LIMITS)
    return RenderCall(
        source=source,
        compiled=compile_template(source),
        tools=inputs.plain_data(tools),
        documents=inputs.plain_data(documents),
        add_generation_prompt=add_generation_prompt,
        continue_final_message=continue_final_message,
        variables=inputs.plain_data(dict(variables)),
        limits=limits,
    )


@functools.lru_cache(maxsize=COMPILED_CACHE_SIZE)
def _plain_call(
    source: str,
    add_generation_prompt: bool,
    continue_final_message: bool | str,
    variables: tuple[tuple[str, str], ...],
    limits: Limits,
    follows_default: bool,
) -> RenderCall:
    return RenderCall(
        source=source,
        compiled=compile_template(source),
        tools=None,
        documents=None,
        add_generation_prompt=add_generation_prompt,
        continue_final_message=continue_final_message,
        variables=dict(variables),
        limits=DEFAULT_LIMITS if follows_default else limits,
    )
