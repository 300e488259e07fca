"""Pattern formats: the generated Jinja, rendered by transformers, equals the compiled builder, on both builders."""

from __future__ import annotations

import re

import minijinja
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from oracle import hf_render
from strategies import awkward_text

import chatfmt
from chatfmt import _fast
from chatfmt.formats import (
    ROLE,
    SKIP,
    Date,
    Format,
    Reject,
    SystemPolicy,
    Token,
    Transform,
    Turn,
    UnsupportedFormat,
    format_from_patterns,
    format_jinja,
    read_toml,
)

pytestmark = pytest.mark.usefixtures("builder")  # every test here runs on both builders

COURSE_TEMPLATE = """
<|system|>{system_message}
<|user|>{user_message}
<|assistant|>{assistant_message}
""".lstrip()
TOKENS = {"bos_token": "<s>", "eos_token": "</s>"}

# Literal text of a pattern: markup, whitespace, quotes, backslashes, braces, Jinja syntax, non-ASCII.
_literal = st.lists(
    st.sampled_from(
        [
            "<|",
            "|>",
            "[INST]",
            " ",
            "\n",
            "\t",
            "'",
            '"',
            "\\",
            "{",
            "}",
            "{{",
            "{%",
            "#}",
            "é",
            "日",
            "👋🏽",
            "\r",
            "a",
            "Z",
            "\u2028",
            "\x00",
        ]
    ),
    max_size=6,
).map("".join)


def _escaped(text: str) -> str:
    return text.replace("{", "{{").replace("}", "}}")


_token = st.sampled_from(["", "", "{bos_token}", "{eos_token}"])


@st.composite
def patterns(draw, *, generic: bool = False) -> str:
    parts = [_escaped(draw(_literal)), draw(_token)]
    if generic:
        parts.insert(draw(st.integers(0, 2)), "{role}")
    parts += ["{content}", _escaped(draw(_literal)), draw(_token), _escaped(draw(_literal))]
    return "".join(parts)


@st.composite
def pattern_formats(draw) -> dict:
    roles = draw(st.sets(st.sampled_from(["system", "user", "assistant", "tool"]), min_size=1))
    table = {role: draw(patterns()) for role in sorted(roles)}
    if draw(st.booleans()):
        table["*"] = draw(patterns(generic=True))
    if "tool" in table and draw(st.booleans()):
        table["tool"] = None
    has_system = "system" in table
    system = draw(st.sampled_from(["turn", "fold"] if has_system else ["turn", "reject"]))
    printed = [role for role in table if table[role] is not None]
    options = {
        "system": system,
        "trim": draw(st.one_of(st.booleans(), st.sets(st.sampled_from(printed)) if printed else st.booleans())),
        "start": draw(st.sampled_from(["", "{bos_token}", "<start>\n"])),
        "generation_prompt": draw(st.one_of(st.none(), _literal.map(_escaped), st.just("{eos_token}x"))),
    }
    if has_system and system == "turn" and draw(st.booleans()):
        options["default_system"] = draw(awkward_text)
    return {"patterns": table, **options}


message_roles = st.sampled_from(["system", "user", "assistant", "tool", "developer", "", "user", "assistant"])
conversations = st.lists(
    st.fixed_dictionaries({"role": message_roles, "content": awkward_text}), min_size=1, max_size=6
)


def outcome(render):
    try:
        return render()
    except Exception as exc:  # the outcome to compare is the exception itself
        return (type(exc), str(exc))


def hf_outcome(source, messages, tokens, add_generation_prompt):
    result = hf_render(source, messages, tokens, add_generation_prompt=add_generation_prompt)
    return (type(result), str(result)) if isinstance(result, Exception) else result


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    spec=pattern_formats(),
    messages=conversations,
    add_generation_prompt=st.booleans(),
    tokens=st.sampled_from([TOKENS, {}, {"bos_token": "B"}]),
)
def test_generated_jinja_rendered_by_transformers_equals_the_builder(spec, messages, add_generation_prompt, tokens):
    spec = dict(spec)
    fmt = format_from_patterns(spec.pop("patterns"), **spec)
    source = format_jinja(fmt)
    renderer = _fast.Renderer(fmt, tokens)
    compiled = outcome(lambda: renderer.render(messages, add_generation_prompt))
    assert compiled is not None, "a pattern format covers every conversation of string contents"
    assert compiled == hf_outcome(source, messages, tokens, add_generation_prompt)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(spec=pattern_formats(), messages=conversations)
def test_pattern_template_takes_the_compiled_path_and_matches_transformers(spec, messages):
    spec = dict(spec)
    template = chatfmt.Template.from_patterns(spec.pop("patterns"), special_tokens=TOKENS, **spec)
    assert template.is_compiled
    assert template.path_for(messages, add_generation_prompt=True) == "compiled"
    ours = outcome(lambda: template.render(messages, add_generation_prompt=True))
    assert ours == hf_outcome(template.source, messages, TOKENS, True)


