"""One render call as transformers makes it: its options, and every step before a template runs.

transformers checks a call in a fixed order (SPEC §2.2): the conversation's shape, None values dropped,
the flags, then, inside `render_jinja_template`, the template compiled, tools converted and documents
checked, and per conversation the plain-data copy. An input with several problems raises the first in
that order, so both engines go through this module:
- the Jinja engine through `jinja_call`, which runs every step;
- the compiled builder through `check_options` (the steps that depend on the options alone), called
  once the builder has accepted the conversation, which proves that the earlier steps pass.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import MappingProxyType

from ._values import TYPE_CHECKING, value_class
from .errors import InvalidConversation
from .jinja.inputs import check_documents, drop_none_values

if TYPE_CHECKING:
    from typing import Any

    from .jinja.limits import Limits
    from .jinja.render import RenderCall

Message = Mapping[str, "Any"]  # quoted: typing is not imported at run time
Conversation = Sequence[Message]

_NO_VARIABLES: Mapping[str, Any] = MappingProxyType({})


@value_class(slots=True)
class RenderOptions:
    """Everything a call passes besides its conversations, as `apply_chat_template` takes it; build it with `of`.

    `variables` are the extra keyword arguments: template variables, which override special tokens of
    the same name. `chat_template` picks a named template, or is literal template source. `is_plain`:
    nothing but the generation flag, so the output depends on the messages and special tokens alone.
    """

    add_generation_prompt: Any
    tools: Any
    documents: Any
    continue_final_message: bool | str
    chat_template: str | None
    variables: Mapping[str, Any]
    is_plain: bool

    @staticmethod
    def of(
        add_generation_prompt: Any,
        tools: Any,
        documents: Any,
        continue_final_message: bool | str,
        chat_template: str | None,
        variables: Mapping[str, Any],
    ) -> RenderOptions:
        """The options of one call. Plain calls, most of the traffic, get a shared instance."""
        plain = (
            tools is None
            and documents is None
            and not continue_final_message
            and chat_template is None
            and not variables
        )
        if plain and add_generation_prompt is False:
            return _PLAIN_CALLS[0]
        if plain and add_generation_prompt is True:
            return _PLAIN_CALLS[1]
        return RenderOptions(
            add_generation_prompt, tools, documents, continue_final_message, chat_template, variables, plain
        )

    @staticmethod
    def of_call(
        add_generation_prompt: Any = False,
        tools: Any = None,
        documents: Any = None,
        continue_final_message: bool | str = False,
        chat_template: str | None = None,
        **variables: Any,
    ) -> RenderOptions:
        """The options of a call given as `Template.render`'s keyword arguments."""
        return RenderOptions.of(
            add_generation_prompt, tools, documents, continue_final_message, chat_template, variables
        )


_PLAIN_CALLS = tuple(RenderOptions(flag, None, None, False, None, _NO_VARIABLES, True) for flag in (False, True))


def check_conversation(messages: Any, *, allow_empty: bool) -> None:
    """transformers refuses an empty list or tuple, and iterates anything else as messages: an empty
    string or mapping is an empty conversation, a non-empty one fails on its first element (in
    `drop_none_values`), and what cannot be iterated is refused here, naming its type."""
    if isinstance(messages, (list, tuple)):
        if len(messages) == 0 and not allow_empty:
            raise ValueError("Cannot apply chat template to an empty conversation. Provide at least one message.")
    elif not hasattr(messages, "__iter__"):
        raise InvalidConversation(f"a conversation is a list of messages, got {type(messages).__name__}")


def checked_conversations(conversations: Sequence[Any], *, batch: bool) -> list[list[dict[str, Any]]]:
    """transformers' first steps on the conversations: their shape, then None-valued keys dropped."""
    for conversation in conversations:
        check_conversation(conversation, allow_empty=batch)
    return [drop_none_values(conversation) for conversation in conversations]


def check_flags(options: RenderOptions) -> None:
    if options.continue_final_message and options.add_generation_prompt:
        raise ValueError(
            "continue_final_message and add_generation_prompt are not compatible. Use continue_final_message when "
            "you want the model to continue the final message, and add_generation_prompt when you want to add a "
            "header that will prompt it to start a new assistant message instead."
        )


def check_options(options: RenderOptions) -> list[Any] | None:
    """transformers' checks of the call's tools and documents; returns the tools as schemas."""
    if options.tools is None and options.documents is None:
        return None
    from .jinja.tools import tools_to_schemas  # it imports inspect: only calls with tools pay for it

    schemas = tools_to_schemas(options.tools)
    check_documents(options.documents)
    return schemas


def jinja_call(
    source: str,
    conversations: Sequence[Conversation],
    options: RenderOptions,
    special_tokens: Mapping[str, str],
    limits: Limits,
    *,
    batch: bool,
) -> tuple[RenderCall, list[list[dict[str, Any]]]]:
    """Every step before a Jinja render, in transformers' order: the prepared call and the conversations
    with None-valued keys dropped."""
    from .jinja.environment import compile_template  # jinja2 is imported on the first Jinja render
    from .jinja.render import call_for

    cleaned = checked_conversations(conversations, batch=batch)
    check_flags(options)
    compile_template(source)  # a syntax error comes before the options' errors, as in transformers
    schemas = check_options(options)
    call = call_for(
        source,
        tools=schemas,
        documents=options.documents,
        add_generation_prompt=options.add_generation_prompt,
        continue_final_message=options.continue_final_message,
        variables={**special_tokens, **options.variables},
        limits=limits,
    )
    return call, cleaned
