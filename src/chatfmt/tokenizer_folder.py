"""The files transformers reads a chat template from, and writing a template into a tokenizer folder.

transformers 5.x saves a tokenizer's template as `chat_template.jinja` (plus one
`additional_chat_templates/<name>.jinja` per named template) and its special tokens in
`tokenizer_config.json` (SPEC §3). `write_chat_template` writes exactly that, so a folder holding a base
model's tokenizer becomes a chat model's: `AutoTokenizer.from_pretrained(folder).apply_chat_template`
then renders what chatfmt renders.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

TOKENIZER_CONFIG = "tokenizer_config.json"
SPECIAL_TOKENS_MAP = "special_tokens_map.json"
CHAT_TEMPLATE_FILE = "chat_template.jinja"
CHAT_TEMPLATE_DIR = "additional_chat_templates"
LEGACY_PROCESSOR_FILE = "chat_template.json"
PROCESSOR_CONFIG = "processor_config.json"
STANDARD_TOKENS = ("bos_token", "eos_token", "unk_token", "sep_token", "pad_token", "cls_token", "mask_token")


def _read_config(path: Path) -> dict:
    if not path.is_file():
        return {}
    try:
        config = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path} is not valid JSON, so it cannot be updated: {exc}") from exc
    if not isinstance(config, dict):
        raise ValueError(f"{path} is not a JSON object, so it cannot be updated")
    return config


def write_chat_template(directory: Path, sources: str | Mapping[str, str], special_tokens: Mapping[str, str]) -> Path:
    """Write `sources` and `special_tokens` into the tokenizer folder `directory`, keeping everything else.

    One source goes to `chat_template.jinja`; named sources go to `chat_template.jinja` ("default") and
    `additional_chat_templates/<name>.jinja`. Template files this folder had before are replaced (a stale
    one would change which template transformers picks), and so is a `chat_template` key of the config
    and of the processor's files, which transformers' processor would prefer; the tokens are also written
    into `special_tokens_map.json` when the folder has one (it can override the config). Every other key
    and file stays.
    """
    named = {"default": sources} if isinstance(sources, str) else dict(sources)
    for name in named:
        if not name or "/" in name or "\\" in name or name.startswith("."):
            raise ValueError(f"a named chat template needs a plain file name, got {name!r}")
    directory.mkdir(parents=True, exist_ok=True)
    config_path = directory / TOKENIZER_CONFIG
    # Read every JSON file first: a malformed one stops the export before anything is written.
    config = _read_config(config_path)
    others = {
        name: _read_config(directory / name)
        for name in (SPECIAL_TOKENS_MAP, PROCESSOR_CONFIG, LEGACY_PROCESSOR_FILE)
        if (directory / name).is_file()
    }
    extra = directory / CHAT_TEMPLATE_DIR
    for stale in [directory / CHAT_TEMPLATE_FILE, *sorted(extra.glob("*.jinja"))]:
        stale.unlink(missing_ok=True)
    for name, text in named.items():
        path = directory / CHAT_TEMPLATE_FILE if name == "default" else extra / f"{name}.jinja"
        path.parent.mkdir(exist_ok=True)
        path.write_text(text, encoding="utf-8", newline="")
    config.pop("chat_template", None)
    config.update(special_tokens)
    _write_json(config_path, config)
    for name, other in others.items():
        other.pop("chat_template", None)
        if name == SPECIAL_TOKENS_MAP:
            other.update(special_tokens)
        if other or name == PROCESSOR_CONFIG:
            _write_json(directory / name, other)
        else:
            (directory / name).unlink()  # chat_template.json held only the old template
    return directory


def _write_json(path: Path, value: dict) -> None:
    path.write_text(json.dumps(value, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
