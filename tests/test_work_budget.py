"""The work budget: deterministic, scaled with the input, roomy enough for every real template.

A hostile template is stopped within a second, by the count of what it does (loop iterations, calls,
characters built) rather than by the clock; every corpus template renders a conversation of about
100,000 tokens within the default budget.
"""

from __future__ import annotations

import time

import pytest
from conftest import TEMPLATE_FILES

import chatfmt
from chatfmt.jinja.limits import DEFAULT_LIMITS, Limits, TemplateLimitExceeded, set_default_limits

UNLIMITED = Limits(max_seconds=None, max_output_chars=None, max_loop_iterations=None, max_work=None)

CHAT = [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}, {"role": "user", "content": "x"}]
NO_CLOCK = Limits(max_seconds=None)

RUNAWAYS = {
    "2^40 macro leaves": "{% macro f(n) %}{% if n > 0 %}{{ f(n - 1) }}{{ f(n - 1) }}{% else %}x{% endif %}{% endmacro %}{{ f(40) }}",
    "macro recursion over messages": (
        "{% macro r(d) %}{% for m in messages %}{% if d < 12 %}{{ r(d + 1) }}{% endif %}{% endfor %}{% endmacro %}{{ r(0) }}"
    ),
    "100,000 namespace appends": (
        "{% set ns = namespace(s='') %}{% for i in range(100000) %}{% set ns.s = ns.s ~ 'x' * 50 %}{% endfor %}{{ ns.s }}"
    ),
    "nested range loops": "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}",
    "doubling by set": "{% set s = 'x' * 1000 %}" + "{% set s = s ~ s %}" * 40 + "{{ s | length }}",
}


@pytest.mark.parametrize("source", list(RUNAWAYS.values()), ids=list(RUNAWAYS))
def test_runaway_templates_are_stopped_by_the_work_budget(source: str) -> None:
    template = chatfmt.Template.from_jinja(source, limits=NO_CLOCK)
    started = time.monotonic()
    with pytest.raises(TemplateLimitExceeded, match="units of work|would exceed"):
        template.render(CHAT)
    assert time.monotonic() - started < 1


def test_the_budget_is_a_count_not_a_clock() -> None:
    source = "{% for i in range(1000) %}{{ i }}{% endfor %}"
    assert chatfmt.Template.from_jinja(source, limits=Limits(max_seconds=None, max_work=1000)).render(CHAT)
    with pytest.raises(TemplateLimitExceeded, match="units of work") as stopped:
        chatfmt.Template.from_jinja(
            source, limits=Limits(max_seconds=None, max_work=999, work_per_input_char=0)
        ).render(CHAT)
    assert stopped.value.limit == "max_work"


@pytest.mark.parametrize(
    ("limits", "source", "limit"),
    [
        (Limits(max_output_chars=10, output_per_input_char=0), "{{ 'x' * 11 }}", "max_output_chars"),
        (Limits(max_loop_iterations=5), "{% for i in range(6) %}{% endfor %}", "max_loop_iterations"),
        (Limits(max_seconds=0.0), "{% for i in range(6) %}{% endfor %}", "max_seconds"),
    ],
)
def test_the_error_names_the_limit(limits: Limits, source: str, limit: str) -> None:
    with pytest.raises(TemplateLimitExceeded, match=limit) as stopped:
        chatfmt.Template.from_jinja(source, limits=limits).render(CHAT)
    assert stopped.value.limit == limit


def test_the_budget_grows_with_the_input() -> None:
    source = "{% for m in messages %}{% for c in m.content %}{{ c }}{% endfor %}{% endfor %}"
    small = Limits(max_seconds=None, max_work=100, work_per_input_char=2)
    long_chat = [{"role": "user", "content": "y" * 5000}]
    template = chatfmt.Template.from_jinja(source, limits=small)
    assert template.render(long_chat) == "y" * 5000  # 5,001 units: within 100 + 2 per input character
    with pytest.raises(TemplateLimitExceeded, match="units of work"):
        chatfmt.Template.from_jinja(
            source, limits=Limits(max_seconds=None, max_work=100, work_per_input_char=0)
        ).render(long_chat)


def test_the_output_cap_grows_with_the_input() -> None:
    source = "{% for m in messages %}{{ m.content }}{{ m.content }}{% endfor %}"
    limits = Limits(max_output_chars=100, output_per_input_char=2)
    template = chatfmt.Template.from_jinja(source, limits=limits)
    assert len(template.render([{"role": "user", "content": "y" * 5000}])) == 10_000  # within 100 + 2 × 5,015
    with pytest.raises(TemplateLimitExceeded, match="100 characters plus 2 per input character"):
        chatfmt.Template.from_jinja(source * 3, limits=limits).render([{"role": "user", "content": "y" * 5000}])


def test_limits_are_set_globally_for_templates_without_their_own() -> None:
    source = "{% for i in range(100) %}{% endfor %}"
    tight = Limits(max_work=50, work_per_input_char=0)
    default, own = chatfmt.Template.from_jinja(source), chatfmt.Template.from_jinja(source, limits=Limits())
    set_default_limits(tight)
    try:
        with pytest.raises(TemplateLimitExceeded, match="units of work"):
            default.render(CHAT)
        assert own.render(CHAT) == ""
    finally:
        set_default_limits(DEFAULT_LIMITS)
    assert default.render(CHAT) == ""


def _long_conversation(tokens: int = 100_000) -> list[dict[str, str]]:
    """About `tokens` tokens (four characters each) in 200 alternating turns after a system prompt."""
    words = "the quick brown fox jumps over the lazy dog while the model writes a long answer ".split()
    per_turn = tokens * 4 // 200
    text = " ".join(words[i % len(words)] for i in range(per_turn // 5))[:per_turn]
    turns = [{"role": "user" if i % 2 == 0 else "assistant", "content": f"{i}: {text}"} for i in range(200)]
    return [{"role": "system", "content": text}, *turns, {"role": "user", "content": "last question"}]


@pytest.mark.parametrize("path", TEMPLATE_FILES, ids=[path.stem for path in TEMPLATE_FILES])
def test_corpus_templates_fit_the_default_budget_on_a_long_conversation(path, fixed_clocks) -> None:  # noqa: ANN001
    source, tokens = path.read_text(encoding="utf-8"), {"bos_token": "<s>", "eos_token": "</s>"}
    chat = _long_conversation()

    def outcome(limits: Limits) -> object:
        template = chatfmt.Template(source, special_tokens=tokens, limits=limits).jinja_only()
        try:
            return template.render(chat, add_generation_prompt=True)
        except TemplateLimitExceeded:
            raise
        except Exception as exc:  # noqa: BLE001 - the template's own refusal of this conversation, compared below
            return (type(exc), str(exc))

    assert outcome(Limits(max_seconds=None)) == outcome(UNLIMITED)
