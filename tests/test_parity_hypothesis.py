"""Generated conversations on a dozen real templates: chatfmt and transformers give the same string or both raise."""

from __future__ import annotations

import pytest
from conftest import load_template_source
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from oracle import FIXED_NOW, hf_fixed_clock, hf_render
from strategies import conversation, tools

import chatfmt

pytestmark = pytest.mark.usefixtures("builder")  # every test here runs on both builders

TEMPLATES = [
    "teknium--OpenHermes-2.5-Mistral-7B",
    "HuggingFaceTB--SmolLM2-135M-Instruct",
    "Qwen--Qwen2.5-7B-Instruct",
    "Qwen--Qwen3-0.6B",
    "hf-internal-testing--llama-tokenizer",
    "meta-llama--Meta-Llama-3-8B-Instruct",
    "meta-llama--Llama-3.1-8B-Instruct",
    "mistralai--Mixtral-8x7B-Instruct-v0.1",
    "mistralai--Mistral-7B-Instruct-v0.3",
    "google--gemma-7b-it",
    "microsoft--Phi-3-mini-4k-instruct",
    "HuggingFaceH4--zephyr-7b-beta",
    "deepseek-ai--DeepSeek-V3",
    "CohereForAI--c4ai-command-r-v01",
    "openai--gpt-oss-120b",
    "ibm-granite--granite-3.3-2b-instruct",
    # Compiled since issue 8: reasoning, dates and enable_thinking on the compiled path.
    "Qwen--QwQ-32B",
    "meta-llama--Llama-3.2-3B-Instruct",
    "google--gemma-3-4b-it",
    "HuggingFaceTB--SmolLM3-3B",
    "mistralai--Mistral-Small-3.2-24B-Instruct-2506",
    "deepseek-ai--DeepSeek-R1-Distill-Qwen-32B",
]
SPECIAL = {"bos_token": "<s>", "eos_token": "</s>"}


def outcome(render):
    try:
        return render()
    except Exception as exc:  # the outcome to compare is the exception itself
        return exc


def assert_same(ours, theirs):
    if isinstance(theirs, Exception):
        assert isinstance(ours, Exception), f"transformers raised {theirs!r}; chatfmt returned {ours!r}"
        assert (type(ours), str(ours)) == (type(theirs), str(theirs))
    else:
        assert not isinstance(ours, Exception), f"chatfmt raised {ours!r}; transformers returned {theirs!r}"
        assert ours == theirs


call_options = st.one_of(
    st.fixed_dictionaries({"add_generation_prompt": st.booleans()}),
    st.fixed_dictionaries({"continue_final_message": st.sampled_from([True, "content", "reasoning_content"])}),
)


@pytest.mark.parametrize("name", TEMPLATES)
@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(messages=conversation, tool_list=tools, options=call_options, thinking=st.sampled_from([None, True, False]))
def test_generated_conversations(name, messages, tool_list, options, thinking):
    source = load_template_source(name)
    kwargs = dict(options, tools=tool_list)
    if thinking is not None:
        kwargs["enable_thinking"] = thinking
    with hf_fixed_clock(), chatfmt.fixed_clock(FIXED_NOW):
        theirs = hf_render(source, messages, SPECIAL, **kwargs)
        template = chatfmt.Template.from_jinja(source, special_tokens=SPECIAL)
        ours = outcome(lambda: template.render(messages, **kwargs))
    assert_same(ours, theirs)
