"""The built-in formats: stable names, aliases, the real reference Jinja of each, its special tokens.

Each `.jinja` file beside this module is a byte-for-byte copy of a model's published chat template, taken
from the conformance corpus (shared/corpus/templates, provenance in its MANIFEST.tsv); `corpus_file`
names it (command-r's, not in the corpus, renders like its `corpus_file`: see its row). Special tokens are the model tokenizer's `special_tokens_map` entries the template reads.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources


@dataclass(frozen=True)
class BuiltinFormat:
    name: str
    model: str
    corpus_file: str
    special_tokens: dict[str, str]
    aliases: tuple[str, ...] = ()

    def read_source(self) -> str:
        return resources.files(__package__).joinpath("templates").joinpath(f"{self.name}.jinja").read_text(encoding="utf-8")


def _llama_tokens(bos: str, eos: str) -> dict[str, str]:
    return {"bos_token": bos, "eos_token": eos}


_QWEN_TOKENS = {"eos_token": "<|im_end|>", "pad_token": "<|endoftext|>", "unk_token": "<|endoftext|>"}
_QWEN3_TOKENS = {"eos_token": "<|im_end|>", "pad_token": "<|endoftext|>"}

# Kept sorted by name.
BUILTINS: tuple[BuiltinFormat, ...] = (
    BuiltinFormat(
        "alpaca", "tatsu-lab/alpaca (community template)", "tatsu-lab--alpaca--chujiezheng.jinja",
        _llama_tokens("<s>", "</s>"),
    ),
    BuiltinFormat(
        "alphamonarch", "mlabonne/AlphaMonarch-7B", "mlabonne--AlphaMonarch-7B.jinja",
        _llama_tokens("<s>", "</s>"), aliases=("alpha-monarch",),
    ),
    BuiltinFormat(
        "aya", "CohereForAI/aya-23-8B", "CohereForAI--c4ai-command-r-v01.jinja",
        _llama_tokens("<BOS_TOKEN>", "<|END_OF_TURN_TOKEN|>"), aliases=("aya-23",),
    ),
    BuiltinFormat(
        "chatml", "teknium/OpenHermes-2.5-Mistral-7B", "teknium--OpenHermes-2.5-Mistral-7B.jinja",
        _llama_tokens("<s>", "<|im_end|>"), aliases=("openhermes", "hermes-2"),
    ),
    # command-r.jinja is the template c4ai-command-r-v01 ships; the corpus has only its Aya variant (the
    # "aya" row), which differs in the text of a branch that never runs, so it is the parity reference.
    BuiltinFormat(
        "command-r", "CohereForAI/c4ai-command-r-v01", "CohereForAI--c4ai-command-r-v01.jinja",
        _llama_tokens("<BOS_TOKEN>", "<|END_OF_TURN_TOKEN|>"), aliases=("cohere", "command-r-v01"),
    ),
    BuiltinFormat(
        "deepseek-coder", "deepseek-ai/deepseek-coder-33b-instruct", "deepseek-ai--deepseek-coder-33b-instruct.jinja",
        _llama_tokens("<｜begin▁of▁sentence｜>", "<|EOT|>"), aliases=("deepseek-coder-instruct",),
    ),
    BuiltinFormat(
        "deepseek-coder-v2", "deepseek-ai/DeepSeek-Coder-V2-Instruct", "deepseek-ai--DeepSeek-Coder-V2-Instruct.jinja",
        _llama_tokens("<｜begin▁of▁sentence｜>", "<｜end▁of▁sentence｜>"), aliases=("deepseek-coder-v2-instruct",),
    ),
    BuiltinFormat(
        "deepseek-r1", "deepseek-ai/DeepSeek-R1", "deepseek-ai--DeepSeek-R1.jinja",
        _llama_tokens("<｜begin▁of▁sentence｜>", "<｜end▁of▁sentence｜>"), aliases=("deepseek-reasoner",),
    ),
    BuiltinFormat(
        "deepseek-r1-distill", "deepseek-ai/DeepSeek-R1-Distill-Qwen-32B", "deepseek-ai--DeepSeek-R1-Distill-Qwen-32B.jinja",
        _llama_tokens("<｜begin▁of▁sentence｜>", "<｜end▁of▁sentence｜>"), aliases=("deepseek-r1-distill-qwen",),
    ),
    BuiltinFormat(
        "deepseek-v3", "deepseek-ai/DeepSeek-V3", "deepseek-ai--DeepSeek-V3.jinja",
        _llama_tokens("<｜begin▁of▁sentence｜>", "<｜end▁of▁sentence｜>"), aliases=("deepseek3",),
    ),
    BuiltinFormat(
        "exaone-3.5", "LGAI-EXAONE/EXAONE-3.5-7.8B-Instruct", "LGAI-EXAONE--EXAONE-3.5-7.8B-Instruct.jinja",
        {"bos_token": "[BOS]", "eos_token": "[|endofturn|]"}, aliases=("exaone",),
    ),
    BuiltinFormat(
        "gemma", "google/gemma-7b-it", "google--gemma-7b-it.jinja",
        _llama_tokens("<bos>", "<eos>"), aliases=("gemma-1", "gemma-it"),
    ),
    BuiltinFormat(
        "gemma-2", "google/gemma-2-2b-it", "google--gemma-2-2b-it.jinja",
        _llama_tokens("<bos>", "<eos>"), aliases=("gemma2", "gemma-2-it"),
    ),
    BuiltinFormat(
        "gemma-3", "google/gemma-3-4b-it", "google--gemma-3-4b-it.jinja",
        _llama_tokens("<bos>", "<eos>"), aliases=("gemma3", "gemma-3-it"),
    ),
    BuiltinFormat(
        "glm-edge", "THUDM/glm-edge-1.5b-chat", "THUDM--glm-edge-1.5b-chat.jinja", {}, aliases=("glm-edge-chat",),
    ),
    BuiltinFormat(
        "granite-3.0", "ibm-granite/granite-3.0-8b-instruct", "ibm-granite--granite-3.0-8b-instruct.jinja",
        _llama_tokens("<|end_of_text|>", "<|end_of_text|>"), aliases=("granite-3.0-instruct",),
    ),
    BuiltinFormat(
        "granite-3.3", "ibm-granite/granite-3.3-2b-instruct", "ibm-granite--granite-3.3-2b-instruct.jinja",
        _llama_tokens("<|end_of_text|>", "<|end_of_text|>"), aliases=("granite-3.3-instruct",),
    ),
    BuiltinFormat(
        "h2o-danube", "h2oai/h2o-danube-1.8b-chat", "h2oai--h2o-danube-1.8b-chat.jinja",
        _llama_tokens("<s>", "</s>"), aliases=("danube", "h2o-danube-chat"),
    ),
    BuiltinFormat(
        "hermes-2-pro", "NousResearch/Hermes-2-Pro-Llama-3-8B", "NousResearch--Hermes-2-Pro-Llama-3-8B.jinja",
        _llama_tokens("<|begin_of_text|>", "<|im_end|>"), aliases=("hermes-2-pro-llama-3",),
    ),
    BuiltinFormat(
        "llama-2", "transformers LlamaTokenizer default (Llama-2 chat)", "hf-internal-testing--llama-tokenizer.jinja",
        {"bos_token": "<s>", "eos_token": "</s>", "unk_token": "<unk>"}, aliases=("llama2", "llama-2-chat"),
    ),
    BuiltinFormat(
        "llama-3", "meta-llama/Meta-Llama-3-8B-Instruct", "meta-llama--Meta-Llama-3-8B-Instruct.jinja",
        _llama_tokens("<|begin_of_text|>", "<|eot_id|>"), aliases=("llama3", "llama-3-instruct"),
    ),
    BuiltinFormat(
        "llama-3.1", "meta-llama/Llama-3.1-8B-Instruct", "meta-llama--Llama-3.1-8B-Instruct.jinja",
        _llama_tokens("<|begin_of_text|>", "<|eot_id|>"), aliases=("llama3.1", "llama-3.1-instruct"),
    ),
    BuiltinFormat(
        "llama-3.2", "meta-llama/Llama-3.2-3B-Instruct", "meta-llama--Llama-3.2-3B-Instruct.jinja",
        _llama_tokens("<|begin_of_text|>", "<|eot_id|>"), aliases=("llama3.2", "llama-3.2-instruct"),
    ),
    BuiltinFormat(
        "llama-3.2-vision", "meta-llama/Llama-3.2-11B-Vision-Instruct", "meta-llama--Llama-3.2-11B-Vision-Instruct.jinja",
        _llama_tokens("<|begin_of_text|>", "<|eot_id|>"), aliases=("llama3.2-vision",),
    ),
    BuiltinFormat(
        "megrez", "Infinigence/Megrez-3B-Instruct", "Infinigence--Megrez-3B-Instruct.jinja", {}, aliases=("megrez-3b",),
    ),
    BuiltinFormat(
        "minicpm", "indischepartij/MiniCPM-3B-OpenHermes-2.5-v2", "indischepartij--MiniCPM-3B-OpenHermes-2.5-v2.jinja",
        _llama_tokens("<s>", "</s>"), aliases=("minicpm-2b",),
    ),
    BuiltinFormat(
        "mistral-small-3", "mistralai/Mistral-Small-24B-Instruct-2501", "mistralai--Mistral-Small-24B-Instruct-2501.jinja",
        _llama_tokens("<s>", "</s>"), aliases=("mistral-small-2501",),
    ),
    BuiltinFormat(
        "mistral-small-3.2", "mistralai/Mistral-Small-3.2-24B-Instruct-2506",
        "mistralai--Mistral-Small-3.2-24B-Instruct-2506.jinja",
        _llama_tokens("<s>", "</s>"), aliases=("mistral-small-2506",),
    ),
    BuiltinFormat(
        "mistral-v1", "mistralai/Mixtral-8x7B-Instruct-v0.1", "mistralai--Mixtral-8x7B-Instruct-v0.1.jinja",
        _llama_tokens("<s>", "</s>"), aliases=("mistral", "mixtral", "mistral-instruct-v0.1"),
    ),
    BuiltinFormat(
        "mistral-v1-gptq", "TheBloke/Mistral-7B-Instruct-v0.1-GPTQ", "TheBloke--Mistral-7B-Instruct-v0.1-GPTQ.jinja",
        _llama_tokens("<s>", "</s>"), aliases=("mistral-7b-instruct-v0.1-gptq",),
    ),
    BuiltinFormat(
        "mistral-v2", "mistralai/Mistral-7B-Instruct-v0.2 (the v1 template with a system prompt)",
        "mistralai--Mistral-7B-Instruct-v0.2--v1-with-system.jinja",
        _llama_tokens("<s>", "</s>"), aliases=("mistral-instruct-v0.2", "mistral-v1-with-system"),
    ),
    BuiltinFormat(
        "mistral-v3", "mistralai/Mistral-7B-Instruct-v0.3", "mistralai--Mistral-7B-Instruct-v0.3.jinja",
        _llama_tokens("<s>", "</s>"), aliases=("mistral-instruct-v0.3",),
    ),
    BuiltinFormat(
        "openchat", "openchat/openchat-3.5-0106", "openchat--openchat-3.5-0106.jinja",
        _llama_tokens("<s>", "<|end_of_turn|>"), aliases=("openchat-3.5",),
    ),
    BuiltinFormat(
        "orca-vicuna", "abacusai/Fewshot-Metamath-OrcaVicuna-Mistral",
        "abacusai--Fewshot-Metamath-OrcaVicuna-Mistral.jinja",
        _llama_tokens("<s>", "</s>"), aliases=("fewshot-metamath",),
    ),
    BuiltinFormat(
        "orion", "OrionStarAI/Orion-14B-Chat", "OrionStarAI--Orion-14B-Chat.jinja",
        _llama_tokens("<s>", "</s>"), aliases=("orion-14b",),
    ),
    BuiltinFormat(
        "phi-3", "microsoft/Phi-3-mini-4k-instruct", "microsoft--Phi-3-mini-4k-instruct.jinja",
        _llama_tokens("<s>", "<|endoftext|>"), aliases=("phi3",),
    ),
    BuiltinFormat(
        "phi-3-medium", "microsoft/Phi-3-medium-4k-instruct", "microsoft--Phi-3-medium-4k-instruct.jinja",
        _llama_tokens("<s>", "<|endoftext|>"), aliases=("phi3-medium",),
    ),
    BuiltinFormat(
        "phi-3-small", "microsoft/Phi-3-small-8k-instruct", "microsoft--Phi-3-small-8k-instruct.jinja",
        _llama_tokens("<|endoftext|>", "<|endoftext|>"), aliases=("phi3-small",),
    ),
    BuiltinFormat(
        "phi-3.5", "microsoft/Phi-3.5-mini-instruct", "microsoft--Phi-3.5-mini-instruct.jinja",
        _llama_tokens("<s>", "<|endoftext|>"), aliases=("phi3.5", "phi-3.5-mini"),
    ),
    BuiltinFormat(
        "phi-3.5-vision", "microsoft/Phi-3.5-vision-instruct", "microsoft--Phi-3.5-vision-instruct.jinja",
        _llama_tokens("<s>", "<|endoftext|>"), aliases=("phi3.5-vision",),
    ),
    BuiltinFormat(
        "phi-4", "microsoft/phi-4", "microsoft--phi-4.jinja",
        _llama_tokens("<|endoftext|>", "<|im_end|>"), aliases=("phi4",),
    ),
    BuiltinFormat(
        "qwen1.5", "Qwen/Qwen1.5-72B-Chat", "Qwen--Qwen1.5-72B-Chat.jinja",
        _QWEN_TOKENS, aliases=("qwen-1.5", "qwen15"),
    ),
    BuiltinFormat(
        "qwen2", "Qwen/Qwen2-7B-Instruct", "Qwen--Qwen2-7B-Instruct.jinja",
        _QWEN_TOKENS, aliases=("qwen-2",),
    ),
    BuiltinFormat(
        "qwen2-vl", "Qwen/Qwen2-VL-7B-Instruct", "Qwen--Qwen2-VL-7B-Instruct.jinja",
        _QWEN_TOKENS, aliases=("qwen-2-vl",),
    ),
    BuiltinFormat(
        "qwen2.5", "Qwen/Qwen2.5-7B-Instruct", "Qwen--Qwen2.5-7B-Instruct.jinja",
        {"eos_token": "<|im_end|>", "pad_token": "<|endoftext|>", "unk_token": "<|endoftext|>"},
        aliases=("qwen-2.5", "qwen25"),
    ),
    BuiltinFormat(
        "qwen3", "Qwen/Qwen3-0.6B", "Qwen--Qwen3-0.6B.jinja",
        _QWEN3_TOKENS, aliases=("qwen-3",),
    ),
    BuiltinFormat(
        "qwen3-instruct", "Qwen/Qwen3-4B-Instruct-2507", "Qwen--Qwen3-4B-Instruct-2507.jinja",
        _QWEN3_TOKENS, aliases=("qwen3-2507",),
    ),
    BuiltinFormat(
        "qwq", "Qwen/QwQ-32B", "Qwen--QwQ-32B.jinja",
        _QWEN3_TOKENS, aliases=("qwq-32b",),
    ),
    BuiltinFormat(
        "smollm2", "HuggingFaceTB/SmolLM2-135M-Instruct", "HuggingFaceTB--SmolLM2-135M-Instruct.jinja",
        {"bos_token": "<|im_start|>", "eos_token": "<|im_end|>", "pad_token": "<|im_end|>", "unk_token": "<|endoftext|>"},
        aliases=("smollm-2",),
    ),
    BuiltinFormat(
        "smollm3", "HuggingFaceTB/SmolLM3-3B", "HuggingFaceTB--SmolLM3-3B.jinja",
        {"eos_token": "<|im_end|>", "pad_token": "<|im_end|>"}, aliases=("smollm-3",),
    ),
    BuiltinFormat(
        "solar", "upstage/SOLAR-10.7B-Instruct-v1.0", "upstage--SOLAR-10.7B-Instruct-v1.0.jinja",
        _llama_tokens("<s>", "</s>"), aliases=("solar-instruct",),
    ),
    BuiltinFormat(
        "tulu-3", "allenai/Llama-3.1-Tulu-3-8B", "allenai--Llama-3.1-Tulu-3-8B.jinja",
        _llama_tokens("<|begin_of_text|>", "<|end_of_text|>"), aliases=("tulu3",),
    ),
    BuiltinFormat(
        "vicuna", "eachadea/vicuna-13b-1.1", "eachadea--vicuna-13b-1.1.jinja",
        _llama_tokens("<s>", "</s>"), aliases=("vicuna-1.1",),
    ),
    BuiltinFormat(
        "zephyr", "HuggingFaceH4/zephyr-7b-beta", "HuggingFaceH4--zephyr-7b-beta.jinja",
        _llama_tokens("<s>", "</s>"), aliases=("zephyr-beta",),
    ),
)
