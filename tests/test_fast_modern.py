"""Today's compiled formats against transformers, on both builders: reasoning fields, switches, dates.

`test_fast_formats` covers every format with plain role/content conversations. Here the inputs are the
ones these templates read besides: `reasoning_content` (and its aliases `thinking`, `reasoning`),
contents with `<think>` blocks, `enable_thinking` / `thinking` passed as True, False, absent or
something else, tool responses wrapped in user turns (Qwen3's last query), system messages anywhere,
and the date, with the clock fixed to arbitrary moments on both sides.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from oracle import hf_fixed_clock
from transformers.utils.chat_template_utils import render_jinja_template

import chatfmt
from chatfmt.formats.builtin import BUILTINS, FORMATS
from chatfmt.routing import recognise

MODERN = [
    "deepseek-r1",
    "deepseek-r1-distill",
    "gemma-3",
    "granite-3.0",
    "granite-3.3",
    "llama-3.2",
    "llama-3.2-vision",
    "mistral-small-3",
    "mistral-small-3.2",
    "qwen3",
    "qwen3-instruct",
    "qwq",
    "smollm3",
]
TOKENS = {b.name: dict(b.special_tokens) for b in BUILTINS}
SOURCES = {b.name: b.read_source() for b in BUILTINS}
DECLINED = "declined"

ANY_CHAR = st.characters(codec=None, categories=None)
text = st.one_of(
    st.sampled_from(
        ["", " ", "\n", "\n\n", "  padded \n", "é 👋🏽", "\ud800", "{{ x }}", "[INST]", "<|im_end|>", "/think"]
    ),
    st.text(ANY_CHAR, max_size=20),
    st.text(st.sampled_from("ab \n\t<>/"), max_size=10),
)
think_content = st.one_of(
    text,
    st.builds(lambda r, c: f"<think>{r}</think>{c}", text, text),
    st.builds(lambda r, c: f"{r}\n</think>\n\n{c}", text, text),
    st.sampled_from(["</think>", "<think></think>", "a</think>b</think> c", "\n<think>\nx\n</think>\n\ny", "<think>"]),
    st.builds(lambda c: f"<tool_response>{c}</tool_response>", text),
)
reasoning = st.one_of(st.none(), st.sampled_from(["", "\n", "\nstep\n\n", "a</think>b"]), text)
ROLES = ("system", "user", "assistant", "user", "assistant", "tool", "developer")


@st.composite
def message(draw: st.DrawFn, role: str | None = None) -> dict[str, Any]:
    msg = {"role": role or draw(st.sampled_from(ROLES)), "content": draw(think_content)}
    for key in draw(st.lists(st.sampled_from(["reasoning_content", "thinking", "reasoning"]), unique=True, max_size=2)):
        msg[key] = draw(reasoning)
    return msg


@st.composite
def conversation(draw: st.DrawFn) -> list[dict[str, Any]]:
    """A chat with an optional system message, alternating turns, sometimes one message changed or added."""
    if draw(st.integers(0, 4)) == 0:
        return draw(st.lists(message(), min_size=1, max_size=7))
    msgs = [draw(message("system"))] if draw(st.booleans()) else []
    msgs += [draw(message("user" if i % 2 == 0 else "assistant")) for i in range(draw(st.integers(1, 6)))]
    if draw(st.booleans()):
        at = draw(st.integers(0, len(msgs)))
        msgs.insert(at, draw(message()))
    return msgs


switch_value = st.sampled_from(["absent", True, False, True, False, None, 0, "no"])
moments = st.datetimes(min_value=dt.datetime(1999, 12, 31), max_value=dt.datetime(2101, 1, 1))


def reference(name: str, messages: list[dict[str, Any]], agp: bool, variables: dict[str, Any]) -> Any:
    try:
        rendered, _ = render_jinja_template(
            conversations=[messages],
            chat_template=SOURCES[name],
            add_generation_prompt=agp,
            **TOKENS[name],
            **variables,
        )
    except Exception as exc:  # the reference's exception is an expected outcome
        return exc
    return rendered[0]


def ours(renderer: Any, messages: list[dict[str, Any]], agp: bool, variables: dict[str, Any]) -> Any:
    try:
        out = renderer.render(messages, agp, variables)
    except Exception as exc:
        return exc
    return DECLINED if out is None else out


def switch_variables(name: str, value: object) -> dict[str, Any]:
    fmt = FORMATS[name]
    return {} if fmt.switch is None or value == "absent" else {fmt.switch.variable: value}


@pytest.mark.parametrize("name", MODERN)
@settings(max_examples=70, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(messages=conversation(), agp=st.booleans(), value=switch_value, moment=moments)
def test_matches_transformers(builder, name: str, messages, agp: bool, value: object, moment) -> None:
    variables = switch_variables(name, value)
    with hf_fixed_clock(moment), chatfmt.fixed_clock(moment):
        got = ours(builder.Renderer(FORMATS[name], TOKENS[name]), messages, agp, variables)
        expected = reference(name, messages, agp, variables)
    if got is DECLINED:
        # Only what the format cannot vouch for is declined: a switch that is not a bool, a role or key
        # the format leaves to Jinja, a reasoning value that is not a str, SmolLM3's system commands.
        plain = all(m["role"] in ("system", "user", "assistant") for m in messages)
        commands = name == "smollm3" and messages[0]["role"] == "system" and "think" in messages[0]["content"]
        assert not (
            plain
            and not commands
            and type(variables.get("enable_thinking", True)) is bool
            and type(variables.get("thinking", True)) is bool
        ), "a covered call was declined"
    elif isinstance(expected, Exception):
        assert isinstance(got, Exception), f"gave {got!r}, reference raised {expected!r}"
        assert (type(got), str(got)) == (type(expected), str(expected))
    else:
        assert got == expected


# Qwen3's think blocks, case by case: the reasoning field wins over the content's own block; a block is
# printed for the last message and, with reasoning, after the last real user query (a user turn that
# wraps a tool response does not count).
QWEN3_CASES = [
    [{"role": "user", "content": "Q"}, {"role": "assistant", "content": "A", "reasoning_content": "R"}],
    [{"role": "user", "content": "Q"}, {"role": "assistant", "content": "<think>\nR\n</think>\n\nA"}],
    [
        {"role": "user", "content": "Q"},
        {"role": "assistant", "content": "A", "thinking": "T"},
        {"role": "user", "content": "Q2"},
    ],
    [
        {"role": "user", "content": "Q"},
        {"role": "assistant", "content": "A1", "reasoning": "R1"},
        {"role": "user", "content": "<tool_response>x</tool_response>"},
        {"role": "assistant", "content": "A2", "reasoning_content": "R2"},
    ],
    [
        {"role": "user", "content": "<tool_response>x</tool_response>"},
        {"role": "assistant", "content": "A", "reasoning_content": "R"},
    ],
    [
        {"role": "system", "content": "S"},
        {"role": "user", "content": "Q"},
        {"role": "assistant", "content": "A", "reasoning_content": None, "thinking": "T"},
        {"role": "assistant", "content": ""},
    ],
]


@pytest.mark.parametrize("messages", QWEN3_CASES)
@pytest.mark.parametrize("value", ["absent", True, False])
def test_qwen3_think_blocks(builder, messages, value) -> None:
    variables = switch_variables("qwen3", value)
    for agp in (False, True):
        got = ours(builder.Renderer(FORMATS["qwen3"], TOKENS["qwen3"]), messages, agp, variables)
        assert got == reference("qwen3", messages, agp, variables)


@pytest.mark.parametrize("value", [1, "false", None, [False]])
def test_switch_values_other_than_bools_are_left_to_jinja(builder, value) -> None:
    chat = [{"role": "user", "content": "Hi"}]
    for name in ("qwen3", "smollm3", "granite-3.3"):
        variables = {FORMATS[name].switch.variable: value}  # type: ignore[union-attr]
        assert builder.Renderer(FORMATS[name], TOKENS[name]).render(chat, True, variables) is None


def test_non_string_reasoning_is_left_to_jinja(builder) -> None:
    chat = [{"role": "user", "content": "Q"}, {"role": "assistant", "content": "A", "reasoning_content": 5}]
    assert builder.Renderer(FORMATS["qwen3"], TOKENS["qwen3"]).render(chat, False) is None


@pytest.mark.parametrize("name", ["llama-3.2", "mistral-small-3", "granite-3.3", "smollm3"])
def test_the_clock_is_read_once_per_render(builder, name: str) -> None:
    reads = []

    def clock() -> dt.datetime:
        reads.append(1)
        return dt.datetime(2031, 2, 3) + dt.timedelta(days=len(reads))  # a new day at every read

    renderer = builder.Renderer(FORMATS[name], TOKENS[name])
    chat = [{"role": "user", "content": "Hi"}]
    with chatfmt.fixed_clock(clock):
        first = renderer.render(chat, True)
        assert len(reads) == 1
        batch = renderer.render_batch([chat, chat, chat], True)
    assert len(reads) == 4  # a batch reads it once per conversation, as transformers does per render
    assert len(set(batch)) == 3 and first not in batch
    with hf_fixed_clock(dt.datetime(2031, 2, 4)):
        assert first == reference(name, chat, True, {})


def test_static_formats_never_read_the_clock(builder) -> None:
    def clock() -> dt.datetime:
        raise AssertionError("read the clock")

    with chatfmt.fixed_clock(clock):
        assert builder.Renderer(FORMATS["qwen3"], TOKENS["qwen3"]).render([{"role": "user", "content": "Hi"}], True)


@pytest.mark.parametrize("name", MODERN)
def test_corpus_files_are_recognised_and_compiled(name: str) -> None:
    source = SOURCES[name]
    assert recognise(source) is FORMATS[name]
    template = chatfmt.Template.from_jinja(source, special_tokens=TOKENS[name])
    assert template.is_compiled
    chat = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}]
    assert template.path_for(chat, add_generation_prompt=True) == "compiled"


@pytest.mark.parametrize(
    ("name", "variable"), [("qwen3", "enable_thinking"), ("smollm3", "enable_thinking"), ("granite-3.3", "thinking")]
)
def test_handled_variables_keep_the_compiled_path(name: str, variable: str, fixed_clocks) -> None:
    compiled = chatfmt.get_template(name)
    jinja = compiled.jinja_only()
    chat = [
        {"role": "user", "content": "Hi"},
        {"role": "assistant", "content": "<think>r</think>Yo"},
        {"role": "user", "content": "?"},
    ]
    for value in (True, False, "yes"):
        kwargs = {variable: value}
        expected = "compiled" if type(value) is bool else "jinja"
        assert compiled.path_for(chat, add_generation_prompt=True, **kwargs) == expected
        assert compiled.render(chat, add_generation_prompt=True, **kwargs) == jinja.render(
            chat, add_generation_prompt=True, **kwargs
        )
        assert compiled.render_batch([chat], **kwargs) == jinja.render_batch([chat], **kwargs)
    # A variable the format does not handle still sends the call to Jinja.
    assert compiled.path_for(chat, tools=[{"type": "function", "function": {"name": "f"}}]) == "jinja"


def test_validation_of_the_new_fields() -> None:
    from chatfmt.formats.spec import SKIP, Date, Format, Switch, SystemPolicy, Transform, Turn

    plain = Format("x", "x.jinja")
    with pytest.raises(ValueError):  # a switched format cannot switch again
        Switch("flag", when=True, then=Format("y", "y.jinja", switch=Switch("f", True, plain)))
    with pytest.raises(ValueError):
        Format("x", "x.jinja", other=Turn(), system=SystemPolicy.LAST, system_turn=Turn())  # must skip system ones
    with pytest.raises(ValueError):
        Format("x", "x.jinja", other=SKIP, system=SystemPolicy.INLINE, system_turn=Turn())
    with pytest.raises(ValueError):
        Format("x", "x.jinja", system=SystemPolicy.LEAD, system_turn=Turn(transform=Transform.THINK_BLOCK))
    with pytest.raises(ValueError):
        Format("x", "x.jinja", default_if_empty=True, system_turn=Turn(), default_system="d")  # LEAD only
    with pytest.raises(ValueError):
        Format("x", "x.jinja", system=SystemPolicy.LEAD, system_turn=Turn(), default_if_empty=True)  # no default
    dated = Format("x", "x.jinja", start=("Today ", Date("%Y"), " "), other=Turn(prefix=(Date("%d"),)))
    assert dated.dates == ("%Y", "%d")  # sorted
    assert dated.dynamic and not plain.dynamic and plain.handled == frozenset()


@pytest.mark.parametrize("name", [name for name in MODERN if FORMATS[name].switch is not None])
def test_switch_variables_are_read_by_their_templates(name: str) -> None:
    from chatfmt.jinja.environment import template_variables

    assert FORMATS[name].handled <= template_variables(SOURCES[name])


def test_covers_does_not_read_the_clock(builder) -> None:
    def clock() -> dt.datetime:
        raise AssertionError("read the clock")

    renderer = builder.Renderer(FORMATS["granite-3.3"], TOKENS["granite-3.3"])
    with chatfmt.fixed_clock(clock):
        assert renderer.covers([{"role": "user", "content": "Hi"}], {"thinking": True})
        assert not renderer.covers([{"role": "user", "content": "Hi"}], {"thinking": "yes"})
