"""`Template`: one model's chat template(s) and special tokens, rendered as transformers renders them.

A Template always holds Jinja source. When a source is a known format (see `chatfmt.routing`), it also
holds a compiled route, which serves every call and conversation that format covers; the result is the
same string either way, only faster. Every call goes through `chatfmt.pipeline`, so both engines run
transformers' checks in transformers' order.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from types import MappingProxyType

from ._values import TYPE_CHECKING, value_class
from .formats.spec import Format
from .pipeline import Conversation, RenderOptions, check_flags, check_options, checked_conversations, jinja_call
from .spans import MessageSpan, RenderedSpans
from .strict import check_conversation, input_contract
from .tokens import clean_special_tokens

if TYPE_CHECKING:
    from pathlib import Path
    from typing import Any, Literal

    from .batch_errors import OnError
    from .formats.patterns import TextFile
    from .jinja.limits import Limits
    from .jinja.render import RenderCall
    from .routing import Route

    OriginKind = Literal["inline", "builtin", "plugin", "file", "hub"]


@value_class()
class Origin:
    """Where a template came from, shown by `chatfmt list` and `chatfmt show`.

    `details` holds what is known of the source (path, distribution, repo, revision, commit, file, sha256 …).
    """

    kind: OriginKind = "inline"
    details: Mapping[str, str] = MappingProxyType({})

    def __post_init__(self) -> None:
        object.__setattr__(self, "details", MappingProxyType(dict(self.details)))


_REPLACEABLE = frozenset(("source", "special_tokens", "name", "origin", "limits", "format"))


class Template:
    """A chat template: Jinja source (one, or several by name) plus the special tokens it reads."""

    __slots__ = (
        "_contracts",
        "_default_route",
        "_format",
        "_limits",
        "_name",
        "_origin",
        "_routes",
        "_sources",
        "_special_tokens",
    )

    def __init__(
        self,
        source: str | Mapping[str, str] | None = None,
        *,
        special_tokens: Mapping[str, Any] | None = None,
        name: str | None = None,
        origin: Origin | None = None,
        limits: Limits | None = None,
        format: Format | None = None,
    ) -> None:
        if source is None:
            if format is None:
                raise TypeError("Template() needs Jinja source, or a format to generate it from")
            from .formats.jinja_source import format_jinja

            source = format_jinja(format)  # derived from the format, so it needs no probe renders
        self._sources = _checked_sources(source)
        self._special_tokens: Mapping[str, str] = MappingProxyType(clean_special_tokens(special_tokens))
        self._name = name
        self._origin = origin or Origin()
        self._limits = limits
        self._format = format
        from .routing import routes_for  # the builders and the built-in table load with the first Template

        sources = [self._sources] if isinstance(self._sources, str) else list(self._sources.values())
        self._routes = routes_for(sources, self._special_tokens, format)
        self._default_route = self._route_without_options()
        self._contracts: dict[str, Any] = {}  # source -> what it handles (chatfmt.strict), on first validate

    @classmethod
    def from_jinja(
        cls,
        source: str | Mapping[str, str],
        *,
        special_tokens: Mapping[str, Any] | None = None,
        name: str | None = None,
        limits: Limits | None = None,
        format: Format | None = None,
    ) -> Template:
        """A template from Jinja source, or from a mapping of named sources (`default`, `tool_use`, …).

        `limits` bounds each render's time and output size (see `chatfmt.jinja.limits`). Sources that are
        a known format get the compiled path by themselves; `format` pairs a source with a `chatfmt.Format`
        the author wrote for it (confirmed by probe renders; ValueError when they disagree).
        """
        return cls(source, special_tokens=special_tokens, name=name, limits=limits, format=format)

    @classmethod
    def from_patterns(
        cls,
        patterns: Mapping[str, str | None] | str,
        *,
        special_tokens: Mapping[str, Any] | None = None,
        name: str | None = None,
        limits: Limits | None = None,
        **options: Any,
    ) -> Template:
        """A template from per-role patterns, `{"user": "<|user|>{content}\\n", ...}`, without writing Jinja.

        The options are `chatfmt.formats.format_from_patterns`'s (generation_prompt, system,
        default_system, start, trim, generated). The Jinja source is generated from the format, and every
        call the format covers takes the compiled builder.
        """
        from .formats.patterns import format_from_patterns

        fmt = format_from_patterns(patterns, name=name or "custom", **options)
        return cls(special_tokens=special_tokens, name=name, limits=limits, format=fmt)

    @classmethod
    def from_toml(
        cls,
        path: str | os.PathLike[str] | TextFile,
        *,
        special_tokens: Mapping[str, Any] | None = None,
        limits: Limits | None = None,
    ) -> Template:
        """A pattern format from a TOML file: a path, or a file a package ships (`importlib.resources.files(...)
        / "x.toml"`); see `chatfmt.formats.read_toml` for the keys. `special_tokens` are added to (and
        override) the file's own `[special_tokens]`.
        """
        from pathlib import Path

        from .formats.patterns import read_toml

        read = read_toml(Path(path) if isinstance(path, str | os.PathLike) else path)
        tokens = {**read.special_tokens, **(special_tokens or {})}
        return cls(special_tokens=tokens, name=read.format.name, limits=limits, format=read.format)

    def save(self, directory: str | os.PathLike[str]) -> Path:
        """Write this template where transformers reads it, in a tokenizer folder (made if missing).

        `chat_template.jinja` (or one file per name in `additional_chat_templates/`) and the special
        tokens in `tokenizer_config.json`; an existing folder keeps every other key and file. Loading the
        folder with `AutoTokenizer.from_pretrained` then renders what this template renders: this is how
        a base model's tokenizer gets a chat template. Returns the folder.
        """
        from pathlib import Path

        from .tokenizer_folder import write_chat_template

        return write_chat_template(Path(directory), self._sources, self._special_tokens)

    def replace(self, **changes: Any) -> Template:
        """A copy with some of `source`, `special_tokens`, `name`, `origin`, `limits`, `format` changed.

        Compiled routes are kept when neither the sources, the tokens nor the format change.
        """
        unknown = set(changes) - _REPLACEABLE
        if unknown:
            raise TypeError(
                f"Template.replace() got unexpected fields {sorted(unknown)}; it takes {sorted(_REPLACEABLE)}"
            )
        if changes.keys() & {"source", "special_tokens", "format"}:
            return Template(
                changes.get("source", self._sources),
                special_tokens=changes.get("special_tokens", self._special_tokens),
                name=changes.get("name", self._name),
                origin=changes.get("origin", self._origin),
                limits=changes.get("limits", self._limits),
                format=changes.get("format", self._format),
            )
        copy = self._copy()
        copy._name = changes.get("name", self._name)
        copy._origin = changes.get("origin", self._origin)
        copy._limits = changes.get("limits", self._limits)
        return copy

    def jinja_only(self) -> Template:
        """The same template with every call rendered by the Jinja engine: to compare the two engines."""
        copy = self._copy()
        copy._routes, copy._default_route, copy._contracts = {}, None, {}
        return copy

    def _copy(self) -> Template:
        copy = object.__new__(Template)
        for slot in Template.__slots__:
            object.__setattr__(copy, slot, getattr(self, slot))
        return copy

    @property
    def name(self) -> str | None:
        """The name it was found or registered under (a built-in name, a plugin name, a repo id, a file stem)."""
        return self._name

    @property
    def origin(self) -> Origin:
        return self._origin

    @property
    def limits(self) -> Limits:
        """The bounds of each Jinja render: the ones given, else `chatfmt.jinja.limits.DEFAULT_LIMITS`
        (imported on first use: a server that only renders built-ins never needs them)."""
        if self._limits is None:
            from .jinja.limits import DEFAULT_LIMITS

            return DEFAULT_LIMITS
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
    def format(self) -> Format | None:
        """The declarative format of the default source: the one given, or the one it was recognised as."""
        if self._format is not None:
            return self._format
        return self._default_route.format if self._default_route is not None else None

    @property
    def is_compiled(self) -> bool:
        """Whether a compiled renderer serves the inputs its format covers (for any of its templates)."""
        return bool(self._routes)

    def _route(self, options: RenderOptions) -> Route | None:
        """The compiled route for this call, or None when the call needs the Jinja engine."""
        if options.is_plain:
            return self._default_route  # the common call, decided once at construction
        if not self._routes:
            return None
        route = self._routes.get(self.select(options.chat_template, options.tools))
        if route is None or not route.covers_call(options):
            return None
        return route

    def _route_without_options(self) -> Route | None:
        try:
            return self._routes.get(self.select(None, None))
        except ValueError:  # several named templates and no default: every such call raises anyway
            return None

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

    def path_for(self, messages: Conversation, *, validate: bool = False, **call: Any) -> Literal["compiled", "jinja"]:
        """Which engine `render(messages, **call)` would use, "compiled" or "jinja", for debugging and tests.

        `validate` checks the input before either engine runs; it does not choose one.
        """
        options = RenderOptions.of_call(**call)
        route = self._route(options)
        return "compiled" if route is not None and route.renderer.covers(messages, options.variables) else "jinja"

    def __repr__(self) -> str:
        label = f" {self.name!r}" if self.name else ""
        return f"<chatfmt.Template{label} ({self.origin.kind})>"

    def render(
        self,
        messages: Conversation,
        *,
        add_generation_prompt: bool = False,
        tools: Sequence[Any] | None = None,
        documents: Sequence[Mapping[str, Any]] | None = None,
        continue_final_message: bool | str = False,
        chat_template: str | None = None,
        validate: bool = False,
        **template_kwargs: Any,
    ) -> str:
        """The prompt for one conversation: `apply_chat_template(messages, tokenize=False, ...)`.

        Extra keyword arguments become template variables and override special tokens of the same name.
        `chat_template` picks a named template (or is literal source), as in transformers. `validate=True`
        first runs `check_conversation`, refusing input the template would render silently wrong.
        """
        options = RenderOptions.of(
            add_generation_prompt, tools, documents, continue_final_message, chat_template, template_kwargs
        )
        if validate:
            self.check_conversation(messages, chat_template=chat_template, tools=tools)
        route = self._route(options)
        if route is not None and (options.is_plain or _options_pass(route, messages, options)):
            text = route.renderer.render(messages, add_generation_prompt, options.variables)
            if text is not None:
                return text
        call, (cleaned,) = self._jinja_call([messages], options, batch=False)
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
        validate: bool = False,
        on_error: OnError = "raise",
        **template_kwargs: Any,
    ) -> list[str]:
        """One prompt per conversation; the template, tools and variables are prepared once.

        As in transformers, a conversation may also be an object with a `messages` attribute. With
        `validate=True` each conversation is checked first (see `check_conversation`), as a row of its own.
        `on_error`: "raise" raises what transformers raises, naming the row (`exc.row_index`); "skip" and
        "null" return a `RenderedBatch` with each failure's row and reason (see `chatfmt.batch_errors`).
        """
        from .batch_errors import render_rows

        conversations = [getattr(conversation, "messages", conversation) for conversation in conversations]
        options = RenderOptions.of(
            add_generation_prompt, tools, documents, continue_final_message, chat_template, template_kwargs
        )

        def checked(batch: list[Conversation]) -> list[Conversation]:
            if validate:
                for conversation in batch:
                    self.check_conversation(conversation, chat_template=chat_template, tools=tools)
            return batch

        return render_rows(
            lambda: self._render_batch_all(checked(conversations), options),
            lambda conversation: self._render_batch_all(checked([conversation]), options)[0],
            conversations,
            on_error,
        )

    def render_arrow(
        self, conversations: Any, *, spans: bool | str = False, on_error: OnError = "raise", **call: Any
    ) -> Any:
        """Prompts for a column of conversations: any Arrow array, chunked array or Arrow PyCapsule object
        of list<struct<role, content, ...>>, returned as a pyarrow large_string array (see `chatfmt.columnar`).

        `call` takes `render`'s keywords. Built-in formats render in a compiled kernel straight from the
        Arrow buffers; every other row or call renders with `render`, with the same result. With
        `validate=True` every row renders through `render`, checked first (the kernel does not check).
        """
        from .columnar import render_arrow

        validate = call.get("validate", False)
        options = RenderOptions.of_call(**{key: value for key, value in call.items() if key != "validate"})
        route = None if validate else self._route(options)
        if route is not None and not options.is_plain:
            try:
                check_flags(options)
                check_options(options)
            except Exception:  # the options raise: every row raises on its own, through render
                route = None
        return render_arrow(
            conversations,
            render_row=lambda row: self.render(row, **call),
            fmt=None if route is None else route.format,
            special_tokens=self._special_tokens,
            add_generation_prompt=bool(options.add_generation_prompt),
            spans=(lambda row: self.render_spans(row, **call)) if spans else None,
            span_unit="bytes" if spans == "bytes" else "chars",
            on_error=on_error,
        )

    def _render_batch_all(self, conversations: list[Conversation], options: RenderOptions) -> list[str]:
        """render_batch's whole-batch path: raises what the first failing conversation raises."""
        route = self._route(options)
        if route is None:
            return self._jinja_batch(conversations, options)
        if not options.is_plain:
            checked_conversations(conversations, batch=True)  # these raise before the options are checked
            check_options(options)
        try:
            results = route.renderer.render_batch(conversations, options.add_generation_prompt, options.variables)
        except Exception:
            # Some conversation raised: render in order so the first failing one raises, as transformers would.
            return [self._render_one(conversation, options) for conversation in conversations]
        declined = [index for index, text in enumerate(results) if text is None]
        if declined:
            for index, text in zip(declined, self._jinja_batch([conversations[i] for i in declined], options)):
                results[index] = text
        return results  # type: ignore[return-value]  # every None was replaced

    def _render_one(self, messages: Conversation, options: RenderOptions) -> str:
        return self.render(
            messages,
            add_generation_prompt=options.add_generation_prompt,
            tools=options.tools,
            documents=options.documents,
            continue_final_message=options.continue_final_message,
            chat_template=options.chat_template,
            **options.variables,
        )

    def render_spans(
        self,
        messages: Conversation,
        *,
        add_generation_prompt: bool = False,
        tools: Sequence[Any] | None = None,
        documents: Sequence[Mapping[str, Any]] | None = None,
        continue_final_message: bool | str = False,
        chat_template: str | None = None,
        validate: bool = False,
        **template_kwargs: Any,
    ) -> RenderedSpans:
        """The prompt plus where each message's content and each generation block is (see `RenderedSpans`);
        `validate` as in `render`."""
        options = RenderOptions.of(
            add_generation_prompt, tools, documents, continue_final_message, chat_template, template_kwargs
        )
        if validate:
            self.check_conversation(messages, chat_template=chat_template, tools=tools)
        route = self._route(options)
        if route is not None and route.spans and (options.is_plain or _options_pass(route, messages, options)):
            spanned = route.renderer.render_spans(messages, add_generation_prompt, options.variables)
            if spanned is not None:
                return _compiled_spans(messages, *spanned)
        call, (cleaned,) = self._jinja_call([messages], options, batch=False)
        from .jinja.spans import render_spans

        return render_spans(call, cleaned)

    def check_conversation(self, messages: Any, *, chat_template: str | None = None, tools: Any = None) -> None:
        """Raise `InvalidConversation` (naming the message index and the field) for input this template
        would render silently wrong: a role it does not handle, missing or non-text content where it
        prints text, content parts it would print as a Python repr (see `chatfmt.strict`). This is what
        `validate=True` runs; batch and columnar renderers call it per conversation. `chat_template` and
        `tools` pick the source as a render would."""
        source = self.select(chat_template, tools)
        contract = self._contracts.get(source)
        if contract is None:
            route = self._routes.get(source)
            contract = self._contracts[source] = input_contract(source, route.format if route is not None else None)
        check_conversation(messages, contract)  # (jinja2 parsed the source above, once per source)

    def _jinja_call(
        self, conversations: Sequence[Conversation], options: RenderOptions, *, batch: bool
    ) -> tuple[RenderCall, list[list[dict[str, Any]]]]:
        source = self.select(options.chat_template, options.tools)
        return jinja_call(source, conversations, options, self._special_tokens, self.limits, batch=batch)

    def _jinja_batch(self, conversations: Sequence[Conversation], options: RenderOptions) -> list[str]:
        call, cleaned = self._jinja_call(conversations, options, batch=True)
        return [call.render(chat) for chat in cleaned]


