"""The built-in formats as declarative `Format`s, each mirroring one reference template of the corpus.

Every literal below was read off the template named by `source` (in shared/corpus/templates and in
formats/templates/<name>.jinja), including the whitespace that trim_blocks/lstrip_blocks leave behind;
the parity tests render both and compare. Comments say where a template's behaviour is unusual.
"""

from __future__ import annotations

from .spec import DECLINE, ROLE, SKIP, Format, Reject, SystemPolicy, Token, Transform, Turn

__all__ = ["FORMATS"]

_ALTERNATE = "Conversation roles must alternate user/assistant/user/assistant/..."

BOS = Token("bos_token")
EOS = Token("eos_token")
BOS_CAT = Token("bos_token", required=True)  # concatenated: undefined raises in Jinja
EOS_CAT = Token("eos_token", required=True)


def _chatml(prefix: str, generated: bool = False) -> Turn:
    return Turn(prefix=(prefix,), end=("<|im_end|>",), sep=("\n",), generated=generated)


_CHATML_OTHER = Turn(prefix=("<|im_start|>", ROLE, "\n"), end=("<|im_end|>",), sep=("\n",))
_CHATML_ASSISTANT = _chatml("<|im_start|>assistant\n", generated=True)

CHATML = Format(
    name="chatml",
    source="teknium--OpenHermes-2.5-Mistral-7B.jinja",
    roles={"assistant": _CHATML_ASSISTANT},
    other=_CHATML_OTHER,
    generation_prompt=("<|im_start|>assistant\n",),
)

SMOLLM2 = Format(
    name="smollm2",
    source="HuggingFaceTB--SmolLM2-135M-Instruct.jinja",
    roles={"assistant": _CHATML_ASSISTANT},
    other=_CHATML_OTHER,
    # The default system turn is printed inside the loop at loop.first; the output is the same.
    system=SystemPolicy.LEAD,
    system_turn=_chatml("<|im_start|>system\n"),
    default_system="You are a helpful AI assistant named SmolLM, trained by Hugging Face",
    generation_prompt=("<|im_start|>assistant\n",),
)

QWEN25 = Format(
    name="qwen2.5",
    source="Qwen--Qwen2.5-7B-Instruct.jinja",
    roles={
        "user": _chatml("<|im_start|>user\n"),
        "system": _chatml("<|im_start|>system\n"),  # a system message after the first one
        "assistant": _CHATML_ASSISTANT,
        # Consecutive tool results share one user turn.
        "tool": Turn(
            prefix=("\n<tool_response>\n",),
            end=("\n</tool_response>",),
            group_open=("<|im_start|>user",),
            group_close=("<|im_end|>\n",),
        ),
    },
    other=SKIP,  # any other role prints nothing
    system=SystemPolicy.LEAD,
    system_turn=_chatml("<|im_start|>system\n"),
    default_system="You are Qwen, created by Alibaba Cloud. You are a helpful assistant.",
    generation_prompt=("<|im_start|>assistant\n",),
    declined_keys=frozenset({"tool_calls"}),
    variables=frozenset({"tools"}),
)

LLAMA2 = Format(
    name="llama-2",
    source="hf-internal-testing--llama-tokenizer.jinja",
    roles={
        # `.strip()` applies to the whole content, system block included when it is folded in.
        "user": Turn(prefix=(BOS_CAT, "[INST] "), end=(" [/INST]",), transform=Transform.TRIM),
        "system": Turn(prefix=("<<SYS>>\n",), end=("\n<</SYS>>\n\n",), transform=Transform.TRIM),
        "assistant": Turn(prefix=(" ",), end=(" ", EOS_CAT), transform=Transform.TRIM, generated=True),
    },
    other=SKIP,
    system=SystemPolicy.FOLD,
    system_turn=Turn(prefix=("<<SYS>>\n",), end=("\n<</SYS>>\n\n",)),
    alternation_error=_ALTERNATE,
    # No generation prompt: the template never reads add_generation_prompt.
    variables=frozenset({"USE_DEFAULT_PROMPT", "content", "loop_messages", "system_message"}),
)

_L3_HEADER = Turn(
    prefix=("<|start_header_id|>", ROLE, "<|end_header_id|>\n\n"), end=("<|eot_id|>",), transform=Transform.TRIM
)
_L3_ASSISTANT = Turn(
    prefix=("<|start_header_id|>assistant<|end_header_id|>\n\n",),
    end=("<|eot_id|>",),
    transform=Transform.TRIM,
    generated=True,
)

