"""The declarative formats and their compiled builders against transformers' Jinja rendering.

For every built-in format: the C builder, the pure-Python twin and
`transformers.utils.chat_template_utils.render_jinja_template` on the corpus template give the same
string, or raise the same exception (type and message), or the builder declines (returns None, the
caller then renders with Jinja). Declines must stay rare for plain role/content conversations.
"""

from __future__ import annotations

import enum
import json
import os
import pickle
import subprocess
import sys
from pathlib import Path
from typing import Any

import jinja2
import jinja2.meta
import pytest
from conftest import extensions_required
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from oracle import FIXED_NOW, hf_fixed_clock
from transformers.utils.chat_template_utils import _compile_jinja_template, render_jinja_template

import chatfmt
from chatfmt import _fast, routing
from chatfmt._fast import _reasoning, _render_py
from chatfmt.formats.builtin import BUILTINS, FORMATS
from chatfmt.formats.spec import DECLINE, ROLE, SKIP, Format, Reject, SystemPolicy, Token, Transform, Turn
from chatfmt.pipeline import RenderOptions

CORPUS = Path(__file__).parent / "data" / "corpus"
PACKAGE_TEMPLATES = Path(_fast.__file__).parents[1] / "formats" / "templates"
CONTEXTS = sorted((CORPUS / "contexts").glob("*.json"))
NAMES = sorted(FORMATS)
STD_TOKENS = {"bos_token": "<s>", "eos_token": "</s>"}
EOS_TOKEN = Token("eos_token")
SOURCES = {name: (CORPUS / "templates" / fmt.source).read_text(encoding="utf-8") for name, fmt in FORMATS.items()}

DECLINED = "declined"
Outcome = Any  # a string, an exception, or DECLINED


@pytest.fixture(autouse=True, scope="module")
def _both_clocks_fixed() -> Any:
    """Dated formats (Llama 3.2, Mistral Small, Granite 3.3, SmolLM3) print the same day on both sides."""
    with hf_fixed_clock(), chatfmt.fixed_clock(FIXED_NOW):
        yield


def reference(name: str, messages: object, agp: bool, tokens: dict[str, str], **extra: Any) -> Outcome:
    try:
        rendered, _ = render_jinja_template(
            conversations=[messages], chat_template=SOURCES[name], add_generation_prompt=agp, **tokens, **extra
        )
    except Exception as exc:  # the reference's exception is an expected outcome
        return exc
    return rendered[0]


def ours(renderer: Any, messages: object, agp: bool, variables: dict[str, Any] | None = None) -> Outcome:
    try:
        out = renderer.render(messages, agp, variables)
    except Exception as exc:
        return exc
    return DECLINED if out is None else out


def assert_same(got: Outcome, expected: Outcome) -> None:
    """`got` equals the reference, raised the same, or declined."""
    if got is DECLINED:
        return
    if isinstance(got, Exception):
        assert isinstance(expected, Exception), f"raised {got!r}, reference gave {expected!r}"
        assert (type(got), str(got)) == (type(expected), str(expected))
    else:
        assert not isinstance(expected, Exception), f"gave {got!r}, reference raised {expected!r}"
        assert got == expected


def same_outcome(a: Outcome, b: Outcome) -> bool:
    if isinstance(a, Exception) or isinstance(b, Exception):
        return type(a) is type(b) and str(a) == str(b)
    return a == b


# --- strategies -----------------------------------------------------------------------------------

