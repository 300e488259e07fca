"""Servers call chatfmt from many threads: lookups, compiled and Jinja renders, spans and clocks stay exact."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime

import pytest

import chatfmt

pytestmark = pytest.mark.usefixtures("builder")  # every test here runs on both builders

NAMES = ["chatml", "llama-3", "gemma", "qwen2.5", "mistral-v3", "llama-2"]
DATED = chatfmt.Template.from_jinja(
    "{{ strftime_now('%Y-%m-%d') }}|{% for m in messages %}{% generation %}{{ m.content }}{% endgeneration %}{% endfor %}"
)


def chat_for(i: int) -> list[dict[str, str]]:
    return [
        {"role": "user", "content": f"question {i} é👋"},
        {"role": "assistant", "content": f"answer {i}"},
        {"role": "user", "content": "more" * (i % 7)},
    ]


def work(i: int) -> tuple:
    name = NAMES[i % len(NAMES)]
    template = chatfmt.get_template(name)
    chat = chat_for(i)
    jinja = template.jinja_only()
    with chatfmt.fixed_clock(datetime(2000 + i % 30, 1, 1)):
        dated = DATED.render_spans(chat)
    return (
        name,
        i,
        template.render(chat, add_generation_prompt=True),
        jinja.render(chat, add_generation_prompt=True),
        template.render_spans(chat).messages,
        dated.text,
        dated.generation,
    )


def test_many_threads_get_the_same_results_as_one():
    expected = [work(i) for i in range(120)]
    barrier = threading.Barrier(8)

    def racing(i: int) -> tuple:
        if i < 8:
            barrier.wait()  # start the first calls together, including the first registry lookups
        return work(i)

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(racing, range(120)))
    assert results == expected
    for _name, i, compiled, jinja, _, dated, generation in results:
        assert compiled == jinja
        assert dated.startswith(f"{2000 + i % 30}-01-01|")
        assert [dated[s:e] for s, e in generation][:2] == [f"question {i} é👋", f"answer {i}"]


# Hits its output cap when a conversation's text is long: some threads fail while others render.
CAPPED = chatfmt.Template.from_jinja(
    "{% for m in messages %}{% for i in range(5) %}{% generation %}{{ m.content }}{% endgeneration %}{% endfor %}{% endfor %}",
    limits=chatfmt.Limits(max_output_chars=180, output_per_input_char=0),
)


def outcome(render, *args, **kwargs):
    try:
        result = render(*args, **kwargs)
    except Exception as exc:  # noqa: BLE001 - an exception is an outcome to compare
        return (type(exc), str(exc))
    return (result.text, result.messages, result.generation) if isinstance(result, chatfmt.RenderedSpans) else result


def every_path(i: int) -> tuple:
    """One call of each kind: compiled and Jinja, text and spans, batch, a template that hits its limit, and
    a validated render."""
    template = chatfmt.get_template(NAMES[i % len(NAMES)])
    chat = chat_for(i)
    jinja = template.jinja_only()
    return (
        outcome(template.render, chat, add_generation_prompt=i % 2 == 0),
        outcome(jinja.render, chat, add_generation_prompt=i % 2 == 0),
        outcome(template.render_spans, chat),
        outcome(jinja.render_spans, chat),
        outcome(template.render_batch, [chat, chat_for(i + 1)]),
        outcome(CAPPED.render, chat),
        outcome(CAPPED.render_spans, chat),
        outcome(template.render, chat, validate=True),  # the input contract is built by whichever thread comes first
    )


def test_32_threads_at_once_get_exactly_the_single_threaded_results(monkeypatch):
    calls = 320
    expected = [every_path(i) for i in range(calls)]
    monkeypatch.setattr(chatfmt.registry, "REGISTRY", chatfmt.registry.Registry())  # threads build templates afresh
    limited = sum(isinstance(result[5], tuple) for result in expected)
    assert 0 < limited < calls  # the cap stops some renders and not others
    assert all(result[5][0] is chatfmt.TemplateLimitExceeded for result in expected if isinstance(result[5], tuple))
    barrier = threading.Barrier(32)

    def racing(i: int) -> tuple:
        if i < 32:
            barrier.wait()  # the first 32 calls start together
        return every_path(i)

    with ThreadPoolExecutor(max_workers=32) as pool:
        results = list(pool.map(racing, range(calls)))
    assert results == expected
    for result in results:
        assert result[0] == result[1] and result[2][0] == result[3][0]  # compiled and Jinja give the same text