LLAMA3 = Format(
    name="llama-3",
    source="meta-llama--Meta-Llama-3-8B-Instruct.jinja",
    roles={"assistant": _L3_ASSISTANT},
    other=_L3_HEADER,
    start=(BOS_CAT,),  # `bos_token + content` on the first message
    generation_prompt=("<|start_header_id|>assistant<|end_header_id|>\n\n",),
)

_L31_IPYTHON = Turn(
    prefix=("<|start_header_id|>ipython<|end_header_id|>\n\n",),
    end=("<|eot_id|>",),
    # `message.content is iterable` holds for a string, so the template prints it through tojson.
    transform=Transform.JSON,
)

LLAMA31 = Format(
    name="llama-3.1",
    source="meta-llama--Llama-3.1-8B-Instruct.jinja",
    roles={"assistant": _L3_ASSISTANT, "tool": _L31_IPYTHON, "ipython": _L31_IPYTHON},
    other=_L3_HEADER,
    start=(BOS,),
    # Without date_string the template prints its own default date, not today's (no strftime_now).
    system=SystemPolicy.LEAD,
    system_turn=Turn(
        prefix=(
            "<|start_header_id|>system<|end_header_id|>\n\n"
            "Cutting Knowledge Date: December 2023\nToday Date: 26 Jul 2024\n\n",
        ),
        end=("<|eot_id|>",),
        transform=Transform.TRIM,
    ),
    default_system="",
    generation_prompt=("<|start_header_id|>assistant<|end_header_id|>\n\n",),
    declined_keys=frozenset({"tool_calls"}),
    variables=frozenset(
        {
            "builtin_tools",
            "custom_tools",
            "date_string",
            "first_user_message",
            "system_message",
            "tool_call",
            "tools",
            "tools_in_user_message",
        }
    ),
)

MISTRAL_V1 = Format(
    name="mistral-v1",
    source="mistralai--Mixtral-8x7B-Instruct-v0.1.jinja",
    roles={
        "user": Turn(prefix=("[INST] ",), end=(" [/INST]",)),
        "assistant": Turn(end=(EOS_CAT,), generated=True),
    },
    other=Reject("Only user and assistant roles are supported!"),
    start=(BOS,),
    alternation_error=_ALTERNATE,
)

MISTRAL_V3 = Format(
    name="mistral-v3",
    source="mistralai--Mistral-7B-Instruct-v0.3.jinja",
    roles={
        "user": Turn(prefix=(" [INST] ",), end=(" [/INST]",)),
        "assistant": Turn(prefix=(" ",), end=(" ", EOS_CAT), generated=True),
        "tool": DECLINE,  # reads tool_call_id
    },
    other=SKIP,  # system messages are dropped
    start=(BOS,),
    declined_keys=frozenset({"tool_calls"}),
    variables=frozenset({"tools"}),
)

_GEMMA_OTHER = Turn(
    prefix=("<start_of_turn>", ROLE, "\n"), end=("<end_of_turn>",), sep=("\n",), transform=Transform.TRIM
)

GEMMA = Format(
    name="gemma",
    source="google--gemma-7b-it.jinja",
    roles={
        "assistant": Turn(
            prefix=("<start_of_turn>model\n",),
            end=("<end_of_turn>",),
            sep=("\n",),
            transform=Transform.TRIM,
            generated=True,
        )
    },
    other=_GEMMA_OTHER,
    # Only a *first* system message is refused; a later one at an odd index prints as a turn.
    system=SystemPolicy.REJECT,
    system_error="System role not supported",
    alternation_error=_ALTERNATE,
    generation_prompt=("<start_of_turn>model\n",),
    variables=frozenset({"role"}),
)

PHI3 = Format(
    name="phi-3",
    source="microsoft--Phi-3-mini-4k-instruct.jinja",
    roles={
        "system": Turn(prefix=("<|system|>\n",), end=("<|end|>",), sep=("\n",)),
        "user": Turn(prefix=("<|user|>\n",), end=("<|end|>",), sep=("\n",)),
        "assistant": Turn(prefix=("<|assistant|>\n",), end=("<|end|>",), sep=("\n",), generated=True),
    },
    other=SKIP,
    generation_prompt=("<|assistant|>\n",),
    no_generation_prompt=(EOS,),
)

