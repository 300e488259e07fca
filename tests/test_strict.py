"""`validate=True`: input a template would render silently wrong is refused, naming the message and the
field; without it, every such input renders exactly as transformers renders it. Deep and oversized inputs
raise chatfmt's own errors, never a bare RecursionError or MemoryError."""

from __future__ import annotations

import io

import pytest
from conftest import TEMPLATE_FILES
from oracle import hf_render

import chatfmt
from chatfmt.cli import EXIT_OK, EXIT_USAGE, main
from chatfmt.errors import InputTooLarge, InvalidConversation, NestingTooDeep
from chatfmt.formats.builtin import BUILTINS
from chatfmt.jinja.inputs import plain_data
from chatfmt.messages import decode_conversation
from chatfmt.strict import input_contract

TOKENS = {"bos_token": "<s>", "eos_token": "</s>"}
MARK = "MARK-7f3a"  # content that must show up in the prompt if the template printed the message

# (template, conversation, the field refused, the message index)
SILENT = [
    ("mistral-v3", [{"role": "hacker", "content": MARK}], "role", 0),
    ("mistral-v3", [{"role": "user", "content": "hi"}, {"role": "assistant", "content": None}], "content", 1),
    ("chatml", [{"role": "user", "content": {"text": MARK}}], "content", 0),
    ("chatml", [{"role": "user", "content": [{"type": "text", "text": MARK}]}], "content", 0),
    ("llama-3", [{"role": "user", "content": "hi"}, {"role": "assistant"}], "content", 1),
    ("chatml", [{"role": "user", "content": 3}], "content", 0),
    ("chatml", [{"role": 7, "content": "x"}], "role", 0),
    ("chatml", ["not a message"], None, 0),
]


@pytest.mark.usefixtures("builder")
@pytest.mark.parametrize(("name", "chat", "field", "index"), SILENT)
def test_validate_refuses_what_renders_silently_wrong(name, chat, field, index):
    template = chatfmt.get_template(name)
    for render in (template.render, template.render_spans, lambda c, **k: template.render_batch([c], **k)):
        with pytest.raises(InvalidConversation) as refused:
            render(chat, validate=True)
        assert (refused.value.message_index, refused.value.field) == (index, field)
    plain = hf_render(template.source, chat, dict(template.special_tokens))  # without validate: transformers'
    for engine in (template, template.jinja_only()):
        try:
            ours = engine.render(chat)
        except Exception as exc:  # noqa: BLE001 - the outcome compared
            assert isinstance(plain, Exception) and type(plain).__name__ in {c.__name__ for c in type(exc).__mro__}
        else:
            assert ours == plain


@pytest.mark.usefixtures("builder")
def test_validate_passes_what_the_template_handles():
    chat = [{"role": "system", "content": "s"}, {"role": "user", "content": "u"}, {"role": "assistant", "content": "a"}]
    for builtin in BUILTINS:
        template = chatfmt.get_template(builtin.name)
        try:
            expected = template.render(chat[1:], add_generation_prompt=True)
        except Exception:  # noqa: BLE001 - formats that refuse this shape themselves are not the point here
            continue
        assert template.render(chat[1:], add_generation_prompt=True, validate=True) == expected
    chatml = chatfmt.get_template("chatml")
    assert chatml.render([{"role": "hacker", "content": MARK}], validate=True).count(MARK) == 1  # a generic turn
    qwen_vl = chatfmt.get_template("qwen2-vl")
    parts = [{"role": "user", "content": [{"type": "image"}, {"type": "text", "text": MARK}]}]
    assert MARK in qwen_vl.render(parts, validate=True)
    with pytest.raises(InvalidConversation, match="text block") as refused:
        qwen_vl.render([{"role": "user", "content": [{"type": "text", "text": {"x": 1}}]}], validate=True)
    assert refused.value.field == "content"
    command_a = chatfmt.Template.from_jinja(
        "{% for m in messages %}{% if m.role|lower == 'user' %}{{ m.content }}{% endif %}{% endfor %}"
    )
    assert command_a.render([{"role": "User", "content": MARK}], validate=True) == MARK  # compared without case
    with pytest.raises(InvalidConversation, match="role 'hacker'"):
        command_a.render([{"role": "hacker", "content": MARK}], validate=True)
    calls = [
        {"role": "user", "content": "x"},
        {"role": "assistant", "tool_calls": [{"type": "function", "function": {"name": "f", "arguments": {}}}]},
    ]
    assert chatfmt.get_template("qwen2.5").render(calls, validate=True) == chatfmt.get_template("qwen2.5").render(calls)


def source_of(path):
    return path.read_text(encoding="utf-8")


