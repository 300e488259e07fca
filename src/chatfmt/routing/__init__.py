"""Which Jinja sources are a known format, so that their calls take the compiled builder.

A source is recognised by a fingerprint of its text, normalised only in ways Jinja itself ignores
(newline style, and the one trailing newline Jinja drops), so two sources with the same fingerprint
render identically by construction; failing that, by its canonical form (`canonical.py`), which is the
same for every source that is the same Jinja program as a built-in's reference, `{% generation %}`
markers aside. A format a caller pairs with another source is a claim, checked with probes derived from
that source (`claims.py`), unless the source was generated from the format. A recognised format is then
confirmed by probe renders against the Jinja engine, chosen where near-miss templates differ (empty and
whitespace content, system first, absent or late, assistant first, repeated roles, unknown roles,
generation prompt on and off, non-ASCII and special-token-looking text), with each switch variable the
format handles absent, true and false, and with the clock fixed for the whole comparison. Any
difference, in text or in what raises, and the source stays on the Jinja path. A built-in's own
reference source, paired with its own format and special tokens, is the one pairing the test suite
renders against transformers already; it skips the probes, so a server's first render of a built-in
needs no jinja2.

A `Route` then decides per call: the builder serves a call whose options leave the output to the
messages and the special tokens, and declines, per conversation, whatever it cannot vouch for. A source
with `{% generation %}` markers gets compiled spans only when its markers stand exactly on the format's
generated spans (`generation.spans_agree`); otherwise its `render_spans` stays on Jinja.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from functools import lru_cache

from .. import _fast, clock
from .._values import TYPE_CHECKING
from ..formats.builtin import BUILTINS
from ..formats.spec import Format
from ..pipeline import RenderOptions, jinja_call

if TYPE_CHECKING:
    from typing import Any

__all__ = ["Route", "fingerprint", "recognise", "routes_for"]

_GENERATION_TAG = r"\{%[-+]?\s*generation\b"  # searched by `_spans_served`, on a route's first render_spans


def normalise(source: str) -> str:
    """The source as Jinja's lexer reads it: every newline as "\\n", without the final one."""
    text = source.replace("\r\n", "\n").replace("\r", "\n")
    return text[:-1] if text.endswith("\n") else text


def fingerprint(source: str) -> str:
    import hashlib  # only sources that are not a built-in paired with its format are fingerprinted

    return hashlib.sha256(normalise(source).encode("utf-8", "surrogatepass")).hexdigest()


@lru_cache(maxsize=1)
def _known() -> dict[str, Format]:
    """Fingerprint → format for every built-in, read from the shipped sources on first use."""
    return {fingerprint(builtin.read_source()): builtin.format for builtin in BUILTINS}


@lru_cache(maxsize=1)
def _known_forms() -> dict[str, Format]:
    """Canonical form → format for every built-in (the first of several with the same program wins)."""
    from .canonical import canonical_form

    known: dict[str, Format] = {}
    for builtin in BUILTINS:
        # The references compile (the parity tests render every one): no need to compile them here.
        known.setdefault(canonical_form(builtin.read_source(), check_compiles=False), builtin.format)
    return known


@lru_cache(maxsize=256)
def _recognise_by_meaning(source: str) -> Format | None:
    from .canonical import canonical_form

    try:
        form = canonical_form(source, strip_generation=True)
    except Exception:  # a source that does not compile is no known format; rendering it reports why
        return None
    return _known_forms().get(form)


def recognise(source: str) -> Format | None:
    """The known format whose reference source this is: the same bytes up to Jinja-invisible differences,
    or else the same program (the same canonical form, markers aside)."""
    return _known().get(fingerprint(source)) or _recognise_by_meaning(source)


_PROBE_TEXTS = ("Hi", "", "  padded \n", "héllo 👋🏽 e\u0301 日本語", "<|im_end|> [INST] </s> {{ x }}", "\ttab\n\nline")