ZEPHYR = Format(
    name="zephyr",
    source="HuggingFaceH4--zephyr-7b-beta.jinja",
    roles={
        "user": Turn(prefix=("<|user|>\n",), end=(EOS_CAT,), sep=("\n",)),
        "system": Turn(prefix=("<|system|>\n",), end=(EOS_CAT,), sep=("\n",)),
        "assistant": Turn(prefix=("<|assistant|>\n",), end=(EOS_CAT,), sep=("\n",), generated=True),
    },
    other=SKIP,
    generation_prompt=("<|assistant|>\n",),
)

_VICUNA_ASSISTANT = Turn(prefix=("ASSISTANT: ",), end=("</s>",), sep=("\n",), generated=True)

VICUNA = Format(
    name="vicuna",
    source="eachadea--vicuna-13b-1.1.jinja",
    roles={"system": Turn(end=("\n\n",)), "user": Turn(prefix=("USER: ",), end=("\n",))},
    other=_VICUNA_ASSISTANT,  # every role but system and user prints as the assistant
    generation_prompt=("ASSISTANT:",),
)

ALPACA = Format(
    name="alpaca",
    source="tatsu-lab--alpaca--chujiezheng.jinja",
    roles={
        # The template's indentation before `{{` survives (lstrip_blocks only strips before `{%`).
        "user": Turn(prefix=("        ### Instruction:\n",), end=("\n\n",), sep=("\n",), transform=Transform.TRIM),
        "assistant": Turn(
            prefix=("        ### Response:\n",),
            end=(EOS_CAT,),
            sep=("\n\n\n",),
            transform=Transform.TRIM,
            generated=True,
        ),
    },
    other=SKIP,
    start=("\n", BOS_CAT),  # `bos_token + system_message`
    system=SystemPolicy.LEAD,
    system_turn=Turn(end=("\n\n",), transform=Transform.TRIM),
    after_system=("\n",),
    alternation_error=_ALTERNATE,
    loop_prefix=("\n",),  # the blank line in the loop body prints for every message
    generation_prompt=("\n    ### Response:\n\n",),
    no_generation_prompt=("\n",),
    variables=frozenset({"system_message"}),
)

DEEPSEEK_V3 = Format(
    name="deepseek-v3",
    source="deepseek-ai--DeepSeek-V3.jinja",
    roles={
        "user": Turn(prefix=("<\uff5cUser\uff5c>",)),
        "assistant": Turn(
            prefix=("<\uff5cAssistant\uff5c>",),
            end=("<\uff5cend\u2581of\u2581sentence\uff5c>",),
            transform=Transform.AFTER_THINK,
            generated=True,
        ),
        "system": SKIP,
        # Tool outputs depend on state carried across the conversation (is_tool, is_output_first).
        "tool": DECLINE,
    },
    other=SKIP,
    start=(BOS,),
    system=SystemPolicy.COLLECT,
    system_turn=Turn(),
    collect_sep="\n\n",
    generation_prompt=("<\uff5cAssistant\uff5c><think>\n",),
    declined_keys=frozenset({"tool_calls"}),
    variables=frozenset({"content"}),
)

_COHERE_END = ("<|END_OF_TURN_TOKEN|>",)

COMMAND_R = Format(
    name="command-r",
    source="CohereForAI--c4ai-command-r-v01.jinja",
    roles={
        "user": Turn(
            prefix=("<|START_OF_TURN_TOKEN|><|USER_TOKEN|>",), end=_COHERE_END, transform=Transform.TRIM
        ),
        "assistant": Turn(
            prefix=("<|START_OF_TURN_TOKEN|><|CHATBOT_TOKEN|>",),
            end=_COHERE_END,
            transform=Transform.TRIM,
            generated=True,
        ),
    },
    other=SKIP,
    start=(BOS,),
    system=SystemPolicy.LEAD,
    system_turn=Turn(prefix=("<|START_OF_TURN_TOKEN|><|SYSTEM_TOKEN|>",), end=_COHERE_END),  # not stripped
    alternation_error=_ALTERNATE,
    generation_prompt=("<|START_OF_TURN_TOKEN|><|CHATBOT_TOKEN|>",),
    variables=frozenset({"loop_messages", "system_message"}),
)

FORMATS: dict[str, Format] = {
    fmt.name: fmt
    for fmt in (
        ALPACA,
        CHATML,
        COMMAND_R,
        DEEPSEEK_V3,
        GEMMA,
        LLAMA2,
        LLAMA3,
        LLAMA31,
        MISTRAL_V1,
        MISTRAL_V3,
        PHI3,
        QWEN25,
        SMOLLM2,
        VICUNA,
        ZEPHYR,
    )
}