ANY_CHAR = st.characters(codec=None, categories=None)  # every plane, lone surrogates included
SPECIAL_TEXT = [
    "",
    " ",
    "\n",
    "\t \n",
    "  padded  ",
    "\u3000wide\u3000",
    "\xa0nbsp\xa0",
    "\x1c\x1d\x1e\x1f",
    "\x85next",
    "\u2028",
    "x\u200b",
    "\x00",
    "nul\x00mid",
    "\ud800",
    "lone \udfff low",
    "👋🏽🎉",
    "e\u0301",
    "\u0301lead",
    "𝔘𝔫𝔦",
    "</think>",
    "reason</think>answer",
    "a</think>b</think> c ",
    "<|im_end|>",
    "[INST] x [/INST]",
    "<<SYS>>\n",
    "{{ x }}",
    "\\",
    '"quoted"',
    "ÿ",
    "Ā",
]
text = st.one_of(
    st.sampled_from(SPECIAL_TEXT),
    st.text(ANY_CHAR, max_size=30),
    st.text(st.sampled_from(" \t\n\r\x0b\x0c\u3000\xa0ab"), max_size=10),
    st.builds(lambda s, k: s * k, st.text(ANY_CHAR, min_size=1, max_size=8), st.integers(50, 300)),
)
MAIN_ROLES = ("system", "user", "assistant")
ODD_ROLES = ("tool", "ipython", "model", "foo", "", "User", "assistant ", "système", "👤", "\ud800", "tool")
role = st.one_of(st.sampled_from(MAIN_ROLES), st.sampled_from(ODD_ROLES), st.text(ANY_CHAR, max_size=5))
message = st.builds(lambda r, c: {"role": r, "content": c}, role, text)


@st.composite
def conversations(draw: st.DrawFn) -> list[dict[str, str]]:
    """Anything, tool-heavy, or a well-formed chat (optional system, alternating turns), sometimes perturbed."""
    shape = draw(st.sampled_from(["any", "tools", "chat", "chat", "perturbed"]))
    if shape == "any":
        return draw(st.lists(message, min_size=1, max_size=10))
    if shape == "tools":  # runs of tool results (Qwen2.5 groups them, Llama-3.1 quotes them)
        roles = st.sampled_from(["user", "assistant", "tool", "tool", "tool", "ipython", "system"])
        return draw(st.lists(st.builds(lambda r, c: {"role": r, "content": c}, roles, text), min_size=1, max_size=10))
    msgs = [{"role": "system", "content": draw(text)}] if draw(st.booleans()) else []
    for i in range(draw(st.integers(1, 9))):
        msgs.append({"role": "user" if i % 2 == 0 else "assistant", "content": draw(text)})
    if shape == "perturbed":
        at = draw(st.integers(0, len(msgs)))
        if draw(st.booleans()) and at < len(msgs):
            msgs[at] = draw(message)
        else:
            msgs.insert(at, draw(message))
    return msgs


token_text = st.sampled_from(["<s>", "</s>", "", "<｜begin▁of▁sentence｜>", "é", "👋", " "])
tokens = st.one_of(
    st.just(STD_TOKENS),
    st.fixed_dictionaries({}, optional={"bos_token": token_text, "eos_token": token_text}),
)
PARITY = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


# --- parity with transformers -------------------------------------------------------------------


@pytest.mark.parametrize("context", CONTEXTS, ids=lambda p: p.stem)
@pytest.mark.parametrize("name", NAMES)
def test_corpus_contexts(builder, name: str, context: Path) -> None:
    ctx = json.loads(context.read_text(encoding="utf-8"))
    messages, agp = ctx.pop("messages"), ctx.pop("add_generation_prompt")
    tools, documents = ctx.pop("tools", None), ctx.pop("documents", None)
    toks = {k: ctx.pop(k) for k in ("bos_token", "eos_token") if k in ctx}
    fmt = FORMATS[name]
    route = routing.Route(_fast.compile_format(fmt, toks), SOURCES[name])
    if not route.covers_call(RenderOptions.of(agp, tools, documents, False, None, ctx)):
        pytest.skip("the context sets a variable the template reads: Jinja renders it")
    got = ours(builder.Renderer(fmt, toks), messages, agp, ctx)  # ctx holds only variables it handles
    assert_same(got, reference(name, messages, agp, toks, tools=tools, documents=documents, **ctx))
    plain = all(type(m.get("content")) is str and set(m) <= {"role", "content"} for m in messages)
    roles = {m["role"] for m in messages}
    if plain and not (roles & {"tool"} and name in ("deepseek-v3", "mistral-v3")):
        assert got is not DECLINED