def _minijinja_render(source: str, messages, add_generation_prompt: bool) -> str:
    env = minijinja.Environment(trim_blocks=True, lstrip_blocks=True)

    def raise_exception(message):
        raise ValueError(message)

    env.add_function("raise_exception", raise_exception)
    return env.render_str(source, messages=messages, add_generation_prompt=add_generation_prompt, **TOKENS)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    spec=pattern_formats(),
    messages=st.lists(
        st.fixed_dictionaries(
            {"role": st.sampled_from(["system", "user", "assistant"]), "content": st.text("ab \n'\\{}<|>", max_size=8)}
        ),
        min_size=1,
        max_size=5,
    ),
)
def test_generated_jinja_renders_the_same_in_minijinja(spec, messages):
    assume(not re.search("[\ud800-\udfff]", spec.get("default_system") or ""))  # Rust strings cannot hold them
    spec = dict(spec)
    template = chatfmt.Template.from_patterns(spec.pop("patterns"), special_tokens=TOKENS, **spec)
    expected = outcome(lambda: template.render(messages, add_generation_prompt=True))
    theirs = outcome(lambda: _minijinja_render(template.source, messages, True))
    if isinstance(expected, tuple):
        assert isinstance(theirs, tuple) and expected[1] in theirs[1]  # both refuse the conversation, with its message
    else:
        assert theirs == expected


def test_the_course_example_works_as_written():
    template = chatfmt.Template.from_patterns(COURSE_TEMPLATE)
    messages = [{"role": "system", "content": "You are kind."}, {"role": "user", "content": "Hi!"}]
    text = template.render(messages, add_generation_prompt=True)
    assert text == "<|system|>You are kind.\n<|user|>Hi!\n<|assistant|>"
    assert template.is_compiled and template.path_for(messages) == "compiled"
    assert hf_render(template.source, messages, add_generation_prompt=True) == text


def test_the_issue_entry_point_with_tokens_and_options():
    template = chatfmt.Template.from_patterns(
        {
            "system": "<|system|>{content}\n",
            "user": "<|user|>{content}\n",
            "assistant": "<|assistant|>{content}{eos_token}\n",
        },
        generation_prompt="<|assistant|>",
        special_tokens=TOKENS,
        start="{bos_token}",
        trim=True,
        default_system="Be brief.",
    )
    messages = [{"role": "user", "content": "  Hi  "}, {"role": "assistant", "content": "Hello"}]
    assert template.render(messages) == "<s><|system|>Be brief.\n<|user|>Hi\n<|assistant|>Hello</s>\n"
    spans = template.render_spans(messages)
    start, end = spans.generation[0]
    assert spans.text[start:end] == "Hello</s>"  # the newline after the end token is not generated
    assert hf_render(template.source, messages, TOKENS) == template.render(messages)


def test_system_policies():
    fold = chatfmt.Template.from_patterns(
        {
            "system": "<<SYS>>\n{content}\n<</SYS>>\n\n",
            "user": "[INST] {content} [/INST]",
            "assistant": " {content}</s>",
        },
        system="fold",
        generation_prompt="",
    )
    chat = [{"role": "system", "content": "S"}, {"role": "user", "content": "U"}]
    assert fold.render(chat) == "[INST] <<SYS>>\nS\n<</SYS>>\n\nU [/INST]"
    assert fold.format.system is SystemPolicy.FOLD
    reject = chatfmt.Template.from_patterns({"user": "U:{content}\n", "assistant": "A:{content}\n"}, system="reject")
    with pytest.raises(Exception, match="does not support system messages"):
        reject.render(chat)
    with pytest.raises(Exception, match="no pattern for the role of this message"):
        reject.render([{"role": "tool", "content": "x"}])


def test_pattern_errors_are_explained():
    with pytest.raises(ValueError, match=r"needs \{content\} exactly once"):
        format_from_patterns({"user": "<|user|>"})
    with pytest.raises(ValueError, match=r"unknown placeholder \{message\}"):
        format_from_patterns({"user": "{message}{content}"})
    with pytest.raises(ValueError, match=r"\{role\} may only come before"):
        format_from_patterns({"*": "{content}{role}"})
    with pytest.raises(ValueError, match="default_system needs a system pattern"):
        format_from_patterns({"user": "{content}"}, default_system="x")
    with pytest.raises(ValueError, match="one {<role>_message} placeholder"):
        format_from_patterns("no placeholder here\n")
    with pytest.raises(ValueError, match="trim names roles without a pattern"):
        format_from_patterns({"user": "{content}"}, trim=["assistant"])


