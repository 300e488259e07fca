"""Chat templates from local sources: a model or tokenizer folder, a GGUF file, a `.jinja` or pattern `.toml` file.

A folder is read exactly as a Hub snapshot is (`files.py`: the same file precedence and special-token
rules), as `from_pretrained` reads a local folder. A GGUF file keeps its template(s) and token ids in
its metadata (`tokenizer.chat_template`, `tokenizer.chat_template.<name>`, `tokenizer.ggml.*_token_id`
indexing `tokenizer.ggml.tokens`); they are read with the `gguf` package (the `gguf` extra, imported
only for GGUF files) and stand for a `tokenizer_config.json`, so the same reader applies.
A `.jinja` file carries no special tokens: pass them, and a template that reads one that was not given
says so once (`MissingSpecialTokenWarning`) instead of printing "" silently.
"""

from __future__ import annotations

import json
import os
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..errors import TemplateNotFound
from ..template import Origin, Template
from ..tokenizer_folder import TOKENIZER_CONFIG
from .files import FolderFiles, MemoryFiles, load_template

__all__ = ["MissingSpecialTokenWarning", "is_local_model", "load_file", "load_folder", "load_gguf", "load_local"]

GGUF_SUFFIX = ".gguf"
# GGUF metadata key of each token id -> the special token's name in transformers.
_GGUF_TOKEN_IDS = {
    "bos": "bos_token",
    "eos": "eos_token",
    "unknown": "unk_token",
    "seperator": "sep_token",  # (sic: the GGUF key is spelled this way)
    "padding": "pad_token",
    "cls": "cls_token",
    "mask": "mask_token",
}


class MissingSpecialTokenWarning(UserWarning):
    """A template reads special tokens that were not given: they print "" (or raise where concatenated)."""


def is_local_model(name: str | os.PathLike[str]) -> bool:
    """Whether `name` is a model folder or a GGUF file on disk."""
    path = Path(name).expanduser()
    return path.is_dir() or (path.is_file() and path.suffix.lower() == GGUF_SUFFIX)


def load_local(path: str | os.PathLike[str], *, special_tokens: Mapping[str, Any] | None = None) -> Template:
    """A template from any local source: a model folder, a GGUF file, a `.toml` pattern file or a `.jinja` file."""
    path = Path(path).expanduser()
    if path.is_dir():
        template = load_folder(path)
    elif path.suffix.lower() == GGUF_SUFFIX:
        template = load_gguf(path)
    else:
        return load_file(path, special_tokens=special_tokens)
    if special_tokens:
        template = template.replace(special_tokens={**template.special_tokens, **special_tokens})
    return template


def load_folder(folder: Path) -> Template:
    """The template(s) and special tokens of a model or tokenizer folder, as `from_pretrained(folder)` loads them."""
    label = f"folder {str(folder)!r}"
    files = FolderFiles(folder, label, TemplateNotFound)
    return load_template(files, folder.resolve().name, "file", {"path": str(folder.resolve())})


def load_gguf(path: Path) -> Template:
    """The template(s) and BOS/EOS (and other) special tokens in a GGUF file's metadata."""
    try:
        import gguf
    except ImportError as exc:
        raise TemplateNotFound(
            f"reading the GGUF file {str(path)!r} needs the gguf package: pip install 'chatfmt[gguf]'"
        ) from exc
    label = f"GGUF file {str(path)!r}"
    try:
        fields = gguf.GGUFReader(path).fields
        config: dict[str, Any] = {}
        vocabulary = fields.get("tokenizer.ggml.tokens")
        for key, name in _GGUF_TOKEN_IDS.items():
            field = fields.get(f"tokenizer.ggml.{key}_token_id")
            index = int(field.parts[field.data[0]][0]) if field is not None else -1
            if vocabulary is not None and 0 <= index < len(vocabulary.data):
                config[name] = _gguf_string(vocabulary, index)  # one entry: a vocabulary has ~10^5 of them
        names_field = fields.get("tokenizer.chat_templates")  # the names of the named templates
        names = [_gguf_string(names_field, i) for i in range(len(names_field.data))] if names_field is not None else []
        templates = {
            key: _gguf_string(field)
            for key, field in fields.items()
            if key.startswith("tokenizer.chat_template") and key != "tokenizer.chat_templates"
        }
    except Exception as exc:  # a truncated or foreign file: gguf raises ValueError, struct errors, ...
        raise TemplateNotFound(f"{label} cannot be read: {type(exc).__name__}: {exc}") from exc
    named = [
        {"name": name, "template": templates[f"tokenizer.chat_template.{name}"]}
        for name in names
        if f"tokenizer.chat_template.{name}" in templates
    ]
    default = templates.get("tokenizer.chat_template")
    if named:
        config["chat_template"] = ([{"name": "default", "template": default}] if default is not None else []) + named
    elif default is not None:
        config["chat_template"] = default
    files = MemoryFiles({TOKENIZER_CONFIG: json.dumps(config)}, label, TemplateNotFound)
    return load_template(files, path.stem, "file", {"path": str(path.resolve()), "container": "gguf"})


def _gguf_string(field: Any, index: int = 0) -> str:
    """The `index`-th string of a GGUF metadata field (its only one for a scalar), read from its raw parts,
    which every version of the gguf package exposes the same way."""
    return bytes(field.parts[field.data[index]]).decode("utf-8")


def load_file(path: str | os.PathLike[str], *, special_tokens: Mapping[str, Any] | None = None) -> Template:
    """A template from a `.jinja` file (read as UTF-8 exactly as stored; Jinja drops one final newline), or
    from a pattern `.toml` file (see `chatfmt.formats.read_toml`), with `special_tokens` for it to read."""
    path = Path(path)
    if path.suffix.lower() == ".toml":
        try:
            return Template.from_toml(path, special_tokens=special_tokens).replace(
                origin=Origin("file", {"path": str(path.resolve())})
            )
        except OSError as exc:
            raise TemplateNotFound(f"cannot read pattern format file {str(path)!r}: {exc}") from exc
    try:
        source = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise TemplateNotFound(f"cannot read chat template file {str(path)!r}: {exc}") from exc
    origin = Origin("file", {"path": str(path.resolve())})
    template = Template(source, special_tokens=special_tokens, name=path.stem, origin=origin)
    _warn_missing_tokens(template, str(path))
    return template


def _warn_missing_tokens(template: Template, where: str) -> None:
    import jinja2

    from ..jinja.environment import template_variables

    assert isinstance(template.source, str)
    try:
        reads = template_variables(template.source)
    except jinja2.TemplateSyntaxError:
        return  # rendering will raise it, as transformers does
    missing = sorted(name for name in reads if name.endswith("_token") and name not in template.special_tokens)
    if missing:
        warnings.warn(
            f"the chat template {where} reads {', '.join(missing)}, which {'was' if len(missing) == 1 else 'were'} not "
            'given: it prints "" there (or raises where it joins it with +), as transformers does for a tokenizer '
            "without that token. Pass special_tokens={...} (on the command line: --bos, --eos).",
            MissingSpecialTokenWarning,
            stacklevel=4,
        )
