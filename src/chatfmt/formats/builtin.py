"""The built-in formats: one row each, holding everything chatfmt knows about it.

A row names the model, its aliases, its special tokens (the model tokenizer's `special_tokens_map`
entries the template reads) and its declarative `Format`, whose `name` is the built-in's name and whose
`source` is the corpus file it mirrors. Everything else is derived: the reference Jinja is
`templates/<name>.jinja` beside this module, a byte-for-byte copy of the model's published chat template
taken from the conformance corpus (shared/corpus/templates, provenance in its MANIFEST.tsv), except
command-r's (see its row); the variables a template reads come from parsing that source. Adding a built-in is one row plus its file.

Every literal in a Format was read off its reference template, including the whitespace that
trim_blocks/lstrip_blocks leave behind; the parity tests render both and compare. Comments say where a
template's behaviour is unusual.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from types import MappingProxyType

from .._values import replace, value_class
from .spec import DECLINE, ROLE, SKIP, Date, Format, Reject, Switch, SystemPolicy, Token, Transform, Turn

__all__ = ["BUILTINS", "FORMATS", "Builtin"]


@value_class()
class Builtin:
    """One built-in format: the model it comes from, how else it may be called, the tokens it reads."""

    model: str
    special_tokens: Mapping[str, str]
    format: Format
    aliases: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "special_tokens", MappingProxyType(dict(self.special_tokens)))

    @property
    def name(self) -> str:
        return self.format.name

    @property
    def corpus_file(self) -> str:
        return self.format.source

    def read_source(self) -> str:
        """The reference Jinja, read as UTF-8 text.

        A plain file read: importing importlib.resources would cost a built-in's first render more than the rest of it.
        """
        with open(os.path.join(_TEMPLATES, f"{self.name}.jinja"), encoding="utf-8") as file:
            return file.read()


_TEMPLATES = os.path.join(os.path.dirname(__file__), "templates")

_ALTERNATE = "Conversation roles must alternate user/assistant/user/assistant/..."

BOS = Token("bos_token")
EOS = Token("eos_token")
BOS_CAT = Token("bos_token", required=True)  # concatenated: undefined raises in Jinja
EOS_CAT = Token("eos_token", required=True)


def _chatml(prefix: str, generated: bool = False) -> Turn:
    return Turn(prefix=(prefix,), end=("<|im_end|>",), sep=("\n",), generated=generated)


_CHATML_OTHER = Turn(prefix=("<|im_start|>", ROLE, "\n"), end=("<|im_end|>",), sep=("\n",))
_CHATML_ASSISTANT = _chatml("<|im_start|>assistant\n", generated=True)


def _chatml_with_default_system(name: str, source: str, default_system: str) -> Format:
    """ChatML plus a system turn printed first: the message's own, or `default_system` when it has none."""
    return Format(
        name=name,
        source=source,
        roles={"assistant": _CHATML_ASSISTANT},
        other=_CHATML_OTHER,
        system=SystemPolicy.LEAD,
        system_turn=_chatml("<|im_start|>system\n"),
        default_system=default_system,
        generation_prompt=("<|im_start|>assistant\n",),
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


_L31_IPYTHON = Turn(
    prefix=("<|start_header_id|>ipython<|end_header_id|>\n\n",),
    end=("<|eot_id|>",),
    # `message.content is iterable` holds for a string, so the template prints it through tojson.
    transform=Transform.JSON,
)


_GEMMA_OTHER = Turn(
    prefix=("<start_of_turn>", ROLE, "\n"), end=("<end_of_turn>",), sep=("\n",), transform=Transform.TRIM
)
_GEMMA_ROLES = {
    "assistant": Turn(
        prefix=("<start_of_turn>model\n",),
        end=("<end_of_turn>",),
        sep=("\n",),
        transform=Transform.TRIM,
        generated=True,
    )
}


_VICUNA_ASSISTANT = Turn(prefix=("ASSISTANT: ",), end=("</s>",), sep=("\n",), generated=True)


_COHERE_END = ("<|END_OF_TURN_TOKEN|>",)


# --- ChatML relatives -----------------------------------------------------------------------------

_QWEN_DEFAULT_SYSTEM = "You are a helpful assistant."


# Qwen1.5 leaves the last turn open without a generation prompt, and prints no prompt after an
# assistant message.
_QWEN15_OPEN = (("<|im_end|>\n<|im_start|>assistant\n",), ())


def _qwen15(prefix: str, generated: bool = False) -> Turn:
    last = (("<|im_end|>\n",), ()) if generated else _QWEN15_OPEN
    return Turn(prefix=(prefix,), end=("<|im_end|>",), sep=("\n",), generated=generated, last=last)


# --- Mistral and Llama-2 relatives ----------------------------------------------------------------


# --- Gemma ------------------------------------------------------------------------------------------


# --- Phi ----------------------------------------------------------------------------------------------

_PHI_END = ("<|end|>",)
_PHI_ASSISTANT = Turn(prefix=("<|assistant|>\n",), end=_PHI_END, sep=("\n",), generated=True)


_PHI4_END = ("<|im_end|>",)


# --- Others -------------------------------------------------------------------------------------------

_OPENCHAT_END = ("<|end_of_turn|>",)


_TULU_ASSISTANT_END = (EOS_CAT,)


_QWEN_TOKENS = {"eos_token": "<|im_end|>", "pad_token": "<|endoftext|>", "unk_token": "<|endoftext|>"}
_QWEN3_TOKENS = {"eos_token": "<|im_end|>", "pad_token": "<|endoftext|>"}


def _bos_eos(bos: str, eos: str) -> dict[str, str]:
    return {"bos_token": bos, "eos_token": eos}


# One row per built-in, kept sorted by name.
# Formats other rows derive from (today's templates reuse their pieces).

# The corpus file named after Command-R is the Aya variant of Cohere's template (trl's cohere.jinja): it
# differs from the template c4ai-command-r-v01 ships only in the default system text of a branch that
# never runs (`{% elif false == true %}`), so both built-ins share this format.
_AYA = Format(
    name="aya",
    source="CohereForAI--c4ai-command-r-v01.jinja",
    roles={
        "user": Turn(prefix=("<|START_OF_TURN_TOKEN|><|USER_TOKEN|>",), end=_COHERE_END, transform=Transform.TRIM),
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
)

_DEEPSEEK_V3 = Format(
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
)

_GEMMA2 = Format(
    name="gemma-2",
    source="google--gemma-2-2b-it.jinja",
    roles=_GEMMA_ROLES,
    other=_GEMMA_OTHER,
    start=(BOS,),  # the only difference from Gemma 1
    system=SystemPolicy.REJECT,
    system_error="System role not supported",
    alternation_error=_ALTERNATE,
    generation_prompt=("<start_of_turn>model\n",),
)

_LLAMA31 = Format(
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
)

_QWEN25 = Format(
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
)

# --- Today's templates: reasoning, dates, switches ------------------------------------------------

QWEN3_INSTRUCT = replace(
    _QWEN25,
    name="qwen3-instruct",
    source="Qwen--Qwen3-4B-Instruct-2507.jinja",
    default_system=None,  # only a system message of the conversation's own
)

_QWEN3_BASE = replace(
    QWEN3_INSTRUCT,
    name="qwen3",
    source="Qwen--Qwen3-0.6B.jinja",
    roles={
        **dict(QWEN3_INSTRUCT.roles),
        "assistant": replace(_CHATML_ASSISTANT, transform=Transform.THINK_BLOCK),
    },
)

# `enable_thinking is defined and enable_thinking is false` adds an empty think block to the prompt.
QWEN3 = replace(
    _QWEN3_BASE,
    switch=Switch(
        "enable_thinking",
        when=False,
        then=replace(_QWEN3_BASE, generation_prompt=("<|im_start|>assistant\n<think>\n\n</think>\n\n",)),
    ),
)

# QwQ keeps the last message whole and strips the reasoning of every earlier one.
QWQ = replace(
    QWEN3_INSTRUCT,
    name="qwq",
    source="Qwen--QwQ-32B.jinja",
    roles={
        **dict(QWEN3_INSTRUCT.roles),
        "assistant": replace(_CHATML_ASSISTANT, transform=Transform.PAST_AFTER_THINK),
    },
    generation_prompt=("<|im_start|>assistant\n<think>\n",),
)

DEEPSEEK_R1 = replace(
    _DEEPSEEK_V3,
    name="deepseek-r1",
    source="deepseek-ai--DeepSeek-R1.jinja",
    generation_prompt=("<\uff5cAssistant\uff5c>",),
)

# The distills print only the last system message (`set ns.system_prompt = message['content']`).
DEEPSEEK_R1_DISTILL = replace(
    _DEEPSEEK_V3,
    name="deepseek-r1-distill",
    source="deepseek-ai--DeepSeek-R1-Distill-Qwen-32B.jinja",
    system=SystemPolicy.LAST,
    collect_sep="",
)

# Without date_string the template prints today's date: `strftime_now("%d %b %Y")`.
LLAMA32 = replace(
    _LLAMA31,
    name="llama-3.2",
    source="meta-llama--Llama-3.2-3B-Instruct.jinja",
    system_turn=Turn(
        prefix=(
            "<|start_header_id|>system<|end_header_id|>\n\nCutting Knowledge Date: December 2023\nToday Date: ",
            Date("%d %b %Y"),
            "\n\n",
        ),
        end=("<|eot_id|>",),
        transform=Transform.TRIM,
    ),
)

# The vision model prints string contents untrimmed (its system message is still trimmed).
LLAMA32_VISION = replace(
    LLAMA32,
    name="llama-3.2-vision",
    source="meta-llama--Llama-3.2-11B-Vision-Instruct.jinja",
    roles={**dict(LLAMA32.roles), "assistant": replace(_L3_ASSISTANT, transform=Transform.NONE)},
    other=replace(_L3_HEADER, transform=Transform.NONE),
)

# A first system message is printed inside the first turn, before its trimmed content; alone, not at all.
GEMMA3 = replace(
    _GEMMA2,
    name="gemma-3",
    source="google--gemma-3-4b-it.jinja",
    system=SystemPolicy.INLINE,
    system_turn=Turn(end=("\n\n",)),
    system_error=None,
)

_MISTRAL_SMALL_DATE_LINE = (
    "You are Mistral Small 3, a Large Language Model (LLM) created by Mistral AI, a French "
    "startup headquartered in Paris.\n"
    "Your knowledge base was last updated on 2023-10-01. The current date is "
)
_MISTRAL_SMALL_3_REST = (
    ".\n"
    "\n"
    "When you're not sure about some information, you say that you don't have the information "
    "and don't make up anything.\n"
    "If the user's question is not clear, ambiguous, or does not provide enough context "
    "for you to accurately answer the question, you do not try to answer it right away "
    'and you rather ask the user to clarify their request (e.g. "What are some good restaurants '
    'around me?" => "Where are you?" or "When is the next flight to Tokyo" => "Where do '
    'you travel from?")'
)
_MISTRAL_SMALL_32_REST = (
    ".\n"
    "\n"
    "When you're not sure about some information or when the user's request requires up-to-date "
    "or specific data, you must use the available tools to fetch the information. Do not "
    "hesitate to use tools whenever they can provide a more accurate or complete response. "
    "If no relevant tools are available, then clearly state that you don't have the information "
    "and avoid making up anything.\n"
    "\n"
    "If the user's question is not clear, ambiguous, or does not provide enough context "
    "for you to accurately answer the question, you do not try to answer it right away "
    'and you rather ask the user to clarify their request (e.g. "What are some good restaurants '
    'around me?" => "Where are you?" or "When is the next flight to Tokyo" => "Where do '
    'you travel from?").\n'
    "You are always very attentive to dates, and when asked about information at specific "
    "dates, you discard information that is at another date.\n"
    "You follow these instructions in all languages, and always respond to the user in "
    "the language they use or request.\n"
    "Next sections describe the capabilities that you have.\n"
    "\n"
    "# WEB BROWSING INSTRUCTIONS\n"
    "\n"
    "You cannot perform any web search or access internet to open URLs, links etc. If "
    "it seems like the user is expecting you to do so, you clarify the situation and ask "
    "the user to copy paste the text directly in the chat.\n"
    "\n"
    "# MULTI-MODAL INSTRUCTIONS\n"
    "\n"
    "You have the ability to read images, but you cannot generate images. You also cannot "
    "transcribe audio files or videos.\n"
    "You cannot read nor transcribe audio files or videos.\n"
    "\n"
    "# TOOL CALLING INSTRUCTIONS\n"
    "\n"
    "You may have access to tools that you can use to fetch information or perform actions. "
    "You must use these tools in the following situations:\n"
    "\n"
    "1. When the request requires up-to-date information.\n"
    "2. When the request requires specific data that you do not have in your knowledge "
    "base.\n"
    "3. When the request involves actions that you cannot perform without tools.\n"
    "\n"
    "Always prioritize using tools to provide the most accurate and helpful response. "
    "If tools are not available, inform the user that you cannot perform the requested "
    "action at the moment."
)
_GRANITE_THINKING = (
    " You are a helpful AI assistant.\n"
    "Respond to every user query in a comprehensive and detailed way. You can write down "
    "your thoughts and reasoning process before responding. In the thought process, engage "
    "in a comprehensive cycle of analysis, summarization, exploration, reassessment, reflection, "
    "backtracing, and iteration to develop well-considered thinking process. In the response "
    "section, based on various attempts, explorations, and reflections from the thoughts "
    "section, systematically present the final solution that you deem correct. The response "
    "should summarize the thought process. Write your thoughts between <think></think> "
    "and write your response between <response></response> for each user query."
)


_MISTRAL_SYSTEM = Turn(prefix=("[SYSTEM_PROMPT]",), end=("[/SYSTEM_PROMPT]",))
_MISTRAL_SMALL_ROLES = {
    "user": Turn(prefix=("[INST]",), end=("[/INST]",)),
    "system": _MISTRAL_SYSTEM,
    "assistant": Turn(end=(EOS_CAT,), generated=True),
}

# The default system message carries today's date: `strftime_now("%Y-%m-%d")`. No generation prompt.
MISTRAL_SMALL_3 = Format(
    name="mistral-small-3",
    source="mistralai--Mistral-Small-24B-Instruct-2501.jinja",
    roles=_MISTRAL_SMALL_ROLES,
    other=Reject("Only user, system and assistant roles are supported!"),
    start=(BOS,),
    system=SystemPolicy.LEAD,
    system_turn=_MISTRAL_SYSTEM,
    default_system=(_MISTRAL_SMALL_DATE_LINE, Date("%Y-%m-%d"), _MISTRAL_SMALL_3_REST),
)

# 3.2 checks the alternation of every message (system ones included) before it prints anything; the
# roles it rejects (or reads tool call ids of) are left to Jinja, so the checks keep their order.
MISTRAL_SMALL_32 = Format(
    name="mistral-small-3.2",
    source="mistralai--Mistral-Small-3.2-24B-Instruct-2506.jinja",
    roles=_MISTRAL_SMALL_ROLES,
    other=DECLINE,
    start=(BOS,),
    system=SystemPolicy.LEAD,
    system_turn=_MISTRAL_SYSTEM,
    default_system=(_MISTRAL_SMALL_DATE_LINE, Date("%Y-%m-%d"), _MISTRAL_SMALL_32_REST),
    alternation_error=(
        "After the optional system message, conversation roles must alternate user/assistant/user/assistant/..."
    ),
    declined_keys=frozenset({"tool_calls"}),
)


def _granite(prefix: str, generated: bool = False) -> Turn:
    return Turn(prefix=(prefix,), end=("<|end_of_text|>",), sep=("\n",), generated=generated)


_GRANITE_PROMPT = ("<|start_of_role|>assistant<|end_of_role|>",)

GRANITE30 = Format(
    name="granite-3.0",
    source="ibm-granite--granite-3.0-8b-instruct.jinja",
    roles={
        "system": _granite("<|start_of_role|>system<|end_of_role|>"),
        "user": _granite("<|start_of_role|>user<|end_of_role|>"),
        "assistant": _granite("<|start_of_role|>assistant<|end_of_role|>", generated=True),
        "assistant_tool_call": _granite("<|start_of_role|>assistant<|end_of_role|><|tool_call|>"),
        "tool_response": _granite("<|start_of_role|>tool_response<|end_of_role|>"),
    },
    other=SKIP,
    generation_prompt=_GRANITE_PROMPT,  # `loop.last and add_generation_prompt`: after any last message
)

_GRANITE_INTRO = (
    "Knowledge Cutoff Date: April 2024. Today's Date: ",
    Date("%B %d, %Y"),
    ". You are Granite, developed by IBM.",
)

# The generation prompt is printed inside the loop, so a lone system message gets none.
_GRANITE33_BASE = Format(
    name="granite-3.3",
    source="ibm-granite--granite-3.3-2b-instruct.jinja",
    roles={"assistant": _granite("<|start_of_role|>assistant<|end_of_role|>", generated=True)},
    other=Turn(prefix=("<|start_of_role|>", ROLE, "<|end_of_role|>"), end=("<|end_of_text|>",), sep=("\n",)),
    system=SystemPolicy.LEAD,
    system_turn=replace(
        _granite("<|start_of_role|>system<|end_of_role|>"), last=(("<|end_of_text|>\n",), ("<|end_of_text|>\n",))
    ),
    default_system=(*_GRANITE_INTRO, " You are a helpful AI assistant."),
    generation_prompt=_GRANITE_PROMPT,
)

# A true `thinking` variable changes the default system message.
GRANITE33 = replace(
    _GRANITE33_BASE,
    switch=Switch(
        "thinking", when=True, then=replace(_GRANITE33_BASE, default_system=(*_GRANITE_INTRO, _GRANITE_THINKING))
    ),
)

# --- Small templates close to existing formats ----------------------------------------------------

# `<|assistant|>` closes every prompt, with or without add_generation_prompt.
GLM_EDGE = Format(
    name="glm-edge",
    source="THUDM--glm-edge-1.5b-chat.jinja",
    roles={
        "system": Turn(prefix=("<|system|>\n",)),
        "user": Turn(prefix=("<|user|>\n",)),
        "assistant": Turn(prefix=("<|assistant|>\n",), generated=True),
    },
    other=SKIP,
    generation_prompt=("<|assistant|>",),
    no_generation_prompt=("<|assistant|>",),
)

DEEPSEEK_CODER_V2 = Format(
    name="deepseek-coder-v2",
    source="deepseek-ai--DeepSeek-Coder-V2-Instruct.jinja",
    roles={
        "user": Turn(prefix=("User: ",), end=("\n\n",)),
        "assistant": Turn(prefix=("Assistant: ",), end=(EOS_CAT,), generated=True),
        "system": Turn(end=("\n\n",)),
    },
    other=SKIP,
    start=(BOS,),
    generation_prompt=("Assistant:",),
)

# No generation prompt after an assistant message (`messages[-1]['role'] != 'assistant'`).
PHI35_VISION = Format(
    name="phi-3.5-vision",
    source="microsoft--Phi-3.5-vision-instruct.jinja",
    roles={"assistant": replace(_PHI_ASSISTANT, last=(("<|end|>\n",), ("<|end|>\n",)))},
    other=Turn(prefix=("<|", ROLE, "|>\n"), end=_PHI_END, sep=("\n",)),
    generation_prompt=("<|assistant|>\n",),
)

# A conversation that does not open with a system message gets an empty system turn; user turns end
# with a newline only.
EXAONE35 = Format(
    name="exaone-3.5",
    source="LGAI-EXAONE--EXAONE-3.5-7.8B-Instruct.jinja",
    roles={
        "user": Turn(prefix=("[|user|]",), end=("\n",)),
        "assistant": Turn(prefix=("[|assistant|]",), end=("[|endofturn|]",), sep=("\n",), generated=True),
    },
    other=Turn(prefix=("[|", ROLE, "|]"), end=("[|endofturn|]",), sep=("\n",)),
    system=SystemPolicy.LEAD,
    system_turn=Turn(prefix=("[|system|]",), end=("[|endofturn|]",), sep=("\n",)),
    default_system="",
    generation_prompt=("[|assistant|]",),
)

MEGREZ = Format(
    name="megrez",
    source="Infinigence--Megrez-3B-Instruct.jinja",
    roles={"assistant": Turn(prefix=("<|role_start|>assistant<|role_end|>",), end=("<|turn_end|>",), generated=True)},
    other=Turn(prefix=("<|role_start|>", ROLE, "<|role_end|>"), end=("<|turn_end|>",)),
    system=SystemPolicy.LEAD,
    system_turn=Turn(prefix=("<|role_start|>system<|role_end|>",), end=("<|turn_end|>",)),
    default_system="你是Megrez-3B-Instruct，将针对用户的问题给出详细的、积极的回答。",
    generation_prompt=("<|role_start|>assistant<|role_end|>",),
)

_SMOLLM3_THINKING_SYSTEM = (
    "You are a helpful AI assistant named SmolLM, trained by Hugging Face. Your role as an "
    "assistant involves thoroughly exploring questions through a systematic thinking process "
    "before providing the final precise and accurate solutions. This requires engaging in a "
    "comprehensive cycle of analysis, summarizing, exploration, reassessment, reflection, backtracking, "
    "and iteration to develop well-considered thinking process. Please structure your response "
    "into two main sections: Thought and Solution using the specified format: <think> Thought "
    "section </think> Solution section. In the Thought section, detail your reasoning process "
    "in steps. Each step should include detailed considerations such as analysing questions, "
    "summarizing relevant findings, brainstorming new ideas, verifying the accuracy of the "
    "current steps, refining any errors, and revisiting previous steps. In the Solution section, "
    "based on various attempts, explorations, and reflections from the Thought section, systematically "
    "present the final solution that you deem correct. The Solution section should be logical, "
    "accurate, and concise and detail necessary steps needed to reach the conclusion."
)
_SMOLLM3_SYSTEM = "You are a helpful AI assistant named SmolLM, trained by Hugging Face."


def _smollm3_header(mode: str) -> Turn:
    """The system block: metadata with today's date, then the custom instructions (never closed: the
    template prints `<|im_end|>` there only when tools are listed)."""
    return Turn(
        prefix=(
            "<|im_start|>system\n## Metadata\n\nKnowledge Cutoff Date: June 2025\nToday Date: ",
            Date("%d %B %Y"),
            f"\nReasoning Mode: {mode}\n\n## Custom Instructions\n\n",
        ),
        end=("\n\n",),
        transform=Transform.RSTRIP,
    )


def _smollm3(mode: str, assistant_prefix: str, default_system: str) -> Format:
    return Format(
        name="smollm3",
        source="HuggingFaceTB--SmolLM3-3B.jinja",
        roles={
            "user": _chatml("<|im_start|>user\n"),
            "tool": _chatml("<|im_start|>user\n"),
            "assistant": replace(_chatml(assistant_prefix, generated=True), transform=Transform.LSTRIP_NEWLINES),
        },
        other=SKIP,
        system=SystemPolicy.LEAD,
        system_turn=_smollm3_header(mode),
        default_system=default_system,
        default_if_empty=True,
        # The template reads commands out of the system message; those conversations go to Jinja.
        declined_system_text=("/think", "/no_think", "/system_override"),
        generation_prompt=(assistant_prefix,),
    )


# `enable_thinking` defaults to true; a false one switches to /no_think and an empty think block.
SMOLLM3 = replace(
    _smollm3("/think", "<|im_start|>assistant\n", _SMOLLM3_THINKING_SYSTEM),
    switch=Switch(
        "enable_thinking",
        when=False,
        then=_smollm3("/no_think", "<|im_start|>assistant\n<think>\n\n</think>\n", _SMOLLM3_SYSTEM),
    ),
)


BUILTINS: tuple[Builtin, ...] = (
    Builtin(
        "tatsu-lab/alpaca (community template)",
        _bos_eos("<s>", "</s>"),
        format=Format(
            name="alpaca",
            source="tatsu-lab--alpaca--chujiezheng.jinja",
            roles={
                # The template's indentation before `{{` survives (lstrip_blocks only strips before `{%`).
                "user": Turn(
                    prefix=("        ### Instruction:\n",), end=("\n\n",), sep=("\n",), transform=Transform.TRIM
                ),
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
        ),
    ),
    Builtin(
        "mlabonne/AlphaMonarch-7B",
        _bos_eos("<s>", "</s>"),
        aliases=("alpha-monarch",),
        format=Format(
            name="alphamonarch",
            source="mlabonne--AlphaMonarch-7B.jinja",
            # ChatML's layout with the BOS and EOS tokens as the markers, both concatenated.
            roles={"assistant": Turn(prefix=(BOS_CAT, "assistant\n"), end=(EOS_CAT,), sep=("\n",), generated=True)},
            other=Turn(prefix=(BOS_CAT, ROLE, "\n"), end=(EOS_CAT,), sep=("\n",)),
            generation_prompt=(BOS_CAT, "assistant\n"),
        ),
    ),
    Builtin(
        "CohereForAI/aya-23-8B",
        _bos_eos("<BOS_TOKEN>", "<|END_OF_TURN_TOKEN|>"),
        aliases=("aya-23",),
        format=_AYA,
    ),
    Builtin(
        "teknium/OpenHermes-2.5-Mistral-7B",
        _bos_eos("<s>", "<|im_end|>"),
        aliases=("openhermes", "hermes-2"),
        format=Format(
            name="chatml",
            source="teknium--OpenHermes-2.5-Mistral-7B.jinja",
            roles={"assistant": _CHATML_ASSISTANT},
            other=_CHATML_OTHER,
            generation_prompt=("<|im_start|>assistant\n",),
        ),
    ),
    # command-r.jinja is the template c4ai-command-r-v01 ships; the corpus has only its Aya variant (the
    # "aya" row), which differs in the text of a branch that never runs, so it is the parity reference.
    Builtin(
        "CohereForAI/c4ai-command-r-v01",
        _bos_eos("<BOS_TOKEN>", "<|END_OF_TURN_TOKEN|>"),
        aliases=("cohere", "command-r-v01"),
        format=replace(_AYA, name="command-r"),
    ),
    Builtin(
        "deepseek-ai/deepseek-coder-33b-instruct",
        _bos_eos("<｜begin▁of▁sentence｜>", "<|EOT|>"),
        aliases=("deepseek-coder-instruct",),
        format=Format(
            name="deepseek-coder",
            source="deepseek-ai--deepseek-coder-33b-instruct.jinja",
            roles={
                "system": Turn(),  # printed bare, where it is
                "user": Turn(prefix=("### Instruction:\n",), end=("\n",)),
                "assistant": Turn(prefix=("### Response:\n",), end=("\n<|EOT|>",), sep=("\n",), generated=True),
            },
            # Every role but system and user prints as a response.
            other=Turn(prefix=("### Response:\n",), end=("\n<|EOT|>",), sep=("\n",)),
            start=(BOS,),
            # The default system prompt is printed when no message at all is a system message.
            system=SystemPolicy.TURN,
            system_turn=Turn(),
            default_system=(
                "You are an AI programming assistant, utilizing the Deepseek Coder model, developed by Deepseek "
                "Company, and you only answer questions related to computer science. For politically sensitive "
                "questions, security and privacy issues, and other non-computer science questions, you will refuse "
                "to answer\n"
            ),
            generation_prompt=("### Response:\n",),
        ),
    ),
    Builtin(
        "deepseek-ai/DeepSeek-Coder-V2-Instruct",
        _bos_eos("<｜begin▁of▁sentence｜>", "<｜end▁of▁sentence｜>"),
        aliases=("deepseek-coder-v2-instruct",),
        format=DEEPSEEK_CODER_V2,
    ),
    Builtin(
        "deepseek-ai/DeepSeek-R1",
        _bos_eos("<｜begin▁of▁sentence｜>", "<｜end▁of▁sentence｜>"),
        aliases=("deepseek-reasoner",),
        format=DEEPSEEK_R1,
    ),
    Builtin(
        "deepseek-ai/DeepSeek-R1-Distill-Qwen-32B",
        _bos_eos("<｜begin▁of▁sentence｜>", "<｜end▁of▁sentence｜>"),
        aliases=("deepseek-r1-distill-qwen",),
        format=DEEPSEEK_R1_DISTILL,
    ),
    Builtin(
        "deepseek-ai/DeepSeek-V3",
        _bos_eos("<｜begin▁of▁sentence｜>", "<｜end▁of▁sentence｜>"),
        aliases=("deepseek3",),
        format=_DEEPSEEK_V3,
    ),
    Builtin(
        "LGAI-EXAONE/EXAONE-3.5-7.8B-Instruct",
        {"bos_token": "[BOS]", "eos_token": "[|endofturn|]"},
        aliases=("exaone",),
        format=EXAONE35,
    ),
    Builtin(
        "google/gemma-7b-it",
        _bos_eos("<bos>", "<eos>"),
        aliases=("gemma-1", "gemma-it"),
        format=Format(
            name="gemma",
            source="google--gemma-7b-it.jinja",
            roles=_GEMMA_ROLES,
            other=_GEMMA_OTHER,
            # Only a *first* system message is refused; a later one at an odd index prints as a turn.
            system=SystemPolicy.REJECT,
            system_error="System role not supported",
            alternation_error=_ALTERNATE,
            generation_prompt=("<start_of_turn>model\n",),
        ),
    ),
    Builtin(
        "google/gemma-2-2b-it",
        _bos_eos("<bos>", "<eos>"),
        aliases=("gemma2", "gemma-2-it"),
        format=_GEMMA2,
    ),
    Builtin(
        "google/gemma-3-4b-it",
        _bos_eos("<bos>", "<eos>"),
        aliases=("gemma3", "gemma-3-it"),
        format=GEMMA3,
    ),
    Builtin(
        "THUDM/glm-edge-1.5b-chat",
        {},
        aliases=("glm-edge-chat",),
        format=GLM_EDGE,
    ),
    Builtin(
        "ibm-granite/granite-3.0-8b-instruct",
        _bos_eos("<|end_of_text|>", "<|end_of_text|>"),
        aliases=("granite-3.0-instruct",),
        format=GRANITE30,
    ),
    Builtin(
        "ibm-granite/granite-3.3-2b-instruct",
        _bos_eos("<|end_of_text|>", "<|end_of_text|>"),
        aliases=("granite-3.3-instruct",),
        format=GRANITE33,
    ),
    Builtin(
        "h2oai/h2o-danube-1.8b-chat",
        _bos_eos("<s>", "</s>"),
        aliases=("danube", "h2o-danube-chat"),
        format=Format(
            name="h2o-danube",
            source="h2oai--h2o-danube-1.8b-chat.jinja",
            roles={
                "system": Turn(prefix=("<|system|>",), end=(EOS_CAT,)),
                "user": Turn(prefix=("<|prompt|>",), end=(EOS_CAT,)),
                "assistant": Turn(prefix=("<|answer|>",), end=(EOS_CAT,), generated=True),
            },
            other=SKIP,
            generation_prompt=("<|answer|>",),  # `loop.last and add_generation_prompt`
        ),
    ),
    Builtin(
        "NousResearch/Hermes-2-Pro-Llama-3-8B",
        _bos_eos("<|begin_of_text|>", "<|im_end|>"),
        aliases=("hermes-2-pro-llama-3",),
        format=Format(
            name="hermes-2-pro",
            source="NousResearch--Hermes-2-Pro-Llama-3-8B.jinja",
            roles={"assistant": _CHATML_ASSISTANT},
            other=_CHATML_OTHER,
            start=(BOS,),
            generation_prompt=("<|im_start|>assistant\n",),
        ),
    ),
    Builtin(
        "transformers LlamaTokenizer default (Llama-2 chat)",
        {"bos_token": "<s>", "eos_token": "</s>", "unk_token": "<unk>"},
        aliases=("llama2", "llama-2-chat"),
        format=Format(
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
        ),
    ),
    Builtin(
        "meta-llama/Meta-Llama-3-8B-Instruct",
        _bos_eos("<|begin_of_text|>", "<|eot_id|>"),
        aliases=("llama3", "llama-3-instruct"),
        format=Format(
            name="llama-3",
            source="meta-llama--Meta-Llama-3-8B-Instruct.jinja",
            roles={"assistant": _L3_ASSISTANT},
            other=_L3_HEADER,
            start=(BOS_CAT,),  # `bos_token + content` on the first message
            generation_prompt=("<|start_header_id|>assistant<|end_header_id|>\n\n",),
        ),
    ),
    Builtin(
        "meta-llama/Llama-3.1-8B-Instruct",
        _bos_eos("<|begin_of_text|>", "<|eot_id|>"),
        aliases=("llama3.1", "llama-3.1-instruct"),
        format=_LLAMA31,
    ),
    Builtin(
        "meta-llama/Llama-3.2-3B-Instruct",
        _bos_eos("<|begin_of_text|>", "<|eot_id|>"),
        aliases=("llama3.2", "llama-3.2-instruct"),
        format=LLAMA32,
    ),
    Builtin(
        "meta-llama/Llama-3.2-11B-Vision-Instruct",
        _bos_eos("<|begin_of_text|>", "<|eot_id|>"),
        aliases=("llama3.2-vision",),
        format=LLAMA32_VISION,
    ),
    Builtin(
        "Infinigence/Megrez-3B-Instruct",
        {},
        aliases=("megrez-3b",),
        format=MEGREZ,
    ),
    Builtin(
        "indischepartij/MiniCPM-3B-OpenHermes-2.5-v2",
        _bos_eos("<s>", "</s>"),
        aliases=("minicpm-2b",),
        format=Format(
            name="minicpm",
            source="indischepartij--MiniCPM-3B-OpenHermes-2.5-v2.jinja",
            roles={
                "user": Turn(prefix=("<\u7528\u6237>",), end=("<AI>",), transform=Transform.TRIM),
                "assistant": Turn(transform=Transform.TRIM, generated=True),
            },
            other=Turn(transform=Transform.TRIM),  # every other role, system included, prints its content bare
        ),
    ),
    Builtin(
        "mistralai/Mistral-Small-24B-Instruct-2501",
        _bos_eos("<s>", "</s>"),
        aliases=("mistral-small-2501",),
        format=MISTRAL_SMALL_3,
    ),
    Builtin(
        "mistralai/Mistral-Small-3.2-24B-Instruct-2506",
        _bos_eos("<s>", "</s>"),
        aliases=("mistral-small-2506",),
        format=MISTRAL_SMALL_32,
    ),
    Builtin(
        "mistralai/Mixtral-8x7B-Instruct-v0.1",
        _bos_eos("<s>", "</s>"),
        aliases=("mistral", "mixtral", "mistral-instruct-v0.1"),
        format=Format(
            name="mistral-v1",
            source="mistralai--Mixtral-8x7B-Instruct-v0.1.jinja",
            roles={
                "user": Turn(prefix=("[INST] ",), end=(" [/INST]",)),
                "assistant": Turn(end=(EOS_CAT,), generated=True),
            },
            other=Reject("Only user and assistant roles are supported!"),
            start=(BOS,),
            alternation_error=_ALTERNATE,
        ),
    ),
    Builtin(
        "TheBloke/Mistral-7B-Instruct-v0.1-GPTQ",
        _bos_eos("<s>", "</s>"),
        aliases=("mistral-7b-instruct-v0.1-gptq",),
        format=Format(
            name="mistral-v1-gptq",
            source="TheBloke--Mistral-7B-Instruct-v0.1-GPTQ.jinja",
            roles={
                "user": Turn(prefix=("[INST] ",), end=(" [/INST]",)),
                "assistant": Turn(end=(EOS_CAT,), sep=(" ",), generated=True),  # `eos_token + ' '`
            },
            other=Reject("Only user and assistant roles are supported!"),
            start=(BOS,),
            alternation_error=_ALTERNATE,
        ),
    ),
    Builtin(
        "mistralai/Mistral-7B-Instruct-v0.2 (the v1 template with a system prompt)",
        _bos_eos("<s>", "</s>"),
        aliases=("mistral-instruct-v0.2", "mistral-v1-with-system"),
        format=Format(
            name="mistral-v2",
            source="mistralai--Mistral-7B-Instruct-v0.2--v1-with-system.jinja",
            roles={
                "user": Turn(prefix=(" [INST] ",), end=(" [/INST]",)),
                "assistant": Turn(prefix=(" ",), end=(EOS_CAT,), generated=True),
            },
            # A system message after the first one is refused (after the alternation check).
            other=Reject(
                "Only user and assistant roles are supported, with the exception of an initial optional system message!"
            ),
            start=(BOS,),
            # `' [INST] ' + system_message + '\n\n' + message['content'] + ' [/INST]'`, not stripped.
            system=SystemPolicy.FOLD,
            system_turn=Turn(end=("\n\n",)),
            alternation_error=(
                "After the optional system message, conversation roles must alternate user/assistant/user/assistant/..."
            ),
        ),
    ),
    Builtin(
        "mistralai/Mistral-7B-Instruct-v0.3",
        _bos_eos("<s>", "</s>"),
        aliases=("mistral-instruct-v0.3",),
        format=Format(
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
        ),
    ),
    Builtin(
        "openchat/openchat-3.5-0106",
        _bos_eos("<s>", "<|end_of_turn|>"),
        aliases=("openchat-3.5",),
        format=Format(
            name="openchat",
            source="openchat--openchat-3.5-0106.jinja",
            # `'GPT4 Correct ' + message['role'].title() + ': '`: the known roles are written out; any other
            # role would need str.title() and is declined.
            roles={
                "system": Turn(prefix=("GPT4 Correct System: ",), end=_OPENCHAT_END),
                "user": Turn(prefix=("GPT4 Correct User: ",), end=_OPENCHAT_END),
                "assistant": Turn(prefix=("GPT4 Correct Assistant: ",), end=_OPENCHAT_END, generated=True),
            },
            other=DECLINE,
            start=(BOS,),
            generation_prompt=("GPT4 Correct Assistant:",),
        ),
    ),
    Builtin(
        "abacusai/Fewshot-Metamath-OrcaVicuna-Mistral",
        _bos_eos("<s>", "</s>"),
        aliases=("fewshot-metamath",),
        format=Format(
            name="orca-vicuna",
            source="abacusai--Fewshot-Metamath-OrcaVicuna-Mistral.jinja",
            roles={
                "system": Turn(),  # printed bare
                "user": Turn(prefix=(" Question: ",)),
                "assistant": Turn(prefix=(" Answer: ",), end=(EOS_CAT,), generated=True),
            },
            other=SKIP,
            start=(BOS,),
            generation_prompt=(" Answer: ",),
        ),
    ),
    Builtin(
        "OrionStarAI/Orion-14B-Chat",
        _bos_eos("<s>", "</s>"),
        aliases=("orion-14b",),
        format=Format(
            name="orion",
            source="OrionStarAI--Orion-14B-Chat.jinja",
            roles={
                "user": Turn(prefix=("Human: ",), end=("\n\nAssistant: ", EOS_CAT)),
                "assistant": Turn(end=(EOS_CAT,), generated=True),
            },
            other=SKIP,
            start=(BOS,),  # `loop.first`: printed whatever the first role
            # No generation prompt: the template never reads add_generation_prompt.
        ),
    ),
    Builtin(
        "microsoft/Phi-3-mini-4k-instruct",
        _bos_eos("<s>", "<|endoftext|>"),
        aliases=("phi3",),
        format=Format(
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
        ),
    ),
    Builtin(
        "microsoft/Phi-3-medium-4k-instruct",
        _bos_eos("<s>", "<|endoftext|>"),
        aliases=("phi3-medium",),
        format=Format(
            name="phi-3-medium",
            source="microsoft--Phi-3-medium-4k-instruct.jinja",
            roles={
                # The assistant header follows every user turn; the template never reads add_generation_prompt.
                "user": Turn(prefix=("<|user|>\n",), end=_PHI_END, sep=("\n<|assistant|>\n",)),
                "assistant": Turn(end=_PHI_END, sep=("\n",), generated=True),
            },
            other=SKIP,  # system messages are dropped
        ),
    ),
    Builtin(
        "microsoft/Phi-3-small-8k-instruct",
        _bos_eos("<|endoftext|>", "<|endoftext|>"),
        aliases=("phi3-small",),
        format=Format(
            name="phi-3-small",
            source="microsoft--Phi-3-small-8k-instruct.jinja",
            roles={"assistant": _PHI_ASSISTANT},
            other=Turn(prefix=("<|", ROLE, "|>\n"), end=_PHI_END, sep=("\n",)),  # every role is a turn
            start=(BOS,),
            generation_prompt=("<|assistant|>\n",),
            no_generation_prompt=(EOS,),
        ),
    ),
    Builtin(
        "microsoft/Phi-3.5-mini-instruct",
        _bos_eos("<s>", "<|endoftext|>"),
        aliases=("phi3.5", "phi-3.5-mini"),
        format=Format(
            name="phi-3.5",
            source="microsoft--Phi-3.5-mini-instruct.jinja",
            roles={
                # `message['role'] == 'system' and message['content']`: an empty system message prints nothing.
                "system": Turn(prefix=("<|system|>\n",), end=_PHI_END, sep=("\n",), skip_empty=True),
                "user": Turn(prefix=("<|user|>\n",), end=_PHI_END, sep=("\n",)),
                "assistant": _PHI_ASSISTANT,
            },
            other=SKIP,
            generation_prompt=("<|assistant|>\n",),
            no_generation_prompt=(EOS,),
        ),
    ),
    Builtin(
        "microsoft/Phi-3.5-vision-instruct",
        _bos_eos("<s>", "<|endoftext|>"),
        aliases=("phi3.5-vision",),
        format=PHI35_VISION,
    ),
    Builtin(
        "microsoft/phi-4",
        _bos_eos("<|endoftext|>", "<|im_end|>"),
        aliases=("phi4",),
        format=Format(
            name="phi-4",
            source="microsoft--phi-4.jinja",
            roles={
                "system": Turn(prefix=("<|im_start|>system<|im_sep|>",), end=_PHI4_END),
                # The assistant header follows every user turn; the template never reads add_generation_prompt.
                "user": Turn(
                    prefix=("<|im_start|>user<|im_sep|>",), end=_PHI4_END, sep=("<|im_start|>assistant<|im_sep|>",)
                ),
                "assistant": Turn(end=_PHI4_END, generated=True),
            },
            other=SKIP,
        ),
    ),
    Builtin(
        "Qwen/Qwen1.5-72B-Chat",
        _QWEN_TOKENS,
        aliases=("qwen-1.5", "qwen15"),
        format=Format(
            name="qwen1.5",
            source="Qwen--Qwen1.5-72B-Chat.jinja",
            roles={"assistant": _qwen15("<|im_start|>assistant\n", generated=True)},
            other=Turn(prefix=("<|im_start|>", ROLE, "\n"), end=("<|im_end|>",), sep=("\n",), last=_QWEN15_OPEN),
            system=SystemPolicy.LEAD,
            system_turn=_qwen15("<|im_start|>system\n"),
            default_system="You are a helpful assistant",  # no full stop, unlike Qwen2
            generation_prompt=("<|im_start|>assistant\n",),
        ),
    ),
    Builtin(
        "Qwen/Qwen2-7B-Instruct",
        _QWEN_TOKENS,
        aliases=("qwen-2",),
        format=_chatml_with_default_system("qwen2", "Qwen--Qwen2-7B-Instruct.jinja", _QWEN_DEFAULT_SYSTEM),
    ),
    # String contents print exactly as Qwen2's; lists of parts (images, videos) are declined.
    Builtin(
        "Qwen/Qwen2-VL-7B-Instruct",
        _QWEN_TOKENS,
        aliases=("qwen-2-vl",),
        format=_chatml_with_default_system("qwen2-vl", "Qwen--Qwen2-VL-7B-Instruct.jinja", _QWEN_DEFAULT_SYSTEM),
    ),
    Builtin(
        "Qwen/Qwen2.5-7B-Instruct",
        _QWEN_TOKENS,
        aliases=("qwen-2.5", "qwen25"),
        format=_QWEN25,
    ),
    Builtin(
        "Qwen/Qwen3-0.6B",
        _QWEN3_TOKENS,
        aliases=("qwen-3",),
        format=QWEN3,
    ),
    Builtin(
        "Qwen/Qwen3-4B-Instruct-2507",
        _QWEN3_TOKENS,
        aliases=("qwen3-2507",),
        format=QWEN3_INSTRUCT,
    ),
    Builtin(
        "Qwen/QwQ-32B",
        _QWEN3_TOKENS,
        aliases=("qwq-32b",),
        format=QWQ,
    ),
    # The default system turn is printed inside the loop at loop.first; the output is the same.
    Builtin(
        "HuggingFaceTB/SmolLM2-135M-Instruct",
        {
            "bos_token": "<|im_start|>",
            "eos_token": "<|im_end|>",
            "pad_token": "<|im_end|>",
            "unk_token": "<|endoftext|>",
        },
        aliases=("smollm-2",),
        format=_chatml_with_default_system(
            "smollm2",
            "HuggingFaceTB--SmolLM2-135M-Instruct.jinja",
            "You are a helpful AI assistant named SmolLM, trained by Hugging Face",
        ),
    ),
    Builtin(
        "HuggingFaceTB/SmolLM3-3B",
        {"eos_token": "<|im_end|>", "pad_token": "<|im_end|>"},
        aliases=("smollm-3",),
        format=SMOLLM3,
    ),
    Builtin(
        "upstage/SOLAR-10.7B-Instruct-v1.0",
        _bos_eos("<s>", "</s>"),
        aliases=("solar-instruct",),
        format=Format(
            name="solar",
            source="upstage--SOLAR-10.7B-Instruct-v1.0.jinja",
            roles={
                "system": Turn(prefix=("### System:\n",), end=("\n\n",), skip_empty=True),
                "user": Turn(prefix=("### User:\n",), end=("\n\n",)),
                "assistant": Turn(prefix=("### Assistant:\n",), generated=True),  # nothing after the content
            },
            other=SKIP,
            generation_prompt=("### Assistant:\n",),  # `loop.last and add_generation_prompt`
        ),
    ),
    Builtin(
        "allenai/Llama-3.1-Tulu-3-8B",
        _bos_eos("<|begin_of_text|>", "<|end_of_text|>"),
        aliases=("tulu3",),
        format=Format(
            name="tulu-3",
            source="allenai--Llama-3.1-Tulu-3-8B.jinja",
            roles={
                "system": Turn(prefix=("<|system|>\n",), end=("\n",)),
                "user": Turn(prefix=("<|user|>\n",), end=("\n",)),
                # The newline after the EOS token is left out when the assistant message is the last one.
                "assistant": Turn(
                    prefix=("<|assistant|>\n",),
                    end=_TULU_ASSISTANT_END,
                    sep=("\n",),
                    generated=True,
                    last=((*_TULU_ASSISTANT_END, "<|assistant|>\n"), _TULU_ASSISTANT_END),
                ),
            },
            other=SKIP,
            generation_prompt=("<|assistant|>\n",),  # `loop.last and add_generation_prompt`
        ),
    ),
    Builtin(
        "eachadea/vicuna-13b-1.1",
        _bos_eos("<s>", "</s>"),
        aliases=("vicuna-1.1",),
        format=Format(
            name="vicuna",
            source="eachadea--vicuna-13b-1.1.jinja",
            roles={"system": Turn(end=("\n\n",)), "user": Turn(prefix=("USER: ",), end=("\n",))},
            other=_VICUNA_ASSISTANT,  # every role but system and user prints as the assistant
            generation_prompt=("ASSISTANT:",),
        ),
    ),
    Builtin(
        "HuggingFaceH4/zephyr-7b-beta",
        _bos_eos("<s>", "</s>"),
        aliases=("zephyr-beta",),
        format=Format(
            name="zephyr",
            source="HuggingFaceH4--zephyr-7b-beta.jinja",
            roles={
                "user": Turn(prefix=("<|user|>\n",), end=(EOS_CAT,), sep=("\n",)),
                "system": Turn(prefix=("<|system|>\n",), end=(EOS_CAT,), sep=("\n",)),
                "assistant": Turn(prefix=("<|assistant|>\n",), end=(EOS_CAT,), sep=("\n",), generated=True),
            },
            other=SKIP,
            generation_prompt=("<|assistant|>\n",),
        ),
    ),
)


FORMATS: Mapping[str, Format] = MappingProxyType({builtin.name: builtin.format for builtin in BUILTINS})