@pytest.mark.parametrize("name", NAMES)
@PARITY
@given(messages=conversations(), agp=st.booleans(), toks=tokens)
def test_generated_conversations(builder, name: str, messages: list[dict[str, str]], agp: bool, toks: dict) -> None:
    fmt = FORMATS[name]
    got = ours(builder.Renderer(fmt, toks), messages, agp)
    assert_same(got, reference(name, messages, agp, toks))
    roles = {m["role"] for m in messages}
    if roles <= {*MAIN_ROLES, "foo"} and toks.keys() >= {"bos_token", "eos_token"}:
        # OpenChat declines unknown roles, SmolLM3 system messages with commands in them.
        commands = messages[0]["role"] == "system" and any(
            t in messages[0]["content"] for t in fmt.declined_system_text
        )
        if all(fmt.rule_for(role) is not DECLINE for role in roles) and not commands:
            assert got is not DECLINED, "a plain role/content conversation was declined"


def _chat(*pairs: tuple[str, str]) -> list[dict[str, str]]:
    return [{"role": role, "content": content} for role, content in pairs]


# Corner cases every format must get right (or decline), whatever hypothesis happens to draw: where
# templates differ on system messages (first, late, only, empty), the last message (Qwen1.5 and Tulu 3
# print it differently), empty and whitespace contents, assistant first, repeated and unknown roles.
EDGE_CONVERSATIONS = [
    _chat(("system", "S")),
    _chat(("system", "")),
    _chat(("user", "U")),
    _chat(("assistant", "A")),
    _chat(("foo", "F")),
    _chat(("system", "S"), ("user", "U")),
    _chat(("system", " S "), ("user", " U "), ("assistant", " A ")),
    _chat(("system", ""), ("user", ""), ("assistant", "")),
    _chat(("user", "U"), ("system", "S")),
    _chat(("user", "U"), ("system", "")),
    _chat(("user", "U"), ("assistant", "A"), ("foo", "x")),
    _chat(("user", "U"), ("assistant", "A"), ("system", "late")),
    _chat(("system", ""), ("system", "S"), ("user", "")),
    _chat(("system", "S"), ("system", "T")),
    _chat(("assistant", "A"), ("assistant", "")),
    _chat(("assistant", "A"), ("user", "U")),
    _chat(("user", "U"), ("user", "V")),
    _chat(("tool", "t"), ("tool", "u"), ("user", "U")),
    _chat(("user", "\n"), ("assistant", "\t \n"), ("user", "\u3000x\u3000")),
    _chat(("user", "👋🏽 \ud800"), ("assistant", "\x00</think>é")),
]
EDGE_TOKENS = [STD_TOKENS, {}, {"bos_token": "<s>"}, {"eos_token": "</s>"}, {"bos_token": "", "eos_token": "é"}]


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("messages", EDGE_CONVERSATIONS, ids=lambda m: "-".join(x["role"] or "_" for x in m))
def test_edge_conversations(builder, name: str, messages: list[dict[str, str]]) -> None:
    for toks in EDGE_TOKENS:
        for agp in (False, True):
            got = ours(builder.Renderer(FORMATS[name], toks), messages, agp)
            assert_same(got, reference(name, messages, agp, toks))


@pytest.mark.parametrize("name", NAMES)
@settings(max_examples=150, deadline=None)
@given(messages=conversations(), agp=st.booleans(), toks=tokens)
def test_c_and_py_agree(name: str, messages: list[dict[str, str]], agp: bool, toks: dict) -> None:
    c = pytest.importorskip("chatfmt._fast._render_c")
    fmt = FORMATS[name]
    rc, rp = c.Renderer(fmt, toks), _render_py.Renderer(fmt, toks)
    assert same_outcome(ours(rc, messages, agp), ours(rp, messages, agp))
    assert rc.covers(messages) == rp.covers(messages)
    try:
        spans_c = rc.render_spans(messages, agp)
    except Exception as exc:
        spans_c = exc
    try:
        spans_p = rp.render_spans(messages, agp)
    except Exception as exc:
        spans_p = exc
    assert same_outcome(spans_c, spans_p)


# --- spans ----------------------------------------------------------------------------------------


def _resolve(text: tuple, toks: dict[str, str]) -> str:
    return "".join(toks.get(p.name, "") if isinstance(p, Token) else p for p in text)


