"""Jinja source generated from a `Format`, so that a format written as data always has a template.

The generated source is ordinary Jinja that transformers, minijinja and llama.cpp-style engines all read
the same way: every character it prints is inside a `{{ }}` expression (so trim_blocks, lstrip_blocks
and the trailing newline change nothing), strings are concatenated with `~` (which never raises on an
undefined token), and it uses only `if`, `for`, `set`, slicing and the `trim` filter. It prints exactly
what the compiled builder prints for the conversations the builder covers, by construction: each
statement below is one step of `chatfmt._fast` in the same order, and tests check it against
transformers on generated formats and conversations.

Only the features pattern formats use (and a few as simple) can be written this way; `format_jinja`
raises `UnsupportedFormat` naming the first feature it cannot express.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from .._values import field_defaults
from .spec import DECLINE, ROLE, SKIP, Format, Reject, Rule, SystemPolicy, Token, Transform, Turn

__all__ = ["UnsupportedFormat", "format_jinja"]

_CONTENT = object()  # where the message's content goes in a turn's expression


class UnsupportedFormat(ValueError):
    """The format uses a feature that chatfmt does not generate Jinja for; write the Jinja source yourself."""


_ESCAPES = {"\\": "\\\\", "'": "\\'", "\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _literal(text: str) -> str:
    """A single-quoted Jinja string literal. Control characters are escaped so the source stays one line,
    and lone surrogates so that it can be saved as UTF-8 (`chat_template.jinja`)."""
    out = []
    for char in text:
        if char in _ESCAPES:
            out.append(_ESCAPES[char])
        elif ord(char) < 0x20 or char in "\x7f\x85\u2028\u2029" or 0xD800 <= ord(char) <= 0xDFFF:
            out.append(f"\\u{ord(char):04x}")
        else:
            out.append(char)
    return "'" + "".join(out) + "'"


# Names the generated template binds itself; a special token cannot be read under one of them.
_LOCAL_NAMES = frozenset(
    ("messages", "message", "loop_messages", "loop", "content", "system_text", "add_generation_prompt")
)


def _expression(pieces: list[object], content: str = "") -> str:
    """`a ~ b ~ c` for literal strings, tokens, the ROLE placeholder and the content; "" when it prints nothing."""
    parts: list[str] = []
    pending = ""
    for piece in pieces:
        if isinstance(piece, str):
            pending += piece
            continue
        if pending:
            parts.append(_literal(pending))
            pending = ""
        if isinstance(piece, Token):
            if not piece.name.isidentifier() or piece.name in _LOCAL_NAMES:
                raise UnsupportedFormat(f"a special token named {piece.name!r} cannot be read by generated Jinja")
            parts.append(piece.name)
        elif piece is ROLE:
            parts.append("message['role']")
        elif piece is _CONTENT:
            parts.append(content)
        else:
            raise UnsupportedFormat(f"{piece!r} cannot be generated")
    if pending:
        parts.append(_literal(pending))
    return " ~ ".join(parts)


def _content(turn: Turn, value: str) -> str:
    if turn.transform is Transform.TRIM:
        return f"({value} | trim)"
    return value


# The fields the generator writes. Any other field must keep its default: a format that sets one (a
# feature added to `Format` later included) is refused rather than written without it.
_FORMAT_FIELDS = frozenset(
    (
        "name",
        "source",
        "roles",
        "other",
        "start",
        "system",
        "system_turn",
        "default_system",
        "system_error",
        "after_system",
        "loop_prefix",
        "generation_prompt",
        "no_generation_prompt",
    )
)
_TURN_FIELDS = frozenset(("prefix", "end", "sep", "transform", "generated"))
_POLICIES = (SystemPolicy.TURN, SystemPolicy.LEAD, SystemPolicy.FOLD, SystemPolicy.REJECT)


def _unsupported_fields(obj: Any, written: frozenset[str], where: str) -> None:
    for name, default in field_defaults(obj).items():
        if name not in written and getattr(obj, name) != default:
            raise UnsupportedFormat(f"{where}: {name} cannot be generated")


def _check_turn(turn: Turn, where: str) -> None:
    _unsupported_fields(turn, _TURN_FIELDS, where)
    if turn.transform not in (Transform.NONE, Transform.TRIM):
        raise UnsupportedFormat(
            f"{where}: only the none and trim transforms can be generated, not {turn.transform.value}"
        )


def _check(fmt: Format) -> None:
    _unsupported_fields(fmt, _FORMAT_FIELDS, f"format {fmt.name!r}")
    if fmt.system not in _POLICIES:
        raise UnsupportedFormat(f"system policy {fmt.system.value} cannot be generated")
    if fmt.system is SystemPolicy.TURN and fmt.default_system is not None:
        raise UnsupportedFormat("a default system message is generated only with the lead system policy")
    for role, rule in (*fmt.named_rules(), ("<other>", fmt.other)):
        if rule is DECLINE:
            raise UnsupportedFormat(f"role {role}: DECLINE has no Jinja equivalent")
        if isinstance(rule, Turn):
            _check_turn(rule, f"role {role}")
    if fmt.system_turn is not None and fmt.system is not SystemPolicy.TURN:
        _check_turn(fmt.system_turn, "system_turn")


class _Writer:
    """Indented lines of Jinja; every tag strips the whitespace before it, so indentation is for readers."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.depth = 0

    def tag(self, body: str, *, opens: bool = False, closes: bool = False) -> None:
        self.depth -= closes
        self.lines.append("    " * self.depth + "{%- " + body + " %}")
        self.depth += opens

    def put(self, expression: str) -> None:
        if expression:
            self.lines.append("    " * self.depth + "{{- " + expression + " }}")


