"""Checking a claim that a `Format` renders like a Jinja source (a plugin's, or `format=`'s pairing).

Fixed probes miss whatever branch a template takes only on inputs they do not contain: a role the
template names (`m['role'] == 'function'`), a content length it tests (`m['content']|length > 500`), a
substring it searches for. So the probes come from the template itself: every string constant it
compares with is tried as a role and as a content (alone and inside other text), every number it
compares with is tried as a content length on both sides, every substring it searches or splits on is
put into contents, along with empty and whitespace contents; each content is tried as each conventional role's, each
role first, second, last and alone, each pair of roles in order; then a seeded random sweep mixes them. The claim is refused at the
first input where the builder and the Jinja engine disagree (in text, or in what they raise), and the
refusal shows that input and both outputs. A builder that declines an input leaves it to Jinja, so a
declined input never counts against a claim.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import jinja2.nodes as nodes

Conversation = list[dict[str, str]]
Render = Callable[[Conversation, bool], "str | None"]

SWEEP_SEED = 20240903
SWEEP_SIZE = 300
_SEARCH_METHODS = frozenset(
    (
        "startswith",
        "endswith",
        "split",
        "rsplit",
        "find",
        "rfind",
        "index",
        "rindex",
        "count",
        "replace",
        "partition",
        "rpartition",
        "strip",
        "lstrip",
        "rstrip",
        "removeprefix",
        "removesuffix",
    )
)
_SEARCH_FILTERS = frozenset(("replace", "split", "trim"))
_BASE_ROLES = ("system", "user", "assistant", "tool", "developer", "narrator", "")
_BASE_CONTENTS = (
    "Hi",
    "",
    " ",
    "\n",
    "  padded \n",
    "\ttab\n\nline",
    "héllo 👋🏽 e\u0301 日本語",
    "<|im_end|> [INST] </s> {{ x }}",
    "<think>a</think>b",
)


class FormatMismatch(ValueError):
    """A claimed format renders some input differently from its Jinja source (`difference` says where)."""

    def __init__(self, message: str, difference: Difference) -> None:
        super().__init__(message)
        self.difference = difference


def _short(value: Any, limit: int = 120) -> str:
    """repr(value), with a long run in the middle elided so that a refusal stays readable."""
    text = repr(value)
    return text if len(text) <= limit else f"{text[: limit // 2]}…[{len(text) - limit} chars]…{text[-limit // 2 :]}"


def outcome(render: Callable[..., Any], *args: Any) -> Any:
    """The render's text, or (exception type, message): an exception is an outcome to compare."""
    try:
        return render(*args)
    except Exception as exc:
        return (type(exc), str(exc))


@dataclass(frozen=True)
class Difference:
    """The first input on which the two engines disagree, and what each gave."""

    conversation: Conversation
    add_generation_prompt: bool
    compiled: Any
    jinja: Any
    variables: Mapping[str, Any] = field(default_factory=dict)  # the call's template variables, if any

    def describe(self, fast: str = "the format", reference: str = "the Jinja source") -> str:
        def show(result: Any) -> str:
            return _short(result) if isinstance(result, str) else f"raises {result[0].__name__}: {result[1]}"

        setting = "".join(f", {name}={value!r}" for name, value in self.variables.items())
        return (
            f"messages={_short(self.conversation, 300)}, add_generation_prompt={self.add_generation_prompt}{setting}: "
            f"{fast} gives {show(self.compiled)}; {reference} gives {show(self.jinja)}"
        )


@dataclass
class _Constants:
    strings: set[str]
    numbers: set[int]


def _strings_in(node: nodes.Node) -> Iterator[str]:
    """The string constants in `node`, itself included (`find_all` yields only descendants)."""
    for const in (node, *node.find_all(nodes.Const)):
        if isinstance(const, nodes.Const) and isinstance(const.value, str):
            yield const.value


