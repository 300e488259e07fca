"""Formats from per-role patterns: `"<|user|>{content}\\n"` per role instead of Jinja or `Turn` objects.

A pattern is the text of one message with `{content}` where the content goes, `{role}` (in the generic
pattern, key `"*"`) where the role goes, and `{bos_token}`, `{eos_token}` or any `{<name>_token}` where
a special token goes; `{{` and `}}` are literal braces, as in `str.format`. Everything before
`{content}` is the turn's prefix; everything after it is its end, except trailing whitespace, which
separates turns and is not part of what the model generates (the generation span of a generated turn is
its content plus its end). A pattern of None makes a role print nothing.

`format_from_patterns` turns patterns into a `Format` (the compiled builder's input) and
`chatfmt.formats.jinja_source.format_jinja` turns that Format into Jinja, so a pattern format has both
engines with no probe renders: the Jinja is derived from the format, not paired with it.
The same options can come from a small TOML file (`read_toml`), which is what a plugin or a model repo
ships.
"""

from __future__ import annotations

import string
import sys
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from .spec import ROLE, SKIP, Format, Piece, Reject, Rule, SystemPolicy, Text, Token, Transform, Turn

__all__ = ["GENERIC", "PatternFile", "SystemMode", "TextFile", "course_patterns", "format_from_patterns", "read_toml"]

GENERIC = "*"  # the key of the pattern for every role without a pattern of its own; it may use {role}
SystemMode = Literal["turn", "fold", "reject"]


class _ContentMarker:
    """Where `{content}` stands in a parsed pattern."""


_CONTENT = _ContentMarker()
PatternPiece = Piece | _ContentMarker


def _as_text(pieces: list[PatternPiece]) -> Text:
    """Pieces known to hold no content marker, as a Text."""
    return tuple(piece for piece in pieces if not isinstance(piece, _ContentMarker))


def _pieces(pattern: str, where: str) -> list[PatternPiece]:
    """The pattern as literal strings, Tokens, ROLE and the content marker."""
    pieces: list[PatternPiece] = []
    try:
        parsed = list(string.Formatter().parse(pattern))
    except ValueError as exc:
        raise ValueError(f"{where}: {exc} (write {{{{ and }}}} for literal braces)") from exc
    for literal, field, spec, conversion in parsed:
        if literal:
            pieces.append(literal)
        if field is None:
            continue
        if spec or conversion:
            raise ValueError(f"{where}: {{{field}}} takes no format spec or conversion")
        if field == "content":
            pieces.append(_CONTENT)
        elif field == "role":
            pieces.append(ROLE)
        elif field.endswith("_token") and field.isidentifier():
            pieces.append(Token(field))
        else:
            raise ValueError(
                f"{where}: unknown placeholder {{{field}}}; use {{content}}, {{role}} or a special token such as {{eos_token}}"
            )
    return pieces


def _text(pattern: str, where: str) -> Text:
    """A pattern that prints no message (the generation prompt, the start): literals and tokens only."""
    pieces = _pieces(pattern, where)
    if any(piece is _CONTENT or piece is ROLE for piece in pieces):
        raise ValueError(f"{where} cannot use {{content}} or {{role}}")
    return _as_text(pieces)


def _turn(pattern: str, role: str, *, trim: bool, generated: bool) -> tuple[Turn, Text]:
    """The Turn a role's pattern describes, and its prefix (the default generation prompt)."""
    where = f"the pattern for role {role!r}"
    pieces = _pieces(pattern, where)
    if sum(piece is _CONTENT for piece in pieces) != 1:
        raise ValueError(f"{where} needs {{content}} exactly once, got {pattern!r}")
    at = pieces.index(_CONTENT)
    prefix, after = pieces[:at], pieces[at + 1 :]
    if ROLE in after:
        raise ValueError(f"{where}: {{role}} may only come before {{content}}")
    if ROLE in prefix and role != GENERIC:
        prefix = [role if piece is ROLE else piece for piece in prefix]  # a named role is written out
    end, sep = _split_tail(_as_text(after))
    text = _as_text(prefix)
    turn = Turn(
        prefix=text, end=end, sep=sep, transform=Transform.TRIM if trim else Transform.NONE, generated=generated
    )
    return turn, text


def _split_tail(after: Text) -> tuple[Text, Text]:
    """(end, sep): the trailing whitespace of the text after the content is the separator."""
    if after and isinstance(after[-1], str):
        last = after[-1]
        body = last.rstrip()
        sep = last[len(body) :]
        head = (*after[:-1], body) if body else after[:-1]
        return head, ((sep,) if sep else ())
    return after, ()


def course_patterns(template: str) -> dict[str, str]:
    """Per-role patterns from one string with a line per role and `{<role>_message}` placeholders.

    This is how courses write a format (`"<|user|>{user_message}\\n"`); each line becomes that role's
    pattern with `{content}`.
    """
    patterns: dict[str, str] = {}
    for line in template.splitlines(keepends=True):
        fields = [field for _, field, _, _ in string.Formatter().parse(line) if field and field.endswith("_message")]
        if len(fields) != 1:
            raise ValueError(
                f"each line of a course-style template has one {{<role>_message}} placeholder, got {line!r}"
            )
        role = fields[0][: -len("_message")]
        patterns[role] = line.replace("{" + fields[0] + "}", "{content}")
    return patterns


def _roles_option(value: bool | Collection[str], patterns: Mapping[str, object], option: str) -> frozenset[str]:
    if value is True:
        return frozenset(patterns)
    if value is False:
        return frozenset()
    if isinstance(value, str):
        value = (value,)
    unknown = set(value) - set(patterns)
    if unknown:
        raise ValueError(f"{option} names roles without a pattern: {sorted(unknown)}")
    return frozenset(value)


