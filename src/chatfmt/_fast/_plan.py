"""Resolve a `Format` and a special-tokens mapping into constant strings, once, for both builders.

Both renderers (`_render_c`, `_render_py`) start from the same `Plan`, so the two share every decision
that does not depend on the conversation: which tokens are defined, which turns are usable, and the
pieces merged so that a message costs at most three copies (head, content, tail).

A dynamic format (one with `Date` pieces or a `Switch`) is rendered through static variants: for each
call, `Variants.key` reads the call's switch value and the clock (once), and `static_variant` turns the
format into the plain one that call renders, which the builders compile once and keep.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import TypedDict

from .. import clock
from ..formats.spec import (
    DECLINE,
    ROLE,
    SKIP,
    Date,
    Format,
    Reject,
    Rule,
    SystemPolicy,
    Text,
    Token,
    Transform,
    Turn,
)

# Turn kinds and transforms as small ints, for the C builder's switch statements.
TURN, SKIPPED, REJECTED, DECLINED = 0, 1, 2, 3
T_NONE, T_TRIM, T_JSON, T_AFTER_THINK, T_LSTRIP_NEWLINES, T_PAST_AFTER_THINK, T_THINK_BLOCK, T_RSTRIP = range(8)
SYS_TURN, SYS_LEAD, SYS_FOLD, SYS_REJECT, SYS_COLLECT, SYS_LAST, SYS_INLINE = 0, 1, 2, 3, 4, 5, 6

_TRANSFORMS = {
    Transform.NONE: T_NONE,
    Transform.TRIM: T_TRIM,
    Transform.JSON: T_JSON,
    Transform.AFTER_THINK: T_AFTER_THINK,
    Transform.LSTRIP_NEWLINES: T_LSTRIP_NEWLINES,
    Transform.PAST_AFTER_THINK: T_PAST_AFTER_THINK,
    Transform.THINK_BLOCK: T_THINK_BLOCK,
    Transform.RSTRIP: T_RSTRIP,
}
_POLICIES = {
    SystemPolicy.TURN: SYS_TURN,
    SystemPolicy.LEAD: SYS_LEAD,
    SystemPolicy.FOLD: SYS_FOLD,
    SystemPolicy.REJECT: SYS_REJECT,
    SystemPolicy.COLLECT: SYS_COLLECT,
    SystemPolicy.LAST: SYS_LAST,
    SystemPolicy.INLINE: SYS_INLINE,
}


@dataclass(frozen=True)
class PlanTurn:
    """One role's turn with every constant resolved.

    A message prints `head + [role + role_tail] + content + tail`, where head is `open_head` when a
    group opens at this message and `head` otherwise, and tail is `close_tail` when a group closes.
    The conversation's last message prints `last_gen`/`last_nogen` (per add_generation_prompt) as its
    tail instead, and nothing follows it: those texts already end with the generation prompt (and, for
    the system turn, with after_system). A `skip_empty` turn prints only the loop prefix for "".
    """

    kind: int
    role: str | None  # None for the generic turn (roles not named by the format)
    interp: bool = False  # the prefix interpolates the message's role between head and role_tail
    head: str = ""
    open_head: str = ""
    role_tail: str = ""
    tail: str = ""
    close_tail: str = ""
    end_len: int = 0  # length of the end-of-turn marker at the start of tail
    transform: int = T_NONE
    generated: bool = False
    grouped: bool = False
    is_user: bool = False
    is_system: bool = False
    message: str = ""  # the TemplateError message of a rejected role
    skip_empty: bool = False
    last_gen: str = ""
    last_nogen: str = ""
    last_end_gen: int = 0  # end_len for the last message, with and without the generation prompt
    last_end_nogen: int = 0


@dataclass(frozen=True)
class Plan:
    usable: bool  # false when a constant needs a token that is undefined: every input is declined
    start: str
    after_system: str
    generation_prompt: str
    no_generation_prompt: str
    system: int
    system_turn: PlanTurn | None  # kind DECLINED when it needs an undefined token
    default_block: str | None  # the whole system slot when there is no system message (LEAD, TURN)
    loop_prefix: str  # what a skipped message prints
    system_error: str
    collect_sep: str
    alternation_error: str | None
    turns: tuple[PlanTurn, ...]  # named roles, always including user, system and assistant
    other: PlanTurn
    declined_keys: tuple[str, ...]
    query_scan: bool  # some turn prints a think block, which depends on where the last user query is
    default_if_empty: bool
    declined_system_text: tuple[str, ...]


def resolve_text(text: Text, tokens: Mapping[str, object]) -> str | None:
    """The text with tokens substituted; None when it needs an undefined (or non-string) token."""
    out = []
    for piece in text:
        if isinstance(piece, Token):
            value = tokens.get(piece.name)
            if value is None:
                if piece.required:
                    return None
                value = ""
            elif type(value) is not str:
                return None  # Jinja would print str(value); not worth mirroring
            out.append(value)
        elif piece is ROLE or isinstance(piece, Date):
            raise ValueError("ROLE must be split off, and dates substituted, before resolving")
        else:
            out.append(piece)  # type: ignore[arg-type]  # a str: mypy cannot narrow out ROLE with `is`
    return "".join(out)


class _Flags(TypedDict):
    """The `PlanTurn` fields every kind of turn sets, passed as keyword arguments."""

    role: str | None
    is_user: bool
    is_system: bool


def _last_end(text: str, end: str) -> int:
    return len(end) if text.startswith(end) else 0


def _turn(
    rule: object,
    role: str | None,
    tokens: Mapping[str, object],
    loop_prefix: str | None,
    ending: tuple[str, str] = ("", ""),
) -> PlanTurn:
    """`ending`: what follows the last message when the turn does not override it (with, without prompt)."""
    is_user, is_system = role == "user", role == "system"
    flags: _Flags = {"role": role, "is_user": is_user, "is_system": is_system}
    if rule is SKIP:
        if loop_prefix is None:
            return PlanTurn(DECLINED, **flags)
        return PlanTurn(SKIPPED, head=loop_prefix, **flags)
    if rule is DECLINE:
        return PlanTurn(DECLINED, **flags)
    if isinstance(rule, Reject):
        return PlanTurn(REJECTED, message=rule.message, **flags)
    assert isinstance(rule, Turn)
    prefix = rule.prefix
    role_tail_text: Text = ()
    interp = False
    if ROLE in prefix:
        at = prefix.index(ROLE)
        if role is None:
            prefix, role_tail_text, interp = prefix[:at], prefix[at + 1 :], True
        else:
            prefix = prefix[:at] + (role,) + prefix[at + 1 :]
    last = rule.last or ((), ())
    parts = [
        resolve_text(t, tokens)
        for t in (prefix, role_tail_text, rule.end, rule.sep, rule.group_open, rule.group_close, *last)
    ]
    resolved = [p for p in parts if p is not None]
    if loop_prefix is None or len(resolved) < len(parts):  # some text needs an undefined token
        return PlanTurn(DECLINED, **flags)
    head, role_tail, end, sep, group_open, group_close, last_gen, last_nogen = resolved
    if rule.last is None:
        last_gen = end + sep + group_close + ending[0]
        last_nogen = end + sep + group_close + ending[1]
    return PlanTurn(
        TURN,
        interp=interp,
        head=loop_prefix + head,
        open_head=loop_prefix + group_open + head,
        role_tail=role_tail,
        tail=end + sep,
        close_tail=end + sep + group_close,
        end_len=len(end),
        transform=_TRANSFORMS[rule.transform],
        generated=rule.generated,
        grouped=bool(rule.group_open or rule.group_close),
        skip_empty=rule.skip_empty,
        last_gen=last_gen,
        last_nogen=last_nogen,
        last_end_gen=_last_end(last_gen, end),
        last_end_nogen=_last_end(last_nogen, end),
        **flags,
    )


def build_plan(fmt: Format, tokens: Mapping[str, object]) -> Plan:
    """Resolve `fmt` against `tokens` (a special_tokens_map: name -> str; missing means undefined)."""
    consts = [
        resolve_text(t, tokens)
        for t in (fmt.start, fmt.after_system, fmt.generation_prompt, fmt.no_generation_prompt, fmt.loop_prefix)
    ]
    usable = all(c is not None for c in consts)
    start, after_system, gen, no_gen, loop_prefix = (c or "" for c in consts)
    lp = loop_prefix if usable else None

    names = dict(fmt.roles)
    for role in ("user", "system", "assistant"):
        names.setdefault(role, fmt.other)
    turns = tuple(_turn(rule, role, tokens, lp, (gen, no_gen)) for role, rule in sorted(names.items()))
    other = _turn(fmt.other, None, tokens, lp, (gen, no_gen))

    system_turn = None
    default_block = None
    if fmt.system_turn is not None:
        system_turn = _turn(fmt.system_turn, "system", tokens, "", (after_system + gen, after_system + no_gen))
        default_text = fmt.default_system
        default = resolve_text((default_text,) if isinstance(default_text, str) else default_text or (), tokens)
        if system_turn.kind != TURN or default is None:
            usable = False  # the system slot is printed for every conversation of these policies
        elif default_text is not None:
            default_block = system_turn.head + default + system_turn.tail
    return Plan(
        usable=usable,
        start=start,
        after_system=after_system,
        generation_prompt=gen,
        no_generation_prompt=no_gen,
        system=_POLICIES[fmt.system],
        system_turn=system_turn,
        default_block=default_block,
        loop_prefix=loop_prefix,
        system_error=fmt.system_error or "",
        collect_sep=fmt.collect_sep,
        alternation_error=fmt.alternation_error,
        turns=turns,
        other=other,
        declined_keys=tuple(sorted(fmt.declined_keys)),
        query_scan=any(turn.transform == T_THINK_BLOCK for turn in (*turns, other)),
        default_if_empty=fmt.default_if_empty,
        declined_system_text=fmt.declined_system_text,
    )


class Variants:
    """How the calls of a dynamic format differ: by its switch's value and by today's date.

    Built once per renderer, so a call costs a dict lookup, one clock read and a strftime per date
    format (the date is formatted on every call, as `strftime_now` does: the locale may change).
    """

    __slots__ = ("_dates", "_switch", "format")

    def __init__(self, fmt: Format) -> None:
        self.format = fmt
        self._switch = fmt.switch
        self._dates = (fmt.dates, fmt.switch.then.dates if fmt.switch is not None else ())

    def key(self, variables: Mapping[str, object] | None, today: bool = True) -> tuple[bool, tuple[str, ...]] | None:
        """Which static variant renders this call: (switched, today's date in each of the variant's date
        formats), reading the clock once; None when the switch's value is not a bool (Jinja decides).

        Without `today` the dates are left empty and the clock unread: what a variant covers does not
        depend on the date it prints, so `covers` asks this way."""
        switched = False
        switch = self._switch
        if switch is not None and variables and switch.variable in variables:
            value = variables[switch.variable]
            if type(value) is not bool:
                return None
            switched = value is switch.when
        formats = self._dates[switched]
        if not formats:
            return switched, ()
        if not today:
            return switched, ("",) * len(formats)
        moment = clock.now()
        return switched, tuple(moment.strftime(date_format) for date_format in formats)


def _dated(text: Text, dates: Mapping[str, str]) -> Text:
    return tuple(dates[piece.format] if isinstance(piece, Date) else piece for piece in text)


def _dated_turn(turn: Turn, dates: Mapping[str, str]) -> Turn:
    last = None if turn.last is None else (_dated(turn.last[0], dates), _dated(turn.last[1], dates))
    return replace(
        turn,
        prefix=_dated(turn.prefix, dates),
        end=_dated(turn.end, dates),
        sep=_dated(turn.sep, dates),
        group_open=_dated(turn.group_open, dates),
        group_close=_dated(turn.group_close, dates),
        last=last,
    )


def _dated_rule(rule: Rule, dates: Mapping[str, str]) -> Rule:
    return _dated_turn(rule, dates) if isinstance(rule, Turn) else rule


def static_variant(fmt: Format, key: tuple[bool, tuple[str, ...]]) -> Format:
    """The plain format (no switch, no dates) that renders a call with this `Variants.key`."""
    switched, values = key
    chosen = fmt.switch.then if switched and fmt.switch is not None else fmt
    dates = dict(zip(chosen.dates, values))
    default = chosen.default_system
    return replace(
        chosen,
        switch=None,
        roles={role: _dated_rule(rule, dates) for role, rule in chosen.named_rules()},
        other=_dated_rule(chosen.other, dates),
        system_turn=None if chosen.system_turn is None else _dated_turn(chosen.system_turn, dates),
        default_system=default if default is None or isinstance(default, str) else _dated(default, dates),
        start=_dated(chosen.start, dates),
        after_system=_dated(chosen.after_system, dates),
        loop_prefix=_dated(chosen.loop_prefix, dates),
        generation_prompt=_dated(chosen.generation_prompt, dates),
        no_generation_prompt=_dated(chosen.no_generation_prompt, dates),
    )
