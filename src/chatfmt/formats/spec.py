"""Declarative chat formats: plain data that says where a known chat template puts which text.

A `Format` describes one reference Jinja template precisely enough for the compiled string builder
(`chatfmt._fast`) to reproduce its output byte for byte, without Jinja, for the inputs it covers:
conversations of `{"role": str, "content": str}` messages. It is frozen and hashable so it can key
caches and be compared; it holds no code, only text and a few closed choices (`Transform`,
`SystemPolicy`), because every choice is something the builder must implement twice (C and Python).

Text is written as a tuple of pieces: literal strings, `Token(...)` references to special tokens
(resolved when a renderer is compiled, since tokens are inputs, not part of the format), `Date(...)`
(today's date as the template's `strftime_now` prints it, read once per render) and the `ROLE`
placeholder (the message's role, for generic turns such as ChatML's `<|im_start|>{role}\\n`).
A `Switch` names a boolean template variable (`enable_thinking`) and the format used when a call sets it.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping

from .._values import value_class

__all__ = [
    "DECLINE",
    "ROLE",
    "Date",
    "SKIP",
    "Format",
    "Reject",
    "RoleTable",
    "Rule",
    "Switch",
    "SystemPolicy",
    "Text",
    "Token",
    "Transform",
    "Turn",
]


@value_class()
class Token:
    """A special token printed by the template (`{{ bos_token }}`), resolved from the tokens mapping.

    `required` is true where the template *concatenates* the token (`bos_token + '[INST] '`): Jinja then
    raises on an undefined token instead of printing "", so the builder declines whatever would print it.
    """

    name: str
    required: bool = False


@value_class()
class Date:
    """Today's date as `strftime_now(format)` prints it: the clock is read once per render (see chatfmt.clock)."""

    format: str


class _Placeholder(enum.Enum):
    """Text that is not known until a message is printed."""

    ROLE = "role"  # the message's own role string

    def __repr__(self) -> str:
        return self.name


ROLE = _Placeholder.ROLE

Piece = str | Token | Date | _Placeholder
Text = tuple[Piece, ...]


class Transform(enum.Enum):
    """What the template does to a message's content before printing it."""

    NONE = "none"
    TRIM = "trim"  # `| trim` or `.strip()`: Python str.strip(), Unicode whitespace
    RSTRIP = "rstrip"  # `.rstrip()`: Python str.rstrip()
    JSON = "json"  # `| tojson` on a string: json.dumps(content, ensure_ascii=False)
    AFTER_THINK = "after_think"  # `content.split('</think>')[-1]` (DeepSeek drops past reasoning)
    LSTRIP_NEWLINES = "lstrip_newlines"  # `content.lstrip('\\n')` (SmolLM3's assistant turns)
    # QwQ: every message but the conversation's last prints `content.split('</think>')[-1].lstrip('\\n')`.
    PAST_AFTER_THINK = "past_after_think"
    # Qwen3: the reasoning (the message's reasoning field, else the text before `</think>` in the content)
    # is printed in a `<think>` block for the last message and for messages after the last user query
    # that have reasoning; every other message prints only the text after `</think>`.
    THINK_BLOCK = "think_block"


class SystemPolicy(enum.Enum):
    """What happens to system messages, because templates disagree on exactly this.

    TURN: a system message is an ordinary message, looked up in `roles` like any other. With
      `default_system` set, that text is printed once by `system_turn` before the loop when no message
      at all has the system role (DeepSeek-Coder).
    LEAD: a first system message leaves the loop and is printed once by `system_turn` before it; without
      one, `default_system` (if set) is printed there instead (SmolLM2, Qwen2.5, Llama-3.1, Command-R).
    FOLD: a first system message leaves the loop and is wrapped by `system_turn` into the content of the
      first loop message, before that message's transform (Llama-2's `<<SYS>>` inside `[INST]`).
    REJECT: a first system message raises TemplateError(`system_error`) (Gemma 1).
    COLLECT: every system message, wherever it is, is joined with `collect_sep` and printed by
      `system_turn` before the loop; the loop itself skips them (DeepSeek-V3).
    LAST: like COLLECT, but only the last system message is printed (DeepSeek-R1's Qwen distills).
    INLINE: a first system message leaves the loop; `system_turn` prints it right after the prefix of
      the first loop message, before that message's (separately transformed) content, and not at all
      when it is the only message (Gemma 3).
    """

    TURN = "turn"
    LEAD = "lead"
    FOLD = "fold"
    REJECT = "reject"
    COLLECT = "collect"
    LAST = "last"
    INLINE = "inline"