def _printed(transform: Transform, content: str, last: bool = False, after_query: bool = False) -> str:
    """The text a content span covers (for a think block, the content after it)."""
    if transform is Transform.TRIM:
        return content.strip()
    if transform is Transform.RSTRIP:
        return content.rstrip()
    if transform is Transform.LSTRIP_NEWLINES:
        return content.lstrip("\n")
    if transform is Transform.PAST_AFTER_THINK:
        return content if last else content.split("</think>")[-1].lstrip("\n")
    if transform is Transform.THINK_BLOCK:
        text, skip = _reasoning.think_block(content, None, last, after_query)
        return text[skip:]
    if transform is Transform.JSON:
        return json.dumps(content, ensure_ascii=False)
    if transform is Transform.AFTER_THINK:
        return content.split("</think>")[-1]
    return content


def expected_spans(fmt: Format, messages: list[dict[str, str]], toks: dict[str, str], agp: bool):
    """Per message, the text its content span must cover (None: not printed); per generated turn, its end marker."""
    contents: list[str | None] = [None] * len(messages)
    ends: list[tuple[int, str]] = []
    first = 0
    has_system = messages[0]["role"] == "system"
    st_ = fmt.system_turn
    if fmt.system is SystemPolicy.LEAD and has_system:
        contents[0], first = _printed(st_.transform, messages[0]["content"]), 1
        if fmt.default_if_empty and not contents[0]:
            contents[0] = None  # the default system message is printed instead
    elif fmt.system in (SystemPolicy.FOLD, SystemPolicy.INLINE) and has_system:
        first = 1
        if fmt.system is SystemPolicy.INLINE and len(messages) > 1:
            contents[0] = _printed(st_.transform, messages[0]["content"])
    elif fmt.system in (SystemPolicy.COLLECT, SystemPolicy.LAST):
        systems = [i for i, m in enumerate(messages) if m["role"] == "system"]
        for i in systems[-1:] if fmt.system is SystemPolicy.LAST else systems:
            contents[i] = _printed(st_.transform, messages[i]["content"])
    queries = [i for i, m in enumerate(messages) if m["role"] == "user" and _reasoning.is_query(m["content"])]
    query = queries[-1] if queries else len(messages) - 1
    for i in range(first, len(messages)):
        rule = fmt.rule_for(messages[i]["role"])
        if not isinstance(rule, Turn) or (rule.skip_empty and messages[i]["content"] == ""):
            continue
        contents[i] = _printed(rule.transform, messages[i]["content"], i == len(messages) - 1, i > query)
        if fmt.system is SystemPolicy.FOLD and has_system and i == first:
            if rule.transform is Transform.TRIM:
                # Llama-2: `('<<SYS>>\n' + S + '\n<</SYS>>\n\n' + U).strip()` keeps S whole, and U loses its
                # trailing whitespace only (the text before it is not blank).
                assert _resolve(st_.prefix, toks).strip()
                contents[0], contents[i] = messages[0]["content"], messages[i]["content"].rstrip()
            else:  # Mistral v0.2: `system_message + '\n\n' + message['content']`
                assert rule.transform is Transform.NONE
                contents[0] = _printed(st_.transform, messages[0]["content"])
        if rule.generated:
            marker = _resolve(rule.end, toks)
            if (
                i == len(messages) - 1
                and rule.last is not None
                and not _resolve(rule.last[0 if agp else 1], toks).startswith(marker)
            ):
                marker = ""  # the last message's tail leaves the end marker out
            ends.append((i, marker))
    return contents, ends


@pytest.mark.parametrize("name", NAMES)
@settings(max_examples=80, deadline=None)
@given(messages=conversations(), agp=st.booleans())
def test_spans(builder, name: str, messages: list[dict[str, str]], agp: bool) -> None:
    fmt = FORMATS[name]
    renderer = builder.Renderer(fmt, STD_TOKENS)
    try:
        result = renderer.render_spans(messages, agp)
    except jinja2.exceptions.TemplateError:
        return
    if result is None:
        return
    text, content_spans, generation_spans = result
    assert text == renderer.render(messages, agp)
    assert len(content_spans) == len(messages)
    contents, ends = expected_spans(fmt, messages, STD_TOKENS, agp)
    for span, expected in zip(content_spans, contents):
        if expected is None:
            assert span is None
            continue
        start, end = span
        assert 0 <= start <= end <= len(text)
        assert text[start:end] == expected
    printed = sorted(span for span in content_spans if span is not None)
    assert all(a[1] <= b[0] for a, b in zip(printed, printed[1:])), "content spans overlap"
    assert len(generation_spans) == len(ends)
    for (start, end), (i, marker) in zip(generation_spans, ends):
        c_start, c_end = content_spans[i]
        assert (end, text[c_end:end]) == (c_end + len(marker), marker)
        if start != c_start:  # a think block is generated too: it sits between the prefix and the content
            assert fmt.rule_for(messages[i]["role"]).transform is Transform.THINK_BLOCK
            assert text[start:c_start].startswith("<think>\n") and text[start:c_start].endswith("\n</think>\n\n")