def template_constants(tree: nodes.Template) -> _Constants:
    """The strings a template compares with or searches for, and the numbers it compares with."""
    found = _Constants(set(), set())
    for compare in tree.find_all(nodes.Compare):
        found.strings.update(_strings_in(compare))
        for const in compare.find_all(nodes.Const):  # a Compare is never a Const itself
            if isinstance(const.value, int | float) and not isinstance(const.value, bool):
                found.numbers.add(int(const.value))
    for test in tree.find_all(nodes.Test):  # `x is equalto 'y'`, `x is in [...]`
        for arg in test.args:
            found.strings.update(_strings_in(arg))
    for call in tree.find_all(nodes.Call):
        if isinstance(call.node, nodes.Getattr) and call.node.attr in _SEARCH_METHODS:
            for arg in call.args:
                found.strings.update(_strings_in(arg))
    for filter_ in tree.find_all(nodes.Filter):
        if filter_.name in _SEARCH_FILTERS:
            for arg in filter_.args:
                found.strings.update(_strings_in(arg))
    return found


def probe_material(source: str) -> tuple[list[str], list[str]]:
    """(roles, contents) to probe `source` with: the basics plus what the template itself tests."""
    from ..jinja.environment import new_environment

    constants = template_constants(new_environment().parse(source))
    strings = sorted(constants.strings)
    roles = list(dict.fromkeys([*_BASE_ROLES, *strings]))
    contents = [*_BASE_CONTENTS]
    for text in strings:
        contents += [text, f"x{text}y", f"{text} tail", f" {text} "]
    for number in sorted(constants.numbers):
        for length in (number - 1, number, number + 1):
            if 0 <= length <= 100_000:
                contents += ["a" * length, " " * length]
    return roles, list(dict.fromkeys(contents))


def derived_probes(roles: list[str], contents: list[str]) -> Iterator[Conversation]:
    """Every content as each conventional role's message, alone and after a system message; every role
    alone, first, second and last; every ordered pair of roles."""

    def chat(*pairs: tuple[str, str]) -> Conversation:
        return [{"role": role, "content": content} for role, content in pairs]

    for content in contents:
        for role in _BASE_ROLES[:4]:
            yield chat((role, content))
            yield chat(("system", "S"), (role, content), ("user", "Hi"))
    for role in roles:
        for content in _BASE_CONTENTS:
            yield chat((role, content))
            yield chat(("user", "Hi"), (role, content))
            yield chat((role, content), ("user", "Hi"))
            yield chat(("system", "S"), (role, content), ("assistant", "A"))
    for first in roles:
        for second in roles:
            yield chat((first, "one"), (second, "two"))
            yield chat(("system", "S"), (first, "one"), (second, "two"), ("user", "three"))


def random_sweep(
    roles: list[str], contents: list[str], count: int = SWEEP_SIZE, seed: int = SWEEP_SEED
) -> Iterator[Conversation]:
    """`count` conversations of 1–6 messages drawn from the probe material, the same for every run."""
    rng = random.Random(seed)
    for _ in range(count):
        yield [{"role": rng.choice(roles), "content": rng.choice(contents)} for _ in range(rng.randint(1, 6))]


def with_variables(render: Callable[..., Any], variables: Mapping[str, Any]) -> Render:
    """`render(conversation, add_generation_prompt, variables)` as a call of the first two."""
    return lambda conversation, add_generation_prompt: render(conversation, add_generation_prompt, variables)


def probe_conversations(source: str) -> Iterator[Conversation]:
    """Every probe for `source`: the derived ones, then the random sweep."""
    roles, contents = probe_material(source)
    yield from derived_probes(roles, contents)
    yield from random_sweep(roles, contents)


def first_difference(fast: Render, reference: Render, source: str) -> Difference | None:
    """The first probe of `source` (derived, then random) on which the two renders disagree.

    `fast` may return None for an input it declines (the reference then renders it): that is no difference.
    """
    for conversation in probe_conversations(source):
        for add_generation_prompt in (False, True):
            compiled = outcome(fast, conversation, add_generation_prompt)
            if compiled is None:
                continue
            expected = outcome(reference, conversation, add_generation_prompt)
            if compiled != expected:
                return Difference(conversation, add_generation_prompt, compiled, expected)
    return None