@value_class()
class Turn:
    """How one message is printed: `prefix + transform(content) + end + sep`.

    `end` is the end-of-turn marker; for `generated` turns (the assistant's) `content + end` is the
    generation span, the text a model learns to emit. `sep` follows the marker but is not generated.
    `group_open`/`group_close` wrap each run of consecutive messages with this role (Qwen2.5 puts a
    run of tool results inside one user turn).
    `skip_empty`: the message prints nothing at all when its content is "" (`{% if message['content'] %}`).
    `last`: when the message is the conversation's last one, the text printed after its content instead
      of `end + sep` and the format's generation prompt: a pair (with add_generation_prompt, without).
      Templates that leave the final turn open (Qwen1.5) or test `loop.last` (Tulu 3) need it. The
      generation span includes the end marker only where that text starts with it.
    """

    prefix: Text = ()
    end: Text = ()
    sep: Text = ()
    transform: Transform = Transform.NONE
    generated: bool = False
    group_open: Text = ()
    group_close: Text = ()
    skip_empty: bool = False
    last: tuple[Text, Text] | None = None

    def __post_init__(self) -> None:
        for name in ("end", "sep", "group_open", "group_close"):
            if ROLE in getattr(self, name):
                raise ValueError(f"ROLE may only appear in a turn's prefix, not in {name}")
        if sum(piece is ROLE for piece in self.prefix) > 1:
            raise ValueError("ROLE may appear at most once in a prefix")
        grouped = bool(self.group_open or self.group_close)
        if self.last is not None:
            if len(self.last) != 2 or not all(isinstance(text, tuple) for text in self.last):
                raise ValueError("last is a pair of texts: (with the generation prompt, without)")
            if any(ROLE in text for text in self.last):
                raise ValueError("ROLE may only appear in a turn's prefix, not in last")
            if grouped:
                raise ValueError("a grouped turn cannot override its last tail")
        if self.skip_empty and grouped:
            raise ValueError("a grouped turn cannot skip empty contents")


@value_class()
class Reject:
    """A role the template refuses: raises jinja2 TemplateError(message) where the template does."""

    message: str


class _Action(enum.Enum):
    SKIP = "skip"  # the template prints nothing for this role
    DECLINE = "decline"  # the builder does not cover this role; the caller falls back to Jinja


SKIP = _Action.SKIP
DECLINE = _Action.DECLINE

Rule = Turn | Reject | _Action
# Pass a dict; a Format stores it as a tuple of (role, rule) pairs sorted by role, to stay hashable.
RoleTable = Mapping[str, Rule] | tuple[tuple[str, Rule], ...]


@value_class()
class Switch:
    """A boolean template variable a call may pass (`enable_thinking=False`), read as the template reads it.

    A call that passes `variable` as `when` renders `then` instead of the format that holds the switch;
    absent, or passed as `not when`, it renders that format. Any value other than True or False is left
    to Jinja (its truthiness or `is false` test is not worth mirroring). `then` has no switch of its own.
    """

    variable: str
    when: bool
    then: Format

    def __post_init__(self) -> None:
        if self.then.switch is not None:
            raise ValueError("a switched format cannot switch again")


_CONTEXT_TRANSFORMS = (Transform.PAST_AFTER_THINK, Transform.THINK_BLOCK)


def _text_fields(obj: object, names: tuple[str, ...]) -> list[Text]:
    return [getattr(obj, name) for name in names]


