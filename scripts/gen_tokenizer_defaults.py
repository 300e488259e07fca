"""Regenerate src/chatfmt/registry/tokenizer_defaults.json from the installed transformers.

transformers fills special tokens that tokenizer_config.json leaves out from the defaults of the
tokenizer class it names (`tokenizer_class`), e.g. Qwen2Tokenizer's unk/pad "<|endoftext|>". chatfmt
renders without transformers, so it ships those defaults as data: class name → {token name: default}.
Run: python scripts/gen_tokenizer_defaults.py
"""

import inspect
import json
from pathlib import Path

import transformers

# The attributes every tokenizer has (SPECIAL_TOKENS_ATTRIBUTES); other *_token parameters are class-specific.
STANDARD_TOKENS = ("bos_token", "eos_token", "unk_token", "sep_token", "pad_token", "cls_token", "mask_token")
TARGET = Path(__file__).resolve().parents[1] / "src" / "chatfmt" / "registry" / "tokenizer_defaults.json"


def main() -> None:
    table = {}
    for name in sorted(dir(transformers)):
        if not (name.endswith("Tokenizer") or name.endswith("TokenizerFast")):
            continue
        try:
            cls = getattr(transformers, name)
            parameters = inspect.signature(cls.__init__).parameters
        except Exception:  # classes whose optional backend is missing cannot be inspected
            continue
        defaults = {
            key: param.default
            for key, param in parameters.items()
            if key in STANDARD_TOKENS and isinstance(param.default, str)
        }
        if defaults:
            table[name] = defaults
    TARGET.write_text(
        json.dumps({"transformers": transformers.__version__, "classes": table}, indent=1, ensure_ascii=False) + "\n"
    )
    print(f"{len(table)} classes written to {TARGET}")


if __name__ == "__main__":
    main()