def _probe_conversations() -> list[list[dict[str, str]]]:
    u, a, s = "user", "assistant", "system"
    t = _PROBE_TEXTS

    def chat(*pairs: tuple[str, str]) -> list[dict[str, str]]:
        return [{"role": role, "content": content} for role, content in pairs]

    return [
        chat((u, t[0])),
        chat((s, t[3]), (u, t[0]), (a, t[2]), (u, t[4])),
        chat((u, t[1]), (a, t[1])),
        chat((u, t[2]), (a, t[5]), (u, t[3]), (a, t[4])),
        chat((a, t[0]), (u, t[0])),
        chat((u, t[0]), (u, t[3])),
        chat((u, t[0]), (s, t[2]), (a, t[0])),
        chat((s, t[0])),
        chat((s, t[1]), (u, t[5])),
        chat((u, t[0]), ("tool", t[4]), (a, t[3])),
        chat((s, t[0]), ("developer", t[0]), (u, t[2])),
        chat((u, t[0]), (a, t[0]), (a, t[3])),
    ]


JinjaRender = Callable[
    [list[dict[str, str]], bool, Mapping[str, "Any"]], str
]  # quoted: typing is not imported at run time


def _jinja_reference(source: str, tokens: Mapping[str, str]) -> JinjaRender:
    """The Jinja engine's render of one conversation, with no tools or documents and the given variables."""
    from ..jinja.limits import DEFAULT_LIMITS

    def render(conversation: list[dict[str, str]], add_generation_prompt: bool, variables: Mapping[str, Any]) -> str:
        options = RenderOptions.of_call(add_generation_prompt, **variables)
        call, (cleaned,) = jinja_call(source, [conversation], options, tokens, DEFAULT_LIMITS, batch=False)
        return call.render(cleaned)

    return render


def confirmed_by_probes(renderer: _fast.Renderer, jinja_render: JinjaRender) -> bool:
    """True when the renderer agrees with Jinja exactly (text or error) on every probe it does not decline,
    and declines at most half of them (a renderer that declines everything proves nothing)."""
    from .claims import outcome as _outcome  # claims reads templates with jinja2: only when probing

    compared = declined = 0
    with clock.fixed_clock(clock.now()):  # both sides print the same date
        for variables in _switch_settings(renderer):
            for conversation in _probe_conversations():
                for add_generation_prompt in (False, True):
                    fast = _outcome(renderer.render, conversation, add_generation_prompt, variables)
                    if fast is None:
                        declined += 1
                        continue
                    if fast != _outcome(jinja_render, conversation, add_generation_prompt, variables):
                        return False
                    compared += 1
    return compared >= declined


@lru_cache(maxsize=1)
def _builtins_by_name() -> dict[str, Any]:
    return {builtin.name: builtin for builtin in BUILTINS}


def _verified_builtin(source: str, tokens: tuple[tuple[str, str], ...], fmt: Format) -> bool:
    """A built-in's own reference source, with its own Format object and special tokens: the test suite
    renders exactly this pairing against transformers, so probe renders (and the jinja2 import they cost
    a server's first request) would only repeat that proof. Anything else, even the same source with
    other tokens, is probed."""
    builtin = _builtins_by_name().get(fmt.name)
    return (
        builtin is not None
        and builtin.format is fmt
        and dict(tokens) == dict(builtin.special_tokens)
        and normalise(source) == normalise(builtin.read_source())
    )


def _switch_settings(renderer: _fast.Renderer) -> list[dict[str, Any]]:
    """The calls to probe: no variables, then each variable the renderer handles, set either way."""
    return [{}, *({name: value} for name in sorted(renderer.handled) for value in (True, False))]


@lru_cache(maxsize=256)
def _confirmed_renderer(
    source: str, tokens: tuple[tuple[str, str], ...], fmt: Format, builder: type[_fast.Renderer]
) -> _fast.Renderer | None:
    renderer = builder(fmt, dict(tokens))
    if _verified_builtin(source, tokens, fmt):
        return renderer
    agrees = confirmed_by_probes(renderer, _jinja_reference(source, dict(tokens)))
    return renderer if agrees else None


def _spans_served(source: str, renderer: _fast.Renderer, tokens: Mapping[str, str]) -> bool:
    """A source with `{% generation %}` blocks marks its own generation spans: the builder may report them
    only where the blocks stand exactly on the format's generated spans; elsewhere the Jinja path does."""
    import re

    if re.search(_GENERATION_TAG, source) is None:
        return True
    from .generation import spans_agree

    with clock.fixed_clock(clock.now()):  # both sides print the same date
        return spans_agree(source, renderer, tokens)