@pytest.mark.parametrize("path", TEMPLATE_FILES, ids=[p.stem for p in TEMPLATE_FILES])
def test_a_refused_role_is_one_transformers_prints_nothing_for(path):
    """No false refusals: for every corpus template, a role strict mode refuses is one whose message
    leaves no trace in transformers' prompt (or that transformers refuses itself)."""
    source = source_of(path)
    template = chatfmt.Template(source, special_tokens=TOKENS)
    roles = input_contract(source, template.format).roles
    if roles is None:
        return
    for role in ("hacker", "tool", "system", "developer", "ipython", "function", "User", "SYSTEM", "Assistant"):
        chat = [{"role": "user", "content": "hi"}, {"role": role, "content": MARK}, {"role": "user", "content": "x"}]
        try:
            template.check_conversation(chat)
        except InvalidConversation as refusal:
            assert (refusal.message_index, refusal.field) == (1, "role") and role not in roles
        else:
            continue
        out = hf_render(source, chat, TOKENS)
        assert isinstance(out, Exception) or MARK not in out, role


def test_the_cli_validates_by_default_and_can_be_told_not_to(tmp_path):
    chat = tmp_path / "chat.json"
    chat.write_text('[{"role": "hacker", "content": "x"}]')
    err = io.StringIO()
    assert main(["render", "mistral-v3", str(chat)], stdout=io.StringIO(), stderr=err) == EXIT_USAGE
    assert "message 0, field 'role'" in err.getvalue() and "'hacker'" in err.getvalue()
    out = io.StringIO()
    assert main(["render", "mistral-v3", str(chat), "--no-validate"], stdout=out, stderr=io.StringIO()) == EXIT_OK
    assert out.getvalue() == "<s>"


def test_deep_nesting_raises_chatfmt_errors():
    with pytest.raises(NestingTooDeep) as deep:
        decode_conversation("[" * 100_000 + "]" * 100_000)
    assert isinstance(deep.value, InvalidConversation) and isinstance(deep.value, RecursionError)
    nested: list = []
    for _ in range(5_000):
        nested = [nested]
    with pytest.raises(NestingTooDeep):
        plain_data({"content": nested})
    chat = [{"role": "user", "content": nested}]
    template = chatfmt.Template.from_jinja("{{ messages[0].content | length }}")
    with pytest.raises(NestingTooDeep):
        template.render(chat)
    assert isinstance(hf_render(template.source, chat), RecursionError)  # what transformers raises: still caught


def test_oversized_input_raises_chatfmt_errors():
    with pytest.raises(InputTooLarge) as large:
        decode_conversation('[{"role": "user", "content": "' + "x" * 100 + '"}]', max_chars=50)
    assert isinstance(large.value, InvalidConversation) and isinstance(large.value, MemoryError)
    assert decode_conversation('[{"role": "user", "content": "x"}]', max_chars=None) == [
        {"role": "user", "content": "x"}
    ]


def test_the_cli_answers_deep_input_with_one_line(tmp_path):
    deep = "[" * 100_000 + "]" * 100_000
    chat, tools = tmp_path / "chat.json", tmp_path / "tools.json"
    chat.write_text(deep)
    tools.write_text(deep)
    for argv in (
        ["render", "chatml", str(chat)],
        ["render", "chatml", "-", "--tools", str(tools)],
        ["render", "chatml", "-", "--set", f"x={deep}"],
    ):
        err = io.StringIO()
        code = main(argv, stdin=io.StringIO('[{"role": "user", "content": "x"}]'), stdout=io.StringIO(), stderr=err)
        assert code == EXIT_USAGE and err.getvalue().count("\n") == 1 and "too deeply" in err.getvalue(), argv


@pytest.mark.usefixtures("builder")
def test_validate_in_batches_and_arrow_columns_names_the_row():
    pyarrow = pytest.importorskip("pyarrow")
    template = chatfmt.get_template("mistral-v3")
    rows = [
        [{"role": "user", "content": "ok"}],
        [{"role": "hacker", "content": MARK}],
        [{"role": "user", "content": "fine"}],
    ]
    good = [template.render(rows[0]), None, template.render(rows[2])]
    with pytest.raises(InvalidConversation) as refused:
        template.render_batch(rows, validate=True)
    assert refused.value.row_index == 1 and refused.value.field == "role"
    batch = template.render_batch(rows, validate=True, on_error="null")
    assert list(batch) == good and [(f.row, f.field) for f in batch.failures] == [(1, "role")]
    column = template.render_arrow(pyarrow.array(rows), validate=True, on_error="null")
    assert column.text.to_pylist() == good and [(f.row, f.field) for f in column.failures] == [(1, "role")]
    assert template.render_arrow(pyarrow.array(rows)).to_pylist()[1] == "<s>"  # without validate: transformers'
