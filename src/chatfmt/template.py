"""`Template`: one model's chat template(s) and special tokens, rendered as transformers renders them.

A Template always holds Jinja source. When its source is a known format (see `chatfmt.formats`), it
also holds a compiled renderer, which it uses for every input that format covers; the result is the
same string either way, only faster.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from .errors import InvalidConversation
from .jinja.inputs import drop_none_values
from .jinja.limits import DEFAULT_LIMITS, Limits
from .spans import RenderedSpans

if TYPE_CHECKING:
    from .jinja.render import RenderCall

Message = Mapping[str, Any]
Conversation = Sequence[Message]


@dataclass(frozen=True)
class Origin:
    """Where a template came from, shown by `chatfmt list` and `chatfmt show`.

    `kind` is one of "inline", "builtin", "plugin", "file" and "hub"; `details` holds what is known of
    the source (path, distribution, repo, revision, commit, file, sha256 …).
    """

    kind: str = "inline"
    details: Mapping[str, str] = field(default_factory=dict)


def _clean_special_tokens(tokens: Mapping[str, Any] | None) -> dict[str, str]:
    """Special tokens as transformers puts them in the context: None means absent, values are strings."""
    cleaned = {}
    for name, value in (tokens or {}).items():
        if value is None:
            continue
        if not isinstance(name, str) or not isinstance(value, str):
            raise TypeError(f"special token {name!r} must be a string or None, got {type(value).__name__}")
        cleaned[name] = value
    return cleaned


class Template:
    """A chat template: Jinja source (one, or several by name) plus the special tokens it reads."""

    __slots__ = ("_sources", "_special_tokens", "limits", "name", "origin")

    def __init__(
        self,
        source: str | Mapping[str, str],
        *,
        special_tokens: Mapping[str, str | None] | None = None,
        name: str | None = None,
        origin: Origin | None = None,
        limits: Limits = DEFAULT_LIMITS,
    ) -> None:
        if isinstance(source, str):
            sources: str | Mapping[str, str] = source
        elif isinstance(source, Mapping):
            if not source:
                raise ValueError("a mapping of named chat templates needs at least one template")
            for key, value in source.items():
                if not isinstance(key, str) or not isinstance(value, str):
                    raise TypeError("named chat templates must map str names to str Jinja sources")
            sources = MappingProxyType(dict(source))
        else:
            raise TypeError(f"a chat template is Jinja source (str) or a mapping of them, got {type(source).__name__}")
        self._sources = sources
        self._special_tokens = MappingProxyType(_clean_special_tokens(special_tokens))
        self.name = name
        self.origin = origin or Origin()
        self.limits = limits

    @classmethod
    def from_jinja(
        cls,
        source: str | Mapping[str, str],
        *,
        special_tokens: Mapping[str, str | None] | None = None,
        name: str | None = None,
        limits: Limits = DEFAULT_LIMITS,
    ) -> Template:
        """A template from Jinja source, or from a mapping of named sources (`default`, `tool_use`, …).

        `limits` bounds each render's time and output size (see `chatfmt.jinja.limits`).
        """
        return cls(source, special_tokens=special_tokens, name=name, limits=limits)

    @property
    def source(self) -> str | Mapping[str, str]:
        """The Jinja source, or a read-only mapping of named sources."""
        return self._sources

    @property
    def special_tokens(self) -> Mapping[str, str]:
        """The special tokens every render sees (bos_token, eos_token, …), before caller overrides."""
        return self._special_tokens

    @property
    def is_compiled(self) -> bool:
        """Whether a compiled renderer serves the inputs its format covers."""
        return False

    def __repr__(self) -> str:
        label = f" {self.name!r}" if self.name else ""
        return f"<chatfmt.Template{label} ({self.origin.kind})>"

    def select(self, chat_template: str | None = None, tools: Any = None) -> str:
        """The Jinja source a render uses, chosen exactly as transformers' `get_chat_template` chooses.

        With several named templates: a `chat_template` that names one picks it; none picks `tool_use`
        when tools are given (even an empty list) and that name exists, else `default`. Any other string
        is used as template source itself, as transformers does.
        """
        sources = self._sources
        if isinstance(sources, str):
            return sources if chat_template is None else chat_template
        if chat_template is not None:
            return sources.get(chat_template, chat_template)
        if tools is not None and "tool_use" in sources:
            return sources["tool_use"]
        if "default" in sources:
            return sources["default"]
        raise ValueError(
            "This model has multiple chat templates with no default specified! Please either pass a chat "
            "template or the name of the template you wish to use to the `chat_template` argument. Available "
            f"template names are {sorted(sources)}."
        )

    def _start(
        self,
        conversations: Sequence[Conversation],
        *,
        batch: bool,
        chat_template: str | None,
        tools: Any,
        documents: Any,
        add_generation_prompt: bool,
        continue_final_message: bool | str,
        template_kwargs: Mapping[str, Any],
    ) -> tuple[RenderCall, list[list[dict[str, Any]]]]:
        """The shared part of a call, and the conversations with None-valued keys dropped.

        The checks run in transformers' order, so an input with several problems raises the same error.
        """
        from .jinja import render as jinja_render  # jinja2 is imported on first render, not with chatfmt
        source = self.select(chat_template, tools)
        for conversation in conversations:
            _check_conversation(conversation, allow_empty=batch)
        cleaned = [drop_none_values(conversation) for conversation in conversations]
        jinja_render.check_call_flags(add_generation_prompt, continue_final_message)
        call = jinja_render.prepare_call(
            source,
            tools=tools,
            documents=documents,
            add_generation_prompt=add_generation_prompt,
            continue_final_message=continue_final_message,
            variables={**self._special_tokens, **template_kwargs},
            limits=self.limits,
        )
        return call, cleaned

    def render(
        self,
        messages: Conversation,
        *,
        add_generation_prompt: bool = False,
        tools: Sequence[Any] | None = None,
        documents: Sequence[Mapping[str, Any]] | None = None,
        continue_final_message: bool | str = False,
        chat_template: str | None = None,
        **template_kwargs: Any,
    ) -> str:
        """The prompt for one conversation: `apply_chat_template(messages, tokenize=False, ...)`.

        Extra keyword arguments become template variables and override special tokens of the same name.
        `chat_template` picks a named template (or is literal source), as in transformers.
        """
        call, (cleaned,) = self._start(
            [messages],
            batch=False,
            chat_template=chat_template,
            tools=tools,
            documents=documents,
            add_generation_prompt=add_generation_prompt,
            continue_final_message=continue_final_message,
            template_kwargs=template_kwargs,
        )
        return call.render(cleaned)

    def render_batch(
        self,
        conversations: Sequence[Conversation],
        *,
        add_generation_prompt: bool = False,
        tools: Sequence[Any] | None = None,
        documents: Sequence[Mapping[str, Any]] | None = None,
        continue_final_message: bool | str = False,
        chat_template: str | None = None,
        **template_kwargs: Any,
    ) -> list[str]:
        """One prompt per conversation; the template, tools and variables are prepared once."""
        call, cleaned = self._start(
            conversations,
            batch=True,
            chat_template=chat_template,
            tools=tools,
            documents=documents,
            add_generation_prompt=add_generation_prompt,
            continue_final_message=continue_final_message,
            template_kwargs=template_kwargs,
        )
        return [call.render(chat) for chat in cleaned]

    def render_spans(
        self,
        messages: Conversation,
        *,
        add_generation_prompt: bool = False,
        tools: Sequence[Any] | None = None,
        documents: Sequence[Mapping[str, Any]] | None = None,
        continue_final_message: bool | str = False,
        chat_template: str | None = None,
        **template_kwargs: Any,
    ) -> RenderedSpans:
        """The prompt plus where each message's content and each generation block is (see `RenderedSpans`)."""
        call, (cleaned,) = self._start(
            [messages],
            batch=False,
            chat_template=chat_template,
            tools=tools,
            documents=documents,
            add_generation_prompt=add_generation_prompt,
            continue_final_message=continue_final_message,
            template_kwargs=template_kwargs,
        )
        from .jinja.spans import render_spans

        return render_spans(call, cleaned)


def _check_conversation(messages: Any, *, allow_empty: bool) -> None:
    """Reject what is not a conversation before anything else runs, naming the problem."""
    if isinstance(messages, (str, bytes, Mapping)) or not isinstance(messages, Sequence):
        raise InvalidConversation(f"a conversation is a list of messages, got {type(messages).__name__}")
    if len(messages) == 0 and not allow_empty:
        raise ValueError("Cannot apply chat template to an empty conversation. Provide at least one message.")
