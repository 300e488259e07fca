"""Pure-Python string builder: the reference twin of `_render_c`, same names, same results.

Used when the extension is not built, on non-CPython, or with CHATFMT_NO_EXTENSIONS=1. It is written
for clarity first; `_render_c` follows the same steps with one preallocated string.

A renderer *declines* (returns None) any input it cannot vouch for: the caller then renders with
Jinja. It raises jinja2's TemplateError exactly where the reference template calls raise_exception.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from ..formats.spec import Format
from ._plan import (
    DECLINED,
    REJECTED,
    SKIPPED,
    SYS_COLLECT,
    SYS_FOLD,
    SYS_LEAD,
    SYS_REJECT,
    SYS_TURN,
    T_JSON,
    T_NONE,
    T_TRIM,
    Plan,
    PlanTurn,
    build_plan,
)

__all__ = ["Renderer", "Spans"]

Span = tuple[int, int]
Spans = tuple[str, list[Span | None], list[Span]]
_Item = tuple[PlanTurn, str, str]


def _template_error(message: str) -> Exception:
    from jinja2.exceptions import TemplateError

    return TemplateError(message)


def _apply(transform: int, content: str) -> str:
    if transform == T_NONE:
        return content
    if transform == T_TRIM:
        return content.strip()
    if transform == T_JSON:
        return json.dumps(content, ensure_ascii=False)
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

    __slots__ = ("_by_role", "_plan", "_tokens", "format")

    def __init__(self, fmt: Format, special_tokens: Mapping[str, Any] | None = None) -> None:
        self.format = fmt
        self._tokens = dict(special_tokens or {})
        self._plan: Plan = build_plan(fmt, self._tokens)
        self._by_role = {turn.role: turn for turn in self._plan.turns}

    def __reduce__(self) -> tuple[type[Renderer], tuple[Format, dict[str, Any]]]:
        return Renderer, (self.format, self._tokens)

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
            role = content = None
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
            items.append((turn, role, content))
        if plan.system == SYS_FOLD and items[0][0].is_system and len(items) > 1:
            target = items[1][0]
            if target.transform not in (T_NONE, T_TRIM):
                return None
        return items

    def covers(self, messages: object) -> bool:
        """Whether `render` gives the reference result for these messages (a string or the same error)."""
        return self._scan(messages) is not None

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
        first = 1 if has_system and policy in (SYS_LEAD, SYS_FOLD) else 0
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
        if policy == SYS_LEAD and has_system:
            assert st is not None
            put(st.head)
            piece = _apply(st.transform, items[0][2])
            at = put(piece)
            content_spans[0] = (at, at + len(piece))
            if n == 1:  # the system message is the last one: its tail ends the prompt
                put(st.last_gen if add_generation_prompt else st.last_nogen)
                return "".join(out), content_spans, generation_spans
            put(st.tail)
        elif policy == SYS_LEAD and plan.default_block is not None:
            put(plan.default_block)
        elif policy == SYS_TURN and plan.default_block is not None and not any(it[0].is_system for it in items):
            put(plan.default_block)
        elif policy == SYS_COLLECT:
            assert st is not None
            collected = [i for i in range(n) if items[i][0].is_system]
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
            turn, role, content = items[i]
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
                piece = _apply(turn.transform, content)
                at = put(piece)
                content_spans[i] = (at, at + len(piece))
            last = i == n - 1
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

    def render(self, messages: Sequence[Mapping[str, Any]], add_generation_prompt: bool = False) -> str | None:
        """The prompt text, or None when this input is not covered (render it with Jinja instead)."""
        built = self._build(messages, add_generation_prompt)
        return None if built is None else built[0]

    def render_batch(
        self, conversations: Sequence[Sequence[Mapping[str, Any]]], add_generation_prompt: bool = False
    ) -> list[str | None]:
        """`render` over many conversations; None marks each one not covered."""
        return [self.render(messages, add_generation_prompt) for messages in conversations]

    def render_spans(self, messages: Sequence[Mapping[str, Any]], add_generation_prompt: bool = False) -> Spans | None:
        """(text, content span per message or None if not printed, generation spans), or None if not covered.

        A content span covers the content as printed (trimmed, JSON-quoted, ...); a generation span
        covers an assistant turn's printed content plus its end-of-turn marker.
        """
        return self._build(messages, add_generation_prompt)