def format_from_patterns(
    patterns: Mapping[str, str | None] | str,
    *,
    generation_prompt: str | None = None,
    system: SystemMode = "turn",
    default_system: str | None = None,
    start: str = "",
    trim: bool | Collection[str] = False,
    generated: Collection[str] | None = None,
    name: str = "custom",
) -> Format:
    """A `Format` from per-role patterns (see the module docstring).

    patterns: role -> pattern, `"*"` for every other role (with `{role}`); or one course-style string.
      Without `"*"`, a message of another role raises TemplateError, in both engines.
    generation_prompt: printed with add_generation_prompt; default: the assistant pattern's prefix.
    system: "turn": a first system message is its own turn (its pattern is `patterns["system"]`);
      "fold": the system pattern wraps the system message into the first user message's content;
      "reject": a system message raises TemplateError.
    default_system: with "turn", printed through the system pattern when the conversation has no system
      message first.
    start: printed once at the very beginning, e.g. "{bos_token}".
    trim: strip each content's surrounding whitespace (True, or the roles to trim).
    generated: the roles whose turns the model generates (default: assistant): their content and end
      form the generation spans of `render_spans` (for training masks).
    """
    if isinstance(patterns, str):
        patterns = course_patterns(patterns)
    for role, pattern in patterns.items():
        if not isinstance(role, str) or not (pattern is None or isinstance(pattern, str)):
            raise TypeError(f"patterns map role names to pattern strings (or None), got {role!r}: {pattern!r}")
    trimmed = _roles_option(trim, patterns, "trim")
    generating = _roles_option(
        generated if generated is not None else {"assistant"} & patterns.keys(), patterns, "generated"
    )
    turns: dict[str, Rule] = {}
    prefixes: dict[str, Text] = {}
    for role, pattern in patterns.items():
        if pattern is None:
            turns[role] = SKIP
        else:
            turns[role], prefixes[role] = _turn(pattern, role, trim=role in trimmed, generated=role in generating)
    supported = ", ".join(sorted(role for role in patterns if role != GENERIC))
    other = turns.pop(
        GENERIC,
        Reject(f"The {name} chat format has no pattern for the role of this message; it has patterns for: {supported}"),
    )
    options: dict[str, Any] = {}
    system_turn = turns.get("system")
    if system == "turn":
        if isinstance(system_turn, Turn):
            options.update(system=SystemPolicy.LEAD, system_turn=system_turn, default_system=default_system)
        elif default_system is not None:
            raise ValueError("default_system needs a system pattern")
    elif system == "fold":
        if not isinstance(system_turn, Turn):
            raise ValueError(
                'system="fold" needs a system pattern that wraps the system message, e.g. "<<SYS>>\\n{content}\\n<</SYS>>\\n\\n"'
            )
        if default_system is not None:
            raise ValueError('default_system is not supported with system="fold"')
        turns["system"] = Reject(f"The {name} chat format allows a system message only as the first message")
        options.update(system=SystemPolicy.FOLD, system_turn=system_turn)
    elif system == "reject":
        if "system" in patterns or default_system is not None:
            raise ValueError('system="reject" takes no system pattern and no default_system')
        message = f"The {name} chat format does not support system messages"
        turns["system"] = Reject(message)
        options.update(system=SystemPolicy.REJECT, system_error=message)
    else:
        raise ValueError(f'system is "turn", "fold" or "reject", got {system!r}')
    if generation_prompt is None:
        prompt = prefixes.get("assistant", ())
    else:
        prompt = _text(generation_prompt, "the generation prompt")
    return Format(
        name=name,
        source="",
        roles=turns,
        other=other,
        start=_text(start, "start"),
        generation_prompt=prompt,
        **options,
    )


class TextFile(Protocol):
    """A file to read: a `Path`, or a file a package ships (`importlib.resources.files(pkg) / "x.toml"`)."""

    @property
    def name(self) -> str: ...

    def read_text(self, encoding: str | None = ...) -> str: ...


@dataclass(frozen=True)
class PatternFile:
    """What a pattern TOML file holds: the format and the special tokens it names."""

    format: Format
    special_tokens: Mapping[str, str]


_TOML_OPTIONS = ("generation_prompt", "system", "default_system", "start", "trim", "generated")


def read_toml(source: str | TextFile) -> PatternFile:
    """A pattern format from TOML text (a str), or from a `.toml` file (a Path, or a package's file):

        name = "my-chat"
        generation_prompt = "<|assistant|>"
        [patterns]
        system = "<|system|>{content}\\n"
        user = "<|user|>{content}\\n"
        assistant = "<|assistant|>{content}{eos_token}\\n"
        [special_tokens]
        eos_token = "</s>"

    plus any option of `format_from_patterns` as a top-level key.
    """
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - the test suite runs on 3.11+
        import tomli as tomllib
    text = source if isinstance(source, str) else source.read_text(encoding="utf-8")
    data = tomllib.loads(text)
    unknown = set(data) - {"name", "patterns", "special_tokens", *_TOML_OPTIONS}
    if unknown:
        raise ValueError(f"unknown keys in a pattern format: {sorted(unknown)}")
    patterns = data.get("patterns")
    if not isinstance(patterns, dict) or not patterns:
        raise ValueError('a pattern format needs a [patterns] table: role = "...{content}..."')
    tokens = data.get("special_tokens", {})
    if not isinstance(tokens, dict) or not all(isinstance(value, str) for value in tokens.values()):
        raise ValueError("[special_tokens] maps token names to strings")
    name = data.get("name", "custom" if isinstance(source, str) else source.name.rpartition(".")[0] or source.name)
    options = {key: data[key] for key in _TOML_OPTIONS if key in data}
    return PatternFile(format_from_patterns(patterns, name=name, **options), tokens)
