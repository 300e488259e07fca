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
from .formats.spec import Format
from .spans import MessageSpan, RenderedSpans

if TYPE_CHECKING:
    from .batch_errors import OnError
    from .jinja.render import RenderCall

# The keyword arguments of `render` that are not template variables.
_RENDER_OPTIONS = frozenset({"add_generation_prompt", "tools", "documents", "continue_final_message", "chat_template"})

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

    def __post_init__(self) -> None:
        object.__setattr__(self, "details", MappingProxyType(dict(self.details)))


def _clean_special_tokens(tokens: Mapping[str, Any] | None) -> dict[str, str]:
    """Special tokens as transformers puts them in the context: None means absent, and any other value is
    its string (`str(AddedToken)` is its content), or the "content" of a token written as a JSON object."""
    cleaned = {}
    for name, value in (tokens or {}).items():
        if not isinstance(name, str):
            raise TypeError(f"special token names must be strings, got {name!r}")
        if value is None:
            continue
        if isinstance(value, Mapping) and isinstance(value.get("content"), str):
            value = value["content"]
        cleaned[name] = value if type(value) is str else str(value)
    return cleaned


class Template:
    """A chat template: Jinja source (one, or several by name) plus the special tokens it reads."""

    __slots__ = ("_compiled", "_default_route", "_limits", "_name", "_origin", "_sources", "_special_tokens")

    def __init__(
        self,
        source: str | Mapping[str, str],
        *,
        special_tokens: Mapping[str, str | None] | None = None,
        name: str | None = None,
        origin: Origin | None = None,
        limits: Limits = DEFAULT_LIMITS,
        compiled: bool = True,
        format: Format | None = None,
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
        self._name = name
        self._origin = origin or Origin()
        self._limits = limits
        self._compiled = self._compile(format) if compiled else {}
        self._default_route = self._route_without_options()

    @classmethod
    def from_jinja(
        cls,
        source: str | Mapping[str, str],
        *,
        special_tokens: Mapping[str, str | None] | None = None,
        name: str | None = None,
        limits: Limits = DEFAULT_LIMITS,
        format: Format | None = None,
    ) -> Template:
        """A template from Jinja source, or from a mapping of named sources (`default`, `tool_use`, …).

        `limits` bounds each render's time and output size (see `chatfmt.jinja.limits`). Sources that are
        a known format get the compiled path by themselves; `format` pairs a source with a `chatfmt.Format`
        the author wrote for it (confirmed by probe renders; ValueError when they disagree).
        """
        return cls(source, special_tokens=special_tokens, name=name, limits=limits, format=format)

    @property
    def name(self) -> str | None:
        """The name it was found or registered under (a built-in name, a plugin name, a repo id, a file stem)."""
        return self._name

    @property
    def origin(self) -> Origin:
        return self._origin

    @property
    def limits(self) -> Limits:
        return self._limits

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
        """Whether a compiled renderer serves the inputs its format covers (for any of its templates)."""
        return bool(self._compiled)

    def _compile(self, fmt: Format | None) -> dict[str, _CompiledRoute]:
        """Compiled routes for the sources that are a known format (or `fmt`), confirmed by probe renders."""
        from .formats.recognise import compiled_renderer

        sources = [self._sources] if isinstance(self._sources, str) else list(self._sources.values())
        routes = {}
        for source in sources:
            renderer = compiled_renderer(source, self._special_tokens, fmt)
            if renderer is not None:
                routes[source] = _CompiledRoute(renderer, source)
            elif fmt is not None:
                raise ValueError(f"format {fmt.name!r} does not render like its Jinja source; probe renders differ")
        return routes

    def _route(
        self,
        chat_template: str | None,
        tools: Any,
        documents: Any,
        continue_final_message: bool | str,
        template_kwargs: Mapping[str, Any],
    ) -> _CompiledRoute | None:
        """The compiled route for this call, or None when the call needs the Jinja engine."""
        if chat_template is None and tools is None and documents is None and not continue_final_message:
            if not template_kwargs:
                return self._default_route  # the common call, decided once at construction
        if not self._compiled or continue_final_message:
            return None
        route = self._compiled.get(self.select(chat_template, tools))
        if route is None or not route.covers_call(tools, documents, template_kwargs):
            return None
        return route

    def _route_without_options(self) -> _CompiledRoute | None:
        try:
            return self._compiled.get(self.select(None, None))
        except ValueError:  # several named templates and no default: every such call raises anyway
            return None

    def path_for(
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
        """Which engine `render` would use for this call, "compiled" or "jinja", for debugging and tests."""
        route = self._route(chat_template, tools, documents, continue_final_message, template_kwargs)
        return "compiled" if route is not None and route.renderer.covers(messages) else "jinja"

    def relabelled(self, *, name: str | None, origin: Origin) -> Template:
        """The same template (sources, tokens, limits, compiled routes) under another name and origin."""
        copy = object.__new__(Template)
        for slot in Template.__slots__:
            object.__setattr__(copy, slot, getattr(self, slot))
        copy._name, copy._origin = name, origin
        return copy

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
            limits=self._limits,
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
        if chat_template is None and tools is None and documents is None and not continue_final_message and not template_kwargs:
            route = self._default_route  # the hot path: one attribute read instead of a call to _route
        else:
            route = self._route(chat_template, tools, documents, continue_final_message, template_kwargs)
        if route is not None:
            text = route.renderer.render(messages, add_generation_prompt)
            if text is not None:
                return text
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
        on_error: OnError = "raise",
        **template_kwargs: Any,
    ) -> list[str]:
        """One prompt per conversation; the template, tools and variables are prepared once.

        As in transformers, a conversation may also be an object with a `messages` attribute.
        `on_error`: "raise" raises what transformers raises, naming the row (`exc.row_index`); "skip" and
        "null" return a `RenderedBatch` with each failure's row and reason (see `chatfmt.batch_errors`).
        """
        from .batch_errors import render_rows

        conversations = [getattr(conversation, "messages", conversation) for conversation in conversations]
        options: dict[str, Any] = dict(
            add_generation_prompt=add_generation_prompt,
            tools=tools,
            documents=documents,
            continue_final_message=continue_final_message,
            chat_template=chat_template,
            **template_kwargs,
        )
        return render_rows(
            lambda: self._render_batch_all(conversations, **options),
            lambda conversation: self._render_batch_all([conversation], **options)[0],
            conversations,
            on_error,
        )

    def render_arrow(
        self, conversations: Any, *, spans: bool | str = False, on_error: OnError = "raise", **options: Any
    ) -> Any:
        """Prompts for a column of conversations: any Arrow array, chunked array or Arrow PyCapsule object
        of list<struct<role, content, ...>>, returned as a pyarrow large_string array (see `chatfmt.columnar`).

        `options` are `render`'s. Built-in formats render in a compiled kernel straight from the Arrow
        buffers; every other row or call renders with `render`, with the same result.
        """
        from .columnar import render_arrow

        route = self._route(
            options.get("chat_template"),
            options.get("tools"),
            options.get("documents"),
            options.get("continue_final_message", False),
            {k: v for k, v in options.items() if k not in _RENDER_OPTIONS},
        )
        return render_arrow(
            conversations,
            render_row=lambda row: self.render(row, **options),
            fmt=None if route is None else route.renderer.format,
            special_tokens=self._special_tokens,
            add_generation_prompt=bool(options.get("add_generation_prompt", False)),
            spans=(lambda row: self.render_spans(row, **options)) if spans else None,
            span_unit="bytes" if spans == "bytes" else "chars",
            on_error=on_error,
        )

    def _render_batch_all(
        self,
        conversations: list[Conversation],
        *,
        add_generation_prompt: bool = False,
        tools: Sequence[Any] | None = None,
        documents: Sequence[Mapping[str, Any]] | None = None,
        continue_final_message: bool | str = False,
        chat_template: str | None = None,
        **template_kwargs: Any,
    ) -> list[str]:
        """render_batch's whole-batch path: raises what the first failing conversation raises."""
        options = dict(
            chat_template=chat_template,
            tools=tools,
            documents=documents,
            add_generation_prompt=add_generation_prompt,
            continue_final_message=continue_final_message,
            template_kwargs=template_kwargs,
        )
        route = self._route(chat_template, tools, documents, continue_final_message, template_kwargs)
        if route is None:
            return self._jinja_batch(conversations, **options)
        try:
            results = route.renderer.render_batch(conversations, add_generation_prompt)
        except Exception:
            # Some conversation raised: render in order so the first failing one raises, as transformers would.
            return [
                self.render(
                    conversation,
                    add_generation_prompt=add_generation_prompt,
                    tools=tools,
                    documents=documents,
                    continue_final_message=continue_final_message,
                    chat_template=chat_template,
                    **template_kwargs,
                )
                for conversation in conversations
            ]
        declined = [index for index, text in enumerate(results) if text is None]
        if declined:
            for index, text in zip(declined, self._jinja_batch([conversations[i] for i in declined], **options)):
                results[index] = text
        return results

    def _jinja_batch(self, conversations: Sequence[Conversation], **options: Any) -> list[str]:
        call, cleaned = self._start(conversations, batch=True, **options)
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
        route = self._route(chat_template, tools, documents, continue_final_message, template_kwargs)
        if route is not None:
            spanned = route.renderer.render_spans(messages, add_generation_prompt)
            if spanned is not None:
                return _compiled_spans(messages, *spanned)
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


class _CompiledRoute:
    """A compiled renderer for one source, and the variables that source reads (which send a call to Jinja)."""

    __slots__ = ("reads", "renderer")

    def __init__(self, renderer: Any, source: str) -> None:
        from .jinja.environment import template_variables

        self.renderer = renderer
        self.reads = template_variables(source)

    def covers_call(self, tools: Any, documents: Any, template_kwargs: Mapping[str, Any]) -> bool:
        """Whether the call's context is what the format assumes: no variable the template reads is passed."""
        if tools is not None and "tools" in self.reads:
            return False
        if documents is not None and "documents" in self.reads:
            return False
        return not template_kwargs or self.reads.isdisjoint(template_kwargs)


def _compiled_spans(messages: Conversation, text: str, content: list, generation: list) -> RenderedSpans:
    spans = []
    for index, (message, span) in enumerate(zip(messages, content)):
        role = message.get("role")
        if span is None:
            spans.append(MessageSpan(index, role, None, None, "the template does not print this content"))
        else:
            spans.append(MessageSpan(index, role, span[0], span[1]))
    return RenderedSpans(text, tuple(spans), tuple(generation))


def _check_conversation(messages: Any, *, allow_empty: bool) -> None:
    """Reject what is not a conversation before anything else runs, naming the problem."""
    if type(messages) not in (list, tuple) and (
        isinstance(messages, (str, bytes, Mapping)) or not isinstance(messages, Sequence)
    ):
        raise InvalidConversation(f"a conversation is a list of messages, got {type(messages).__name__}")
    if len(messages) == 0 and not allow_empty:
        raise ValueError("Cannot apply chat template to an empty conversation. Provide at least one message.")