def _turn_pieces(turn: Turn) -> list[object]:
    return [*turn.prefix, _CONTENT, *turn.end, *turn.sep]


def _write_rule(out: _Writer, rule: Rule, content: str) -> None:
    if isinstance(rule, Turn):
        out.put(_expression(_turn_pieces(rule), _content(rule, content)))
    elif isinstance(rule, Reject):
        out.put(f"raise_exception({_literal(rule.message)})")
    # SKIP prints nothing


def _write_loop(out: _Writer, fmt: Format, content: str) -> None:
    named = [(role, rule) for role, rule in fmt.named_rules() if rule is not fmt.other]
    if not named:
        _write_rule(out, fmt.other, content)
        return
    for index, (role, rule) in enumerate(named):
        test = f"message['role'] == {_literal(role)}"
        if index == 0:
            out.tag(f"if {test}", opens=True)
        else:
            out.tag(f"elif {test}", opens=True, closes=True)
        _write_rule(out, rule, content)
    if fmt.other is not SKIP:
        out.tag("else", opens=True, closes=True)
        _write_rule(out, fmt.other, content)
    out.tag("endif", closes=True)


@lru_cache(maxsize=256)
def format_jinja(fmt: Format) -> str:
    """Jinja source that renders every conversation the compiled builder covers exactly as `fmt` does."""
    _check(fmt)
    out = _Writer()
    name = fmt.name.replace("#}", "# }")  # a name cannot end the comment early
    out.lines.append(f"{{#- Generated by chatfmt from the format {name!r}: edit the format, not this file. -#}}")
    out.put(_expression(list(fmt.start)))
    st = fmt.system_turn
    content = "message['content']"
    first_content = "messages[0]['content']"
    if fmt.system is SystemPolicy.REJECT:
        out.tag("if messages[0]['role'] == 'system'", opens=True)
        out.put(f"raise_exception({_literal(fmt.system_error or '')})")
        out.tag("endif", closes=True)
    if fmt.system is SystemPolicy.LEAD:
        assert st is not None
        out.tag("if messages[0]['role'] == 'system'", opens=True)
        out.put(_expression(_turn_pieces(st), _content(st, first_content)))
        out.tag("set loop_messages = messages[1:]")
        out.tag("else", opens=True, closes=True)
        if fmt.default_system is not None:
            default = (fmt.default_system,) if isinstance(fmt.default_system, str) else fmt.default_system
            out.put(_expression([*st.prefix, *default, *st.end, *st.sep]))
        out.tag("set loop_messages = messages")
        out.tag("endif", closes=True)
    elif fmt.system is SystemPolicy.FOLD:
        assert st is not None
        out.tag("if messages[0]['role'] == 'system'", opens=True)
        out.tag(f"set system_text = {_expression(_turn_pieces(st), _content(st, first_content))}")
        out.tag("set loop_messages = messages[1:]")
        out.tag("else", opens=True, closes=True)
        out.tag("set system_text = ''")
        out.tag("set loop_messages = messages")
        out.tag("endif", closes=True)
        content = "content"
    else:
        out.tag("set loop_messages = messages")
    out.put(_expression(list(fmt.after_system)))
    out.tag("for message in loop_messages", opens=True)
    if fmt.system is SystemPolicy.FOLD:
        out.tag("if loop.first", opens=True)
        out.tag("set content = system_text ~ message['content']")
        out.tag("else", opens=True, closes=True)
        out.tag("set content = message['content']")
        out.tag("endif", closes=True)
    out.put(_expression(list(fmt.loop_prefix)))
    _write_loop(out, fmt, content)
    out.tag("endfor", closes=True)
    if fmt.generation_prompt or fmt.no_generation_prompt:
        out.tag("if add_generation_prompt", opens=True)
        out.put(_expression(list(fmt.generation_prompt)))
        if fmt.no_generation_prompt:
            out.tag("else", opens=True, closes=True)
            out.put(_expression(list(fmt.no_generation_prompt)))
        out.tag("endif", closes=True)
    return "\n".join(out.lines) + "\n"
