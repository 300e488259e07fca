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


def _expression(pieces: list[object], content: str = "", role: str = "message['role']") -> str:
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
            parts.append(piece.name)
        elif piece is ROLE:
            parts.append(role)
        else:
            parts.append(content)
    if pending:
        parts.append(_literal(pending))
    return " ~ ".join(parts)


def _content(turn: Turn, value: str) -> str:
    if turn.transform is Transform.TRIM:
        return f"({value} | trim)"
    return value


def _check_turn(turn: Turn, where: str) -> None:
    if turn.transform not in (Transform.NONE, Transform.TRIM):
        raise UnsupportedFormat(f"{where}: only the none and trim transforms can be generated, not {turn.transform.value}")
    if turn.group_open or turn.group_close:
        raise UnsupportedFormat(f"{where}: grouped turns cannot be generated")
    if turn.skip_empty:
        raise UnsupportedFormat(f"{where}: skip_empty cannot be generated")
    if turn.last is not None:
        raise UnsupportedFormat(f"{where}: a turn that overrides its last tail cannot be generated")


def _check(fmt: Format) -> None:
    if fmt.system not in (SystemPolicy.TURN, SystemPolicy.LEAD, SystemPolicy.FOLD, SystemPolicy.REJECT):
        raise UnsupportedFormat(f"system policy {fmt.system.value} cannot be generated")
    if fmt.system is SystemPolicy.TURN and fmt.default_system is not None:
        raise UnsupportedFormat("a default system message is generated only with the lead system policy")
    if fmt.alternation_error is not None:
        raise UnsupportedFormat("alternation_error cannot be generated")
    if fmt.declined_keys:
        raise UnsupportedFormat("declined_keys cannot be generated")
    for role, rule in (*fmt._role_pairs(), ("<other>", fmt.other)):
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
    named = [(role, rule) for role, rule in fmt._role_pairs() if rule is not fmt.other]
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
            out.put(_expression([*st.prefix, fmt.default_system, *st.end, *st.sep]))
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