def test_toml_file(tmp_path):
    path = tmp_path / "my-chat.toml"
    path.write_text(
        'generation_prompt = "<|assistant|>"\ntrim = true\nstart = "{bos_token}"\n'
        '[patterns]\nuser = "<|user|>{content}\\n"\nassistant = "<|assistant|>{content}{eos_token}\\n"\n"*" = "<|{role}|>{content}\\n"\n'
        '[special_tokens]\nbos_token = "<s>"\neos_token = "</s>"\n',
        encoding="utf-8",
    )
    template = chatfmt.Template.from_toml(path)
    assert template.name == "my-chat" and dict(template.special_tokens) == TOKENS
    messages = [{"role": "tool", "content": " 42 "}, {"role": "assistant", "content": "ok"}]
    assert template.render(messages, add_generation_prompt=True) == "<s><|tool|>42\n<|assistant|>ok</s>\n<|assistant|>"
    assert chatfmt.get_template(str(path)).render(messages) == template.render(messages)
    with pytest.raises(ValueError, match="unknown keys"):
        read_toml('colour = "red"\n[patterns]\nuser = "{content}"\n')
    with pytest.raises(ValueError, match=r"needs a \[patterns\] table"):
        read_toml('name = "x"\n')


def test_template_from_a_format_alone_generates_its_source():
    fmt = Format(
        name="mini",
        source="",
        roles={"user": Turn(prefix=("U: ",), end=("\n",))},
        other=Turn(prefix=(ROLE, ": "), end=(Token("eos_token"),)),
        generation_prompt=("A: ",),
    )
    template = chatfmt.Template(format=fmt, special_tokens=TOKENS)
    assert template.source == format_jinja(fmt) and template.is_compiled
    lone = chatfmt.Template.from_patterns({"user": "\ud800{content}"})
    assert "\\ud800" in lone.source and lone.source.encode("utf-8")  # saved as UTF-8, rendered as the surrogate
    assert (
        lone.render([{"role": "user", "content": "x"}])
        == lone.jinja_only().render([{"role": "user", "content": "x"}])
        == "\ud800x"
    )
    messages = [{"role": "user", "content": "hi"}, {"role": "bot", "content": "yo"}]
    assert template.render(messages, add_generation_prompt=True) == "U: hi\nbot: yo</s>A: "
    assert template.jinja_only().render(messages, add_generation_prompt=True) == "U: hi\nbot: yo</s>A: "
    with pytest.raises(TypeError, match="needs Jinja source, or a format"):
        chatfmt.Template()


def test_formats_it_cannot_write_as_jinja_are_named():
    grouped = Format(name="g", source="", roles={"tool": Turn(prefix=("T",), group_open=("<",), group_close=(">",))})
    with pytest.raises(UnsupportedFormat, match="role tool: group_open cannot be generated"):
        chatfmt.Template(format=grouped)
    with pytest.raises(UnsupportedFormat, match="transform"):
        format_jinja(Format(name="j", source="", other=Turn(transform=Transform.JSON)))
    with pytest.raises(UnsupportedFormat, match="Date"):
        format_jinja(Format(name="d", source="", other=Turn(prefix=(Date("%d %b %Y"),))))
    with pytest.raises(UnsupportedFormat, match="special token named 'message'"):
        format_jinja(Format(name="t", source="", other=Turn(prefix=(Token("message"),))))
    with pytest.raises(UnsupportedFormat, match="alternation_error cannot be generated"):
        format_jinja(Format(name="a", source="", other=Turn(), alternation_error="alternate!"))
    skipping = Format(name="s", source="", roles={"user": SKIP, "system": Reject("no")}, other=Turn(prefix=(ROLE,)))
    assert "raise_exception('no')" in format_jinja(skipping)


def test_generated_source_is_readable_jinja():
    source = chatfmt.Template.from_patterns(COURSE_TEMPLATE).source
    assert source.startswith("{#- Generated by chatfmt")
    assert "message['role'] == 'user'" in source and "loop_messages" in source
    assert not re.search(r"{%-? *generation|\+", source)  # no transformers-only tag; strings joined with ~


def _generatable_builtins() -> list[str]:
    from chatfmt.formats.builtin import BUILTINS

    names = []
    for builtin in BUILTINS:
        try:
            format_jinja(builtin.format)
        except UnsupportedFormat:
            continue
        names.append(builtin.name)
    return names


@pytest.mark.parametrize("name", _generatable_builtins())
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(messages=conversations, add_generation_prompt=st.booleans())
def test_built_in_formats_the_generator_can_write_render_like_their_builder(name, messages, add_generation_prompt):
    builtin = chatfmt.get_template(name)
    fmt = builtin.format
    renderer = _fast.Renderer(fmt, builtin.special_tokens)
    compiled = outcome(lambda: renderer.render(messages, add_generation_prompt))
    if compiled is None:
        return  # the builder declines it: the Template renders it with Jinja
    assert compiled == hf_outcome(format_jinja(fmt), messages, dict(builtin.special_tokens), add_generation_prompt)