@value_class()
class Format:
    """A chat format as data. See the module docstring; each field exists because some template needs it.

    name, source: the registry name and the corpus template file this mirrors (for parity tests).
    roles: role -> rule for roles the template names; pass a dict, it is stored as a sorted tuple of
      pairs so the format stays hashable (read it with `rule_for`). Any other role gets `other`.
    other: rule for every role not in `roles` (a generic `Turn` with ROLE, SKIP, a Reject or DECLINE).
    start: printed once at the very beginning (the BOS token, constant preamble).
    system, system_turn, default_system, system_error, collect_sep: the system-message policy
      (default_system is used by LEAD and TURN, see `SystemPolicy`).
    after_system: printed after the system slot whether or not anything was printed there.
    alternation_error: when set, the Llama-2 check `(role == 'user') != (index % 2 == 0)` over the loop
      messages raises TemplateError(alternation_error), before the message's own rule is applied.
    loop_prefix: printed at every loop iteration, whatever the role (whitespace the template leaves
      between its tags, as the Alpaca template does).
    generation_prompt / no_generation_prompt: printed at the end when add_generation_prompt is true /
      false (Phi-3 prints the EOS token when there is no prompt).
    declined_keys: message keys the template reads besides role and content (`tool_calls`): a message
      that has one is not covered.
    The other variables a template reads are not part of the format: they come from parsing its source
    (see `chatfmt.routing.Route`), and a call that passes one goes to Jinja, except a switch's.
    switch: a boolean variable the compiled path handles itself (see `Switch`).
    default_if_empty: LEAD only: a first system message whose content is empty once transformed prints
      `default_system` instead (SmolLM3's `{% if custom_instructions %}`).
    declined_system_text: LEAD only: a first system message containing any of these is declined, because
      the template reads commands out of it (SmolLM3's `/no_think`).
    """

    name: str
    source: str
    roles: RoleTable = ()
    other: Rule = SKIP
    start: Text = ()
    system: SystemPolicy = SystemPolicy.TURN
    system_turn: Turn | None = None
    default_system: str | Text | None = None
    system_error: str | None = None
    collect_sep: str = ""
    after_system: Text = ()
    alternation_error: str | None = None
    loop_prefix: Text = ()
    generation_prompt: Text = ()
    no_generation_prompt: Text = ()
    declined_keys: frozenset[str] = frozenset()
    switch: Switch | None = None
    default_if_empty: bool = False
    declined_system_text: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        roles: tuple[tuple[str, Rule], ...]
        if isinstance(self.roles, Mapping):
            roles = tuple(sorted(self.roles.items()))
        else:
            roles = tuple(self.roles)
        object.__setattr__(self, "roles", roles)
        object.__setattr__(self, "declined_keys", frozenset(self.declined_keys))
        for name in ("start", "after_system", "loop_prefix", "generation_prompt", "no_generation_prompt"):
            if ROLE in getattr(self, name):
                raise ValueError(f"ROLE has no meaning in {name}")
        for role, rule in roles:
            if not isinstance(role, str):
                raise TypeError(f"role names are strings, got {role!r}")
            if isinstance(rule, Turn) and ROLE in rule.prefix:
                raise ValueError(f"role {role!r} is known; write its prefix out instead of using ROLE")
        if isinstance(self.other, Turn) and (self.other.group_open or self.other.group_close):
            raise ValueError("groups are only supported for named roles")
        policy = self.system
        if policy in (
            SystemPolicy.LEAD,
            SystemPolicy.FOLD,
            SystemPolicy.COLLECT,
            SystemPolicy.LAST,
            SystemPolicy.INLINE,
        ):
            if self.system_turn is None:
                raise ValueError(f"system policy {policy.value} needs a system_turn")
            if ROLE in self.system_turn.prefix:
                raise ValueError("the system turn prints a known role; write it out")
        if policy is SystemPolicy.TURN and self.default_system is not None and self.system_turn is None:
            raise ValueError("a default system message needs a system_turn")
        if self.system_turn is not None and self.system_turn.skip_empty:
            raise ValueError("the system turn cannot skip empty contents")
        if self.system_turn is not None and self.system_turn.last is not None and self.after_system:
            raise ValueError("a system turn that overrides its last tail cannot have after_system")
        if policy is SystemPolicy.FOLD and any(
            isinstance(rule, Turn) and rule.skip_empty for rule in (self.other, *(r for _, r in roles))
        ):
            raise ValueError("with system policy fold no turn may skip empty contents")
        if policy is SystemPolicy.INLINE and any(
            rule is SKIP or (isinstance(rule, Turn) and rule.skip_empty)
            for rule in (self.other, *(r for _, r in roles))
        ):
            raise ValueError("with system policy inline every role prints its turn (no SKIP, no skip_empty)")
        if policy is SystemPolicy.REJECT and self.system_error is None:
            raise ValueError("system policy reject needs a system_error")
        if policy in (SystemPolicy.COLLECT, SystemPolicy.LAST) and self.rule_for("system") is not SKIP:
            raise ValueError(f"with system policy {policy.value} the loop must SKIP system messages")
        if self.system_turn is not None and self.system_turn.transform in _CONTEXT_TRANSFORMS:
            raise ValueError("a system turn cannot use a transform that depends on the conversation")
        if (self.default_if_empty or self.declined_system_text) and policy is not SystemPolicy.LEAD:
            raise ValueError("default_if_empty and declined_system_text need system policy lead")
        if self.default_if_empty and (self.default_system is None or self.system_turn.last is not None):  # type: ignore[union-attr]
            raise ValueError("default_if_empty needs a default_system and a system turn without a last tail")
        if (
            policy is SystemPolicy.FOLD
            and self.system_turn is not None
            and self.system_turn.transform
            not in (
                Transform.NONE,
                Transform.TRIM,
            )
        ):
            raise ValueError("a folded system message supports only NONE or TRIM")

    def named_rules(self) -> tuple[tuple[str, Rule], ...]:
        """`roles` as `__post_init__` stores it: (role, rule) pairs sorted by role."""
        if isinstance(self.roles, Mapping):
            raise TypeError("Format.roles is converted to a tuple of pairs by __post_init__")
        return self.roles

    def rule_for(self, role: str) -> Rule:
        """The rule applied to a message with this role."""
        for name, rule in self.named_rules():
            if name == role:
                return rule
        return self.other

    def _texts(self) -> list[Text]:
        """Every text of the format, for the token and date inventories."""
        texts: list[Text] = _text_fields(
            self, ("start", "after_system", "loop_prefix", "generation_prompt", "no_generation_prompt")
        )
        turns = [rule for _, rule in self.named_rules() if isinstance(rule, Turn)]
        if isinstance(self.other, Turn):
            turns.append(self.other)
        if self.system_turn is not None:
            turns.append(self.system_turn)
        for turn in turns:
            texts += _text_fields(turn, ("prefix", "end", "sep", "group_open", "group_close"))
            texts += list(turn.last or ())
        if isinstance(self.default_system, tuple):
            texts.append(self.default_system)
        return texts

    @property
    def tokens(self) -> frozenset[str]:
        """Names of the special tokens this format (or its switched variant) prints."""
        names = frozenset(piece.name for text in self._texts() for piece in text if isinstance(piece, Token))
        return names | (self.switch.then.tokens if self.switch is not None else frozenset())

    @property
    def dates(self) -> tuple[str, ...]:
        """The strftime formats of the `Date` pieces this format prints (not its switched variant's), sorted."""
        return tuple(sorted({piece.format for text in self._texts() for piece in text if isinstance(piece, Date)}))

    @property
    def dynamic(self) -> bool:
        """Whether a render depends on more than the messages: the clock or a switch."""
        return self.switch is not None or bool(self.dates)

    @property
    def handled(self) -> frozenset[str]:
        """Template variables a call may pass and still be rendered by the compiled path (the switch's)."""
        return frozenset() if self.switch is None else frozenset({self.switch.variable})