def _options_pass(route: Route, messages: Conversation, options: RenderOptions) -> bool:
    """For a call with options on a compiled route: False when the builder declines the conversation (Jinja
    then renders it, checks included); else transformers' checks of the options, which raise here."""
    if not route.renderer.covers(messages, options.variables):
        return False
    check_flags(options)
    check_options(options)
    return True


def _checked_sources(source: Any) -> str | Mapping[str, str]:
    if isinstance(source, str):
        return source
    if isinstance(source, Mapping):
        if not source:
            raise ValueError("a mapping of named chat templates needs at least one template")
        for key, value in source.items():
            if not isinstance(key, str) or not isinstance(value, str):
                raise TypeError("named chat templates must map str names to str Jinja sources")
        return MappingProxyType(dict(source))
    raise TypeError(f"a chat template is Jinja source (str) or a mapping of them, got {type(source).__name__}")


def _compiled_spans(messages: Conversation, text: str, content: list, generation: list) -> RenderedSpans:
    spans = []
    for index, (message, span) in enumerate(zip(messages, content)):
        role = message.get("role")
        if span is None:
            spans.append(MessageSpan(index, role, None, None, "the template does not print this content"))
        else:
            spans.append(MessageSpan(index, role, span[0], span[1]))
    return RenderedSpans(text, tuple(spans), tuple(generation))