class Route:
    """A compiled renderer for one source, and the variables that source reads (which send a call to Jinja).

    Renderers hold no mutable state, so one serves every Template and thread with the same source and tokens.
    """

    __slots__ = ("_reads", "_source", "_spans", "_tokens", "renderer")

    def __init__(self, renderer: _fast.Renderer, source: str, *, tokens: Mapping[str, str] | None = None) -> None:
        self.renderer = renderer
        self._source = source
        self._tokens = tokens
        self._reads: frozenset[str] | None = None
        self._spans: bool | None = None if tokens is not None else True

    @property
    def reads(self) -> frozenset[str]:
        """The variables the source reads; parsed on first use, since only calls with options need them
        (and parsing imports jinja2). Two threads may both parse: they get the same set."""
        if self._reads is None:
            from ..jinja.environment import template_variables

            self._reads = template_variables(self._source)
        return self._reads

    @property
    def spans(self) -> bool:
        """Whether render_spans may take this route (see `_spans_served`); worked out on the first
        render_spans, since a source with generation blocks is checked by rendering with Jinja. A route
        made without `tokens` serves spans unchecked."""
        if self._spans is None:
            assert self._tokens is not None
            self._spans = _spans_served(self._source, self.renderer, self._tokens)
        return self._spans

    @property
    def format(self) -> Format:
        return self.renderer.format

    def covers_call(self, options: RenderOptions) -> bool:
        """Whether the call's context is what the format assumes: no variable the template reads is passed,
        except those the renderer handles itself (`renderer.handled`, read from the variables it is given)."""
        if options.continue_final_message:
            return False
        if options.tools is not None and "tools" in self.reads:
            return False
        if options.documents is not None and "documents" in self.reads:
            return False
        handled = self.renderer.handled
        return self.reads.isdisjoint(name for name in options.variables if name not in handled)


def routes_for(sources: Iterable[str], special_tokens: Mapping[str, str], fmt: Format | None) -> dict[str, Route]:
    """A Route for each source that is a known format (or `fmt`, when given) and agrees with its probes.

    A source generated from `fmt` (`format_jinja`) needs no probes. Any other source paired with `fmt` is
    checked with probes derived from the source (see `claims`); a difference raises `FormatMismatch`
    (a ValueError) showing the first differing input: the caller claimed the format.
    """
    tokens = tuple(sorted(special_tokens.items()))
    routes = {}
    for source in sources:
        # a built-in's own pairing is its format by construction: no fingerprint of every built-in
        known = fmt if fmt is not None and _verified_builtin(source, tokens, fmt) else recognise(source)
        if fmt is not None and fmt != known:
            claimed = _claimed_renderer(source, tokens, fmt, _fast.Renderer)
            routes[source] = Route(claimed, source, tokens=special_tokens)
            continue
        if known is None:
            continue
        renderer = _confirmed_renderer(source, tokens, known, _fast.Renderer)
        if renderer is not None:
            routes[source] = Route(renderer, source, tokens=special_tokens)
        elif fmt is not None:
            raise ValueError(f"format {fmt.name!r} does not render like its Jinja source; probe renders differ")
    return routes


def derived_from(fmt: Format, source: str) -> bool:
    """Whether `source` is the Jinja chatfmt generates from `fmt` (up to what Jinja ignores)."""
    from ..formats.jinja_source import UnsupportedFormat, format_jinja

    try:
        return normalise(format_jinja(fmt)) == normalise(source)
    except UnsupportedFormat:
        return False


@lru_cache(maxsize=256)
def _claimed_renderer(
    source: str, tokens: tuple[tuple[str, str], ...], fmt: Format, builder: type[_fast.Renderer]
) -> _fast.Renderer:
    renderer = builder(fmt, dict(tokens))
    if derived_from(fmt, source):
        return renderer
    import dataclasses

    from .claims import FormatMismatch, first_difference, with_variables

    jinja = _jinja_reference(source, dict(tokens))
    with clock.fixed_clock(clock.now()):  # both sides print the same date
        for variables in _switch_settings(renderer):
            difference = first_difference(
                with_variables(renderer.render, variables), with_variables(jinja, variables), source
            )
            if difference is not None:
                difference = dataclasses.replace(difference, variables=variables)
                raise FormatMismatch(
                    f"format {fmt.name!r} does not render like its Jinja source: {difference.describe()}", difference
                )
    return renderer
