"""Pure-Python string builder: the reference twin of `_render_c`, same names, same results.

Used when the extension is not built, on non-CPython, or with CHATFMT_NO_EXTENSIONS=1. It is written
for clarity first; `_render_c` follows the same steps with one preallocated string.

A renderer *declines* (returns None) any input it cannot vouch for: the caller then renders with
Jinja. It raises jinja2's TemplateError exactly where the reference template calls raise_exception.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from .._values import TYPE_CHECKING
from ..formats.spec import Format
from ._plan import (
    DECLINED,
    REJECTED,
    SKIPPED,
    SYS_COLLECT,
    SYS_FOLD,
    SYS_INLINE,
    SYS_LAST,
    SYS_LEAD,
    SYS_REJECT,
    SYS_TURN,
    T_JSON,
    T_LSTRIP_NEWLINES,
    T_NONE,
    T_PAST_AFTER_THINK,
    T_RSTRIP,
    T_THINK_BLOCK,
    T_TRIM,
    Plan,
    PlanTurn,
    Variants,
    build_plan,
    static_variant,
)
from ._reasoning import is_query, past_after_think, reasoning_of, think_block

if TYPE_CHECKING:
    from typing import Any

__all__ = ["Renderer", "Spans"]

Span = tuple[int, int]
Spans = tuple[str, list[Span | None], list[Span]]
_Item = tuple[PlanTurn, str, str, str | None]  # turn, role, content, reasoning (think-block turns only)
_VARIANTS_KEPT = 16  # static variants a dynamic renderer keeps (a new day or switch value adds one)


def _template_error(message: str) -> Exception:
    from jinja2.exceptions import TemplateError

    return TemplateError(message)


def _apply(transform: int, content: str) -> str:
    if transform == T_NONE:
        return content
    if transform == T_TRIM:
        return content.strip()
    if transform == T_JSON:
        import json  # on first use: few formats need it, and json imports re

        return json.dumps(content, ensure_ascii=False)
    if transform == T_LSTRIP_NEWLINES:
        return content.lstrip("\n")
    if transform == T_RSTRIP:
        return content.rstrip()
    return content.split("</think>")[-1]  # T_AFTER_THINK


def _strip_range(text: str) -> Span:
    """Where `text.strip()` lies inside `text`."""
    lo = len(text) - len(text.lstrip())
    return lo, max(lo, len(text.rstrip()))


def _clamp(lo: int, hi: int, start: int, end: int, base: int) -> Span:
    """Output span of text[start:end] when only text[lo:hi] is printed, at `base`."""
    a, b = min(max(start, lo), hi), min(max(end, lo), hi)
    return base + a - lo, base + b - lo


class Renderer:
    """A `Format` compiled against one special-tokens mapping; renders conversations it covers."""

    __slots__ = ("_by_role", "_choose", "_plan", "_tokens", "_variants", "format")

    def __init__(self, fmt: Format, special_tokens: Mapping[str, Any] | None = None) -> None:
        self.format = fmt
        self._tokens = dict(special_tokens or {})
        # A dynamic format renders through static variants; its own plan only says whether it is usable.
        self._variants: dict[tuple[bool, tuple[str, ...]], Renderer] | None = {} if fmt.dynamic else None
        self._choose = Variants(fmt)
        static = static_variant(fmt, (False, ("",) * len(fmt.dates))) if fmt.dynamic else fmt
        self._plan: Plan = build_plan(static, self._tokens)
        self._by_role = {turn.role: turn for turn in self._plan.turns}

    def __reduce__(self) -> tuple[type[Renderer], tuple[Format, dict[str, Any]]]:
        return Renderer, (self.format, self._tokens)

    @property
    def handled(self) -> frozenset[str]:
        """Template variables a call may pass to this renderer (`variables=`) instead of going to Jinja."""
        return self.format.handled

    def _for_call(self, variables: Mapping[str, Any] | None, today: bool = True) -> Renderer | None:
        """The renderer of this call's static variant (self for a static format); None leaves it to Jinja.
        Without `today`, one that covers the same inputs, found without reading the clock."""
        variants = self._variants
        if variants is None:
            return self
        key = self._choose.key(variables, today)
        if key is None:
            return None
        found = variants.get(key)
        if found is None:
            if len(variants) >= _VARIANTS_KEPT:
                variants.clear()
            found = variants[key] = Renderer(static_variant(self.format, key), self._tokens)
        return found

    def _scan(self, messages: object) -> list[_Item] | None:
        """Validate and classify every message; None means decline."""
        plan = self._plan
        if not plan.usable or type(messages) not in (list, tuple) or not messages:
            return None
        items = []
        by_role, other, declined = self._by_role, plan.other, plan.declined_keys
        for message in messages:  # type: ignore[attr-defined]
            if type(message) is not dict:
                return None
            role = content = reasoning = None
            for key, value in message.items():
                # Only exact-str keys count (transformers rewrites the others); when the format
                # declines keys, any other key might stand for one.
                if type(key) is not str:
                    if declined:
                        return None
                elif key == "role":
                    role = value
                elif key == "content":
                    content = value
                elif key in declined and value is not None:  # a None value is dropped, as transformers does
                    return None
            if not isinstance(role, str) or not isinstance(content, str):
                return None
            if type(role) is not str:  # transformers strips subclasses back to str
                role = str.__str__(role)
            if type(content) is not str:
                content = str.__str__(content)
            turn = by_role.get(role, other)
            if turn.kind == DECLINED:
                return None
            if turn.transform == T_THINK_BLOCK:
                found = reasoning_of(message)
                if found is not None and not isinstance(found, str):
                    return None
                reasoning = found
            items.append((turn, role, content, reasoning))
        if (
            plan.system == SYS_LEAD
            and items[0][0].is_system
            and any(t in items[0][2] for t in plan.declined_system_text)
        ):
            return None
        if plan.system == SYS_FOLD and items[0][0].is_system and len(items) > 1:
            target = items[1][0]
            if target.transform not in (T_NONE, T_TRIM):
                return None
        return items

    def covers(self, messages: object, variables: Mapping[str, Any] | None = None) -> bool:
        """Whether `render` gives the reference result for these messages (a string or the same error)."""
        renderer = self._for_call(variables, today=False)
        return renderer is not None and renderer._scan(messages) is not None

    def _check(self, items: list[_Item], first: int) -> None:
        """Raise where the template's raise_exception fires, in the template's order."""
        plan = self._plan
        if plan.system == SYS_REJECT and items[0][0].is_system:
            raise _template_error(plan.system_error)
        alternation = plan.alternation_error
        for i in range(first, len(items)):
            turn = items[i][0]
            if alternation is not None and turn.is_user != ((i - first) % 2 == 0):
                raise _template_error(alternation)
            if turn.kind == REJECTED:
                raise _template_error(turn.message)

    def _build(self, messages: object, add_generation_prompt: bool) -> Spans | None:
        items = self._scan(messages)
        if items is None:
            return None
        plan = self._plan
        n, policy = len(items), plan.system
        has_system = items[0][0].is_system
        first = 1 if has_system and policy in (SYS_LEAD, SYS_FOLD, SYS_INLINE) else 0
        query = n - 1  # Qwen3's last_query_index: the last user message that is not a tool response
        if plan.query_scan:
            query = next((i for i in range(n - 1, -1, -1) if items[i][0].is_user and is_query(items[i][2])), n - 1)
        self._check(items, first)

        out: list[str] = [plan.start]
        pos = len(plan.start)
        content_spans: list[Span | None] = [None] * n
        generation_spans: list[Span] = []

        def put(text: str) -> int:
            nonlocal pos
            out.append(text)
            at, pos = pos, pos + len(text)
            return at

        st = plan.system_turn
        lead = None  # the first system message as LEAD prints it; None when it prints the default
        if policy == SYS_LEAD and has_system:
            assert st is not None
            lead = _apply(st.transform, items[0][2])
            if not lead and plan.default_if_empty:
                lead = None
        if lead is not None:
            assert st is not None
            put(st.head)
            piece = lead
            at = put(piece)
            content_spans[0] = (at, at + len(piece))
            if n == 1:  # the system message is the last one: its tail ends the prompt
                put(st.last_gen if add_generation_prompt else st.last_nogen)
                return "".join(out), content_spans, generation_spans
            put(st.tail)
        elif policy == SYS_LEAD and plan.default_block is not None:  # no first system message, or an empty one
            put(plan.default_block)
        elif policy == SYS_TURN and plan.default_block is not None and not any(it[0].is_system for it in items):
            put(plan.default_block)
        elif policy in (SYS_COLLECT, SYS_LAST):
            assert st is not None
            collected = [i for i in range(n) if items[i][0].is_system]
            if policy == SYS_LAST:
                collected = collected[-1:]
            if collected:
                pieces = [_apply(st.transform, items[i][2]) for i in collected]
                at = put(st.head)
                at += len(st.head)
                for k, i in enumerate(collected):
                    at += len(plan.collect_sep) if k else 0
                    content_spans[i] = (at, at + len(pieces[k]))
                    at += len(pieces[k])
                put(plan.collect_sep.join(pieces))
                put(st.tail)
        put(plan.after_system)

        for i in range(first, n):
            turn, role, content, reasoning = items[i]
            if turn.kind == SKIPPED:
                put(turn.head)
                continue
            if turn.skip_empty and not content:
                put(plan.loop_prefix)
                continue
            opens = turn.grouped and (i == first or items[i - 1][0] is not turn)
            closes = turn.grouped and (i == n - 1 or items[i + 1][0] is not turn)
            put(turn.open_head if opens else turn.head)
            if turn.interp:
                put(role)
                put(turn.role_tail)
            if policy == SYS_INLINE and has_system and i == first:
                assert st is not None
                sys_piece = _apply(st.transform, items[0][2])
                at = put(st.head) + len(st.head)
                content_spans[0] = (at, at + len(sys_piece))
                put(sys_piece)
                put(st.tail)
            last = i == n - 1
            skip = 0  # where the content starts in the printed piece (after a think block)
            if policy == SYS_FOLD and has_system and i == first:
                assert st is not None
                sys_piece = _apply(st.transform, items[0][2])
                composed = st.head + sys_piece + st.tail + content
                lo, hi = _strip_range(composed) if turn.transform == T_TRIM else (0, len(composed))
                piece = composed[lo:hi]
                s0 = len(st.head)
                u0 = s0 + len(sys_piece) + len(st.tail)
                content_spans[0] = _clamp(lo, hi, s0, s0 + len(sys_piece), pos)
                content_spans[i] = _clamp(lo, hi, u0, len(composed), pos)
                at = put(piece)
            else:
                if turn.transform == T_THINK_BLOCK:
                    piece, skip = think_block(content, reasoning, last, i > query)
                elif turn.transform == T_PAST_AFTER_THINK:
                    piece = past_after_think(content, last)
                else:
                    piece = _apply(turn.transform, content)
                at = put(piece)
                content_spans[i] = (at + skip, at + len(piece))
            if turn.generated:
                end_len = turn.end_len
                if last:
                    end_len = turn.last_end_gen if add_generation_prompt else turn.last_end_nogen
                generation_spans.append((at, at + len(piece) + end_len))
            if last:  # the last message's tail ends the prompt
                put(turn.last_gen if add_generation_prompt else turn.last_nogen)
                return "".join(out), content_spans, generation_spans
            put(turn.close_tail if closes else turn.tail)

        put(plan.generation_prompt if add_generation_prompt else plan.no_generation_prompt)
        return "".join(out), content_spans, generation_spans

    def render(
        self,
        messages: Sequence[Mapping[str, Any]],
        add_generation_prompt: bool = False,
        variables: Mapping[str, Any] | None = None,
    ) -> str | None:
        """The prompt text, or None when this input is not covered (render it with Jinja instead).

        `variables` are the call's template variables; only the `handled` ones are read.
        """
        renderer = self._for_call(variables)
        built = None if renderer is None else renderer._build(messages, add_generation_prompt)
        return None if built is None else built[0]

    def render_batch(
        self,
        conversations: Sequence[Sequence[Mapping[str, Any]]],
        add_generation_prompt: bool = False,
        variables: Mapping[str, Any] | None = None,
    ) -> list[str | None]:
        """`render` over many conversations (the clock is read once per conversation, as transformers
        reads it once per render); None marks each one not covered."""
        return [self.render(messages, add_generation_prompt, variables) for messages in conversations]

    def render_spans(
        self,
        messages: Sequence[Mapping[str, Any]],
        add_generation_prompt: bool = False,
        variables: Mapping[str, Any] | None = None,
    ) -> Spans | None:
        """(text, content span per message or None if not printed, generation spans), or None if not covered.

        A content span covers the content as printed (trimmed, JSON-quoted, after a think block, ...); a
        generation span covers an assistant turn's printed text plus its end-of-turn marker.
        """
        renderer = self._for_call(variables)
        return None if renderer is None else renderer._build(messages, add_generation_prompt)
