"""The built-in formats: stable names, aliases, the real reference Jinja of each, its special tokens.

Each `.jinja` file beside this module is a byte-for-byte copy of a model's published chat template, taken
from the conformance corpus (shared/corpus/templates, provenance in its MANIFEST.tsv); `corpus_file`
names it. Special tokens are the model tokenizer's `special_tokens_map` entries the template reads.
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


# Kept sorted by name.
BUILTINS: tuple[BuiltinFormat, ...] = (
    BuiltinFormat(
        "alpaca", "tatsu-lab/alpaca (community template)", "tatsu-lab--alpaca--chujiezheng.jinja",
        _llama_tokens("<s>", "</s>"),
    ),
    BuiltinFormat(
        "chatml", "teknium/OpenHermes-2.5-Mistral-7B", "teknium--OpenHermes-2.5-Mistral-7B.jinja",
        _llama_tokens("<s>", "<|im_end|>"), aliases=("openhermes", "hermes-2"),
    ),
    BuiltinFormat(
        "command-r", "CohereForAI/c4ai-command-r-v01", "CohereForAI--c4ai-command-r-v01.jinja",
        _llama_tokens("<BOS_TOKEN>", "<|END_OF_TURN_TOKEN|>"), aliases=("cohere", "command-r-v01"),
    ),
    BuiltinFormat(
        "deepseek-v3", "deepseek-ai/DeepSeek-V3", "deepseek-ai--DeepSeek-V3.jinja",
        _llama_tokens("<｜begin▁of▁sentence｜>", "<｜end▁of▁sentence｜>"), aliases=("deepseek3",),
    ),
    BuiltinFormat(
        "gemma", "google/gemma-7b-it", "google--gemma-7b-it.jinja",
        _llama_tokens("<bos>", "<eos>"), aliases=("gemma-1", "gemma-it"),
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
        "mistral-v1", "mistralai/Mixtral-8x7B-Instruct-v0.1", "mistralai--Mixtral-8x7B-Instruct-v0.1.jinja",
        _llama_tokens("<s>", "</s>"), aliases=("mistral", "mixtral", "mistral-instruct-v0.1"),
    ),
    BuiltinFormat(
        "mistral-v3", "mistralai/Mistral-7B-Instruct-v0.3", "mistralai--Mistral-7B-Instruct-v0.3.jinja",
        _llama_tokens("<s>", "</s>"), aliases=("mistral-instruct-v0.3",),
    ),
    BuiltinFormat(
        "phi-3", "microsoft/Phi-3-mini-4k-instruct", "microsoft--Phi-3-mini-4k-instruct.jinja",
        _llama_tokens("<s>", "<|endoftext|>"), aliases=("phi3",),
    ),
    BuiltinFormat(
        "qwen2.5", "Qwen/Qwen2.5-7B-Instruct", "Qwen--Qwen2.5-7B-Instruct.jinja",
        {"eos_token": "<|im_end|>", "pad_token": "<|endoftext|>", "unk_token": "<|endoftext|>"},
        aliases=("qwen-2.5", "qwen25"),
    ),
    BuiltinFormat(
        "smollm2", "HuggingFaceTB/SmolLM2-135M-Instruct", "HuggingFaceTB--SmolLM2-135M-Instruct.jinja",
        {"bos_token": "<|im_start|>", "eos_token": "<|im_end|>", "pad_token": "<|im_end|>", "unk_token": "<|endoftext|>"},
        aliases=("smollm-2",),
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