def test_spans_example(builder) -> None:
    msgs = [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Hi"},
        {"role": "assistant", "content": "Hello!"},
    ]
    text, content, generation = builder.Renderer(FORMATS["chatml"], STD_TOKENS).render_spans(msgs, True)
    assert [text[s:e] for s, e in content] == ["Be brief.", "Hi", "Hello!"]
    assert [text[s:e] for s, e in generation] == ["Hello!<|im_end|>"]
    text, content, generation = builder.Renderer(FORMATS["llama-2"], STD_TOKENS).render_spans(msgs, False)
    assert text == "<s>[INST] <<SYS>>\nBe brief.\n<</SYS>>\n\nHi [/INST] Hello! </s>"
    assert [text[s:e] for s, e in content] == ["Be brief.", "Hi", "Hello!"]
    assert [text[s:e] for s, e in generation] == ["Hello! </s>"]


def test_last_message_tails(builder) -> None:
    """`Turn.last`: Qwen1.5 leaves the last turn open, Tulu 3 drops the newline after a last answer."""
    qwen = builder.Renderer(FORMATS["qwen1.5"], {"eos_token": "<|im_end|>"})
    msgs = [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Yo"}]
    default = "<|im_start|>system\nYou are a helpful assistant<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n"
    assert qwen.render(msgs, False) == default + "<|im_start|>assistant\nYo"
    assert qwen.render(msgs, True) == default + "<|im_start|>assistant\nYo<|im_end|>\n"  # no second prompt
    assert qwen.render(msgs[:1], True) == default + "<|im_start|>assistant\n"
    system_only = [{"role": "system", "content": "S"}]
    assert qwen.render(system_only, False) == "<|im_start|>system\nS"
    assert qwen.render(system_only, True) == "<|im_start|>system\nS<|im_end|>\n<|im_start|>assistant\n"
    text, _, generation = qwen.render_spans(msgs, False)
    assert [text[a:b] for a, b in generation] == ["Yo"]  # no end marker is printed
    text, _, generation = qwen.render_spans(msgs, True)
    assert [text[a:b] for a, b in generation] == ["Yo<|im_end|>"]

    tulu = builder.Renderer(FORMATS["tulu-3"], {"eos_token": "</s>"})
    msgs = msgs + [{"role": "user", "content": "Q"}, {"role": "assistant", "content": "R"}]
    text, _, generation = tulu.render_spans(msgs, True)
    assert text == "<|user|>\nHi\n<|assistant|>\nYo</s>\n<|user|>\nQ\n<|assistant|>\nR</s><|assistant|>\n"
    assert [text[a:b] for a, b in generation] == ["Yo</s>", "R</s>"]
    assert tulu.render(msgs + [{"role": "foo", "content": "x"}], True) == text.replace("R</s>", "R</s>\n")


def test_skip_empty_and_default_system(builder) -> None:
    phi = builder.Renderer(FORMATS["phi-3.5"], {"eos_token": "<|endoftext|>"})
    assert phi.render([{"role": "system", "content": ""}, USER], True) == "<|user|>\nhi<|end|>\n<|assistant|>\n"
    assert phi.render_spans([USER, {"role": "system", "content": ""}], False)[1][1] is None
    solar = builder.Renderer(FORMATS["solar"], {})
    assert solar.render([USER, {"role": "system", "content": ""}], True) == "### User:\nhi\n\n### Assistant:\n"
    coder = builder.Renderer(FORMATS["deepseek-coder"], {"bos_token": "<s>"})
    assert coder.render([USER], False).startswith("<s>You are an AI programming assistant")
    # The default is left out when any message, not only the first, is a system message.
    assert coder.render([USER, {"role": "system", "content": "S"}], False) == "<s>### Instruction:\nhi\nS"


# --- declines -------------------------------------------------------------------------------------

USER = {"role": "user", "content": "hi"}


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize(
    "messages",
    [
        [],
        "not a list",
        [["role", "user"]],
        [{"role": "user"}],
        [{"content": "x"}],
        [{"role": "user", "content": None}],
        [{"role": "user", "content": [{"type": "text", "text": "x"}]}],
        [{"role": 1, "content": "x"}],
        [USER, {"role": "assistant", "content": "x", "tool_calls": []}],
        [{("role",): "user", "role": "user", "content": "x"}],
    ],
    ids=["empty", "str", "pair", "no-content", "no-role", "none", "parts", "int-role", "tool_calls", "odd-key"],
)
def test_declines(builder, name: str, messages: Any) -> None:
    renderer = builder.Renderer(FORMATS[name], STD_TOKENS)
    if not FORMATS[name].declined_keys and ("tool_calls" in str(messages) or "('role',)" in str(messages)):
        # The template reads no key but role and content: the extra key changes nothing.
        got = ours(renderer, messages, True)
        assert got is not DECLINED
        assert_same(got, reference(name, messages, True, STD_TOKENS))
        return
    assert renderer.render(messages, True) is None
    assert renderer.render_spans(messages, True) is None
    assert renderer.covers(messages) is False


@pytest.mark.parametrize(
    ("name", "role"), [("deepseek-v3", "tool"), ("mistral-v3", "tool")], ids=["deepseek-tool", "mistral-tool"]
)
def test_declined_roles(builder, name: str, role: str) -> None:
    renderer = builder.Renderer(FORMATS[name], STD_TOKENS)
    assert renderer.render([USER, {"role": role, "content": "22"}], True) is None


@pytest.mark.parametrize("name", NAMES)
def test_missing_required_token_declines_or_matches(builder, name: str) -> None:
    msgs = [{"role": "system", "content": "s"}, USER, {"role": "assistant", "content": "a"}, USER]
    for toks in ({}, {"bos_token": "<s>"}, {"eos_token": "</s>"}):
        assert_same(ours(builder.Renderer(FORMATS[name], toks), msgs, True), reference(name, msgs, True, toks))


def test_required_token_is_only_needed_where_printed(builder) -> None:
    renderer = builder.Renderer(FORMATS["mistral-v1"], {"bos_token": "<s>"})  # no eos
    assert renderer.render([USER]) == "<s>[INST] hi [/INST]"
    assert renderer.render([USER, {"role": "assistant", "content": "a"}]) is None


class Role(str, enum.Enum):
    USER = "user"
    ASSISTANT = "assistant"


class Text(str):
    def __str__(self) -> str:  # transformers reads the str value, not __str__
        return "overridden"


@pytest.mark.parametrize("name", NAMES)
def test_str_subclasses_read_as_str(builder, name: str) -> None:
    msgs = [{"role": Role.USER, "content": Text(" hi ")}, {"role": Role.ASSISTANT, "content": Text("yo")}]
    got = ours(builder.Renderer(FORMATS[name], STD_TOKENS), msgs, True)
    assert got is not DECLINED
    assert_same(got, reference(name, msgs, True, STD_TOKENS))


@pytest.mark.parametrize("name", NAMES)
def test_tuples_and_many_turns(builder, name: str) -> None:
    msgs = tuple({"role": "user" if i % 2 == 0 else "assistant", "content": f" m{i} "} for i in range(41))
    got = ours(builder.Renderer(FORMATS[name], STD_TOKENS), msgs, True)
    assert got is not DECLINED
    assert_same(got, reference(name, msgs, True, STD_TOKENS))


def test_render_batch(builder) -> None:
    renderer = builder.Renderer(FORMATS["chatml"], STD_TOKENS)
    batch = [[USER], [], [{"role": "user", "content": None}], [USER, {"role": "assistant", "content": "é👋"}]]
    assert renderer.render_batch(batch, True) == [renderer.render(m, True) for m in batch]
    assert renderer.render_batch(batch, True)[1:3] == [None, None]


@pytest.mark.parametrize("name", NAMES)
def test_pickles(builder, name: str) -> None:
    renderer = builder.Renderer(FORMATS[name], STD_TOKENS)
    clone = pickle.loads(pickle.dumps(renderer))
    assert type(clone) is type(renderer) and clone.format == FORMATS[name]
    msgs = [USER, {"role": "assistant", "content": " a "}, USER]
    assert clone.render(msgs, True) == renderer.render(msgs, True)


def test_raises_template_error(builder) -> None:
    renderer = builder.Renderer(FORMATS["gemma"], STD_TOKENS)
    with pytest.raises(jinja2.exceptions.TemplateError, match="^System role not supported$"):
        renderer.render([{"role": "system", "content": "x"}, USER])
    with pytest.raises(jinja2.exceptions.TemplateError, match="must alternate"):
        renderer.render([USER, USER])


# --- the formats as data --------------------------------------------------------------------------


@pytest.mark.parametrize("name", NAMES)
def test_format_is_plain_data(name: str) -> None:
    fmt = FORMATS[name]
    assert fmt.name == name
    assert hash(fmt) == hash(FORMATS[name]) and fmt == FORMATS[name]
    with pytest.raises(AttributeError):
        fmt.name = "x"  # type: ignore[misc]
    assert fmt.tokens <= {"bos_token", "eos_token"}


@pytest.mark.parametrize("name", NAMES)
def test_a_route_reads_what_the_template_reads(name: str) -> None:
    """The variables a route sends to Jinja are what transformers' parse of the source reads."""
    env = _compile_jinja_template(SOURCES[name]).environment  # transformers' own environment
    read = jinja2.meta.find_undeclared_variables(env.parse(SOURCES[name])) - set(env.globals)
    route = routing.Route(_fast.compile_format(FORMATS[name], STD_TOKENS), SOURCES[name])
    assert route.reads == read
    assert read & {"bos_token", "eos_token"} == FORMATS[name].tokens


@pytest.mark.parametrize("name", NAMES)
def test_sources_match_the_packaged_templates(name: str) -> None:
    builtin = {b.name: b for b in BUILTINS}[name]
    assert builtin.corpus_file == FORMATS[name].source
    packaged = builtin.read_source()
    assert (PACKAGE_TEMPLATES / f"{name}.jinja").read_text(encoding="utf-8") == packaged
    if name == "command-r":  # the model's own template; the corpus has only its Aya variant
        packaged = packaged.replace(_COMMAND_R_DEFAULT, _AYA_DEFAULT)
    assert packaged == SOURCES[name]


# The default system texts of the dead branch (`{% elif false == true %}`) of Cohere's two templates.
_COMMAND_R_DEFAULT = (
    "You are Command-R, a brilliant, sophisticated, AI-assistant trained to assist human users by providing "
    "thorough responses. You are trained by Cohere."
)
_AYA_DEFAULT = (
    "You are Aya, a brilliant, sophisticated, multilingual AI-assistant trained to assist human users by providing "
    "thorough responses. You are able to interact and respond to questions in 23 languages and you are powered by "
    "a multilingual model built by Cohere For AI."
)


def test_command_r_is_the_models_own_template() -> None:
    """`command-r` recognises the template c4ai-command-r-v01 ships, `aya` the Aya variant; both compile."""
    command_r = (PACKAGE_TEMPLATES / "command-r.jinja").read_text(encoding="utf-8")
    assert _COMMAND_R_DEFAULT in command_r and _AYA_DEFAULT not in command_r
    assert routing.recognise(command_r) is FORMATS["command-r"]
    assert routing.recognise(SOURCES["aya"]) is FORMATS["aya"]


def test_routes_send_calls_with_variables_the_template_reads_to_jinja() -> None:
    def covers(name: str, tools: object = None, **variables: object) -> bool:
        route = routing.Route(_fast.compile_format(FORMATS[name], STD_TOKENS), SOURCES[name])
        return route.covers_call(RenderOptions.of(False, tools, None, False, None, variables))

    assert covers("chatml", tools=[{"x": 1}], date_string="x")
    assert not covers("qwen2.5", tools=[])
    assert covers("qwen2.5", tools=None)
    assert not covers("llama-3.1", date_string=None)


def test_format_validation() -> None:
    with pytest.raises(ValueError):
        Turn(end=(ROLE,))
    with pytest.raises(ValueError):
        Format("x", "x.jinja", system=SystemPolicy.LEAD)
    with pytest.raises(ValueError):
        Format("x", "x.jinja", system=SystemPolicy.REJECT)
    with pytest.raises(ValueError):
        Format("x", "x.jinja", roles={"user": Turn(prefix=(ROLE,))})
    fmt = Format("x", "x.jinja", roles={"b": SKIP, "a": Reject("no")}, other=DECLINE)
    assert fmt.roles == (("a", Reject("no")), ("b", SKIP)) and fmt.rule_for("zzz") is DECLINE
    with pytest.raises(ValueError):
        Turn(last=(("x",),))  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        Turn(last=((ROLE,), ()))
    with pytest.raises(ValueError):
        Turn(group_open=("<g>",), last=((), ()))
    with pytest.raises(ValueError):
        Turn(group_open=("<g>",), skip_empty=True)
    with pytest.raises(ValueError):
        Format("x", "x.jinja", default_system="d")  # TURN with a default needs a system turn
    with pytest.raises(ValueError):
        Format("x", "x.jinja", system=SystemPolicy.LEAD, system_turn=Turn(skip_empty=True))
    with pytest.raises(ValueError):
        Format("x", "x.jinja", system=SystemPolicy.LEAD, system_turn=Turn(last=((), ())), after_system=("\n",))
    with pytest.raises(ValueError):
        Format("x", "x.jinja", other=Turn(skip_empty=True), system=SystemPolicy.FOLD, system_turn=Turn())
    assert Format("x", "x.jinja", other=Turn(last=((EOS_TOKEN,), ()))).tokens == {"eos_token"}


# --- the built-in table ---------------------------------------------------------------------------


def _normalised(source: str) -> str:
    """The source as Jinja reads it: newlines as "\\n", without the one trailing newline it drops."""
    source = source.replace("\r\n", "\n").replace("\r", "\n")
    return source[:-1] if source.endswith("\n") else source


def test_formats_builtins_and_templates_match() -> None:
    """Every format has a built-in entry and a packaged template, and every template has a format."""
    builtins = {b.name: b for b in BUILTINS}
    packaged = {path.stem for path in PACKAGE_TEMPLATES.glob("*.jinja")}
    assert set(FORMATS) == set(builtins) == packaged
    assert [b.name for b in BUILTINS] == sorted(builtins), "BUILTINS is kept sorted by name"
    for name, fmt in FORMATS.items():
        assert builtins[name].corpus_file == fmt.source
        assert fmt.tokens <= set(builtins[name].special_tokens), f"{name}: a token it prints has no value"


def test_corpus_templates_routed_to_builtins() -> None:
    """How many corpus templates are, up to Jinja-invisible differences, a built-in's reference source."""
    builtin_sources = {_normalised(path.read_text(encoding="utf-8")) for path in PACKAGE_TEMPLATES.glob("*.jinja")}
    corpus = sorted((CORPUS / "templates").glob("*.jinja"))
    routed = [path.name for path in corpus if _normalised(path.read_text(encoding="utf-8")) in builtin_sources]
    assert len(corpus) == 99
    assert len(routed) >= 50, routed
    # The corpus holds no duplicates: one corpus template per format, except command-r (see above).
    assert len(routed) == len(FORMATS) - 1


# --- the dispatcher -------------------------------------------------------------------------------


def test_dispatcher_flags() -> None:
    assert _fast.IMPLEMENTATION in ("c", "py")
    assert _fast.USING_C == (_fast.IMPLEMENTATION == "c")
    renderer = _fast.compile_format(FORMATS["chatml"], STD_TOKENS)
    assert isinstance(renderer, _fast.Renderer)
    if extensions_required():
        assert _fast.USING_C, "CHATFMT_REQUIRE_EXTENSIONS is set but the compiled builder is not in use"


def test_no_extensions_env_forces_python() -> None:
    code = "import chatfmt._fast as f; print(f.IMPLEMENTATION)"
    env = {**os.environ, "CHATFMT_NO_EXTENSIONS": "1"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "py"
