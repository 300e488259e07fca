"""A Format claimed for a Jinja source is refused whenever they render differently, and accepted when they don't."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from oracle import hf_render

import chatfmt
from chatfmt.formats import ROLE, Format, Turn, format_jinja
from chatfmt.routing.claims import FormatMismatch, probe_material

pytestmark = pytest.mark.usefixtures("builder")  # every test here runs on both builders

ACME_SOURCE = (
    "{% for m in messages %}{% if m['role'] == 'function' %}{{ '<fn>' + m['content'] + '</fn>\n' }}"
    "{% elif m['content']|length > 500 %}{{ '[long]\n' }}"
    "{% else %}{{ '<|' + m['role'] + '|>' + m['content'] + '\n' }}{% endif %}{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|assistant|>' }}{% endif %}"
)
ACME = Format(
    name="acme",
    source="acme.jinja",
    other=Turn(prefix=("<|", ROLE, "|>"), end=("\n",)),
    generation_prompt=("<|assistant|>",),
)
PLAIN = "{{ '<|' + m['role'] + '|>' + m['content'] + '\n' }}"


def trapped(condition: str, trap: str = "'[trap]\n'") -> str:
    """ACME's format with one extra branch taken when `condition` holds."""
    return (
        "{% for m in messages %}{% if " + condition + " %}{{ " + trap + " }}{% else %}" + PLAIN + "{% endif %}"
        "{% endfor %}{% if add_generation_prompt %}{{ '<|assistant|>' }}{% endif %}"
    )


def test_the_issue_example_is_refused_with_the_input_and_both_outputs():
    with pytest.raises(FormatMismatch) as refused:
        chatfmt.Template.from_jinja(ACME_SOURCE, format=ACME)
    difference = refused.value.difference
    assert "does not render like its Jinja source" in str(refused.value)
    assert "the format gives" in str(refused.value) and "the Jinja source gives" in str(refused.value)
    assert difference.jinja == hf_render(
        ACME_SOURCE, difference.conversation, add_generation_prompt=difference.add_generation_prompt
    )
    assert difference.compiled != difference.jinja
    with pytest.raises(ValueError):  # FormatMismatch is a ValueError, as the refusal always was
        chatfmt.Template.from_jinja(trapped("m['role'] == 'function'"), format=ACME)


def test_probes_come_from_the_template():
    roles, contents = probe_material(ACME_SOURCE)
    assert "function" in roles
    assert {"a" * 499, "a" * 500, "a" * 501} <= set(contents)
    roles, contents = probe_material(
        "{{ messages[0]['content'].split('<sep>')[0] }}{% if 'x' in messages[0]['content'] %}{% endif %}"
    )
    assert any("<sep>" in content for content in contents) and "x" in contents


_constant = st.text(st.sampled_from("ab <|>/\n"), min_size=1, max_size=5)
_quoted = _constant.map(repr)  # a Python repr is a valid Jinja string literal for these characters
_conditions = st.one_of(
    _quoted.map(lambda c: f"m['role'] == {c}"),
    _quoted.map(lambda c: f"m['content'] == {c}"),
    _quoted.map(lambda c: f"m['content'].startswith({c})"),
    _quoted.map(lambda c: f"m['content'].endswith({c})"),
    _quoted.map(lambda c: f"{c} in m['content']"),
    _quoted.map(lambda c: f"m['content'].split({c})|length > 1"),
    st.tuples(_quoted, _quoted).map(lambda cs: f"m['role'] in [{cs[0]}, {cs[1]}]"),
    st.tuples(st.sampled_from([">", ">=", "==", "<="]), st.integers(0, 3000)).map(
        lambda t: f"m['content']|length {t[0]} {t[1]}"
    ),
    st.integers(1, 3000).map(lambda n: f"m['content']|length < {n}"),
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(condition=_conditions)
def test_every_satisfiable_branch_the_format_lacks_is_refused(condition):
    with pytest.raises(FormatMismatch):
        chatfmt.Template.from_jinja(trapped(condition), format=ACME)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(condition=_conditions)
def test_a_branch_that_prints_the_same_is_never_refused(condition):
    same = "'<|' ~ m['role'] ~ '|>' ~ m['content'] ~ '\n'"
    template = chatfmt.Template.from_jinja(trapped(condition, same), format=ACME)
    assert template.is_compiled


def test_generated_sources_need_no_probes_and_other_text_is_checked():
    fmt = chatfmt.Template.from_patterns({"user": "U:{content}\n", "assistant": "A:{content}\n"}).format
    assert chatfmt.Template(format_jinja(fmt) + "\n", format=fmt).is_compiled  # the trailing newline Jinja drops
    with pytest.raises(FormatMismatch, match="the format gives"):
        chatfmt.Template(format_jinja(fmt).replace("U:", "User:"), format=fmt)


def test_a_difference_only_a_switch_shows_is_refused_naming_the_switch():
    from chatfmt.formats.builtin import FORMATS

    qwen3 = chatfmt.get_template("qwen3")
    variant = qwen3.source.replace("'<think>\\n\\n</think>\\n\\n'", "'<think>\\n</think>\\n\\n'")
    assert variant != qwen3.source
    with pytest.raises(FormatMismatch, match="enable_thinking=False"):
        chatfmt.Template(variant, special_tokens=qwen3.special_tokens, format=FORMATS["qwen3"])
    same = qwen3.source.replace("\n", " \n", 1)  # other text, same renders: accepted
    assert chatfmt.Template(same, special_tokens=qwen3.special_tokens, format=FORMATS["qwen3"]).is_compiled
