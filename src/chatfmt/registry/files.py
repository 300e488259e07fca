"""A model's tokenizer files, read as transformers reads them: which chat template wins, which special tokens.

The Hub loader, a local model folder and a GGUF file all come down to a set of files (a snapshot
folder, a folder on disk, or the files a GGUF's metadata stands for), so one reader serves them all:
`chat_template.jinja` and `additional_chat_templates/*.jinja` replace the `chat_template` of
`tokenizer_config.json` (SPEC §3.2); a tokenizer without a template falls back to the processor's
(`processor_config.json`, then the legacy `chat_template.json`, SPEC §3.3); special tokens come from the
config in every form, `extra_special_tokens`, `special_tokens_map.json` where transformers reads it, and
the defaults of the tokenizer class it names (SPEC §3.4).
"""

from __future__ import annotations

import abc
import hashlib
import json
import warnings
from collections.abc import Callable, Mapping
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

from ..errors import ChatfmtError
from ..template import Origin, Template
from ..tokenizer_folder import (
    CHAT_TEMPLATE_DIR,
    CHAT_TEMPLATE_FILE,
    LEGACY_PROCESSOR_FILE,
    PROCESSOR_CONFIG,
    SPECIAL_TOKENS_MAP,
    STANDARD_TOKENS,
    TOKENIZER_CONFIG,
)
from ..tokens import token_text

Templates = str | dict[str, str]


class HubTemplateWarning(UserWarning):
    """A model carries two different chat templates and one of them is ignored, as transformers ignores it."""


class FileSet(abc.ABC):
    """Files by their path in the model (`tokenizer_config.json`, `additional_chat_templates/x.jinja`).

    `label` names the model in messages ("Hub repo 'org/name'", "folder '/path'"); `error` makes the
    exception its loader raises (HubError for the Hub, TemplateNotFound for local files).
    """

    def __init__(self, label: str, error: Callable[[str], ChatfmtError]) -> None:
        self.label = label
        self.error = error
        self._parsed: dict[str, dict[str, Any] | None] = {}  # tokenizer_config.json is read for templates and tokens

    @abc.abstractmethod
    def text(self, name: str) -> str | None:
        """The file's text (UTF-8, as stored), or None when there is no such file."""

    @abc.abstractmethod
    def template_names(self) -> list[str]:
        """The `.jinja` files of `additional_chat_templates/`, as paths, sorted."""

    def json(self, name: str) -> dict[str, Any] | None:
        if name not in self._parsed:
            self._parsed[name] = self._parse(name)
        return self._parsed[name]

    def _parse(self, name: str) -> dict[str, Any] | None:
        text = self.text(name)
        if text is None:
            return None
        try:
            value = json.loads(text)
        except json.JSONDecodeError as exc:
            raise self.error(f"{name} in {self.label} is not valid JSON: {exc}") from exc
        if not isinstance(value, dict):
            raise self.error(f"{name} in {self.label} is not a JSON object")
        return value

    def jinja_files(self) -> dict[str, tuple[str, str]]:
        """`chat_template.jinja` as "default" plus `additional_chat_templates/<name>.jinja`: name → (file, text)."""
        found = {}
        main = self.text(CHAT_TEMPLATE_FILE)
        if main is not None:
            found["default"] = (CHAT_TEMPLATE_FILE, main)
        for path in self.template_names():
            text = self.text(path)
            if text is not None:
                found[Path(path).stem] = (path, text)
        return found


class FolderFiles(FileSet):
    """The files of a folder: a Hub snapshot or a model saved on disk."""

    def __init__(self, folder: Path, label: str, error: Callable[[str], ChatfmtError]) -> None:
        super().__init__(label, error)
        self.folder = folder

    def text(self, name: str) -> str | None:
        path = self.folder / name
        return path.read_text(encoding="utf-8") if path.is_file() else None

    def template_names(self) -> list[str]:
        return [
            f"{CHAT_TEMPLATE_DIR}/{path.name}" for path in sorted((self.folder / CHAT_TEMPLATE_DIR).glob("*.jinja"))
        ]


class MemoryFiles(FileSet):
    """Files given as texts: what another container (a GGUF file's metadata) stands for."""

    def __init__(self, files: Mapping[str, str], label: str, error: Callable[[str], ChatfmtError]) -> None:
        super().__init__(label, error)
        self.files = dict(files)

    def text(self, name: str) -> str | None:
        return self.files.get(name)

    def template_names(self) -> list[str]:
        return sorted(
            name for name in self.files if name.startswith(f"{CHAT_TEMPLATE_DIR}/") and name.endswith(".jinja")
        )


def no_template_message(label: str) -> str:
    return (
        f"{label} has no chat template: none of {CHAT_TEMPLATE_FILE}, {CHAT_TEMPLATE_DIR}/*.jinja, "
        f"the 'chat_template' of {TOKENIZER_CONFIG} or {PROCESSOR_CONFIG}, or {LEGACY_PROCESSOR_FILE}. "
        "Pass the template yourself with chatfmt.Template.from_jinja(...)."
    )


def load_template(files: FileSet, name: str, kind: str, details: Mapping[str, str]) -> Template:
    """The Template transformers would load from these files: its template(s) and special tokens.

    `details` start the origin's details; the file each template came from and its sha256 are added.
    """
    templates, used = _tokenizer_templates(files)
    if templates is None:
        templates, used = _processor_templates(files)
    if templates is None:
        raise files.error(no_template_message(files.label))
    found = dict(details)
    if isinstance(templates, str):
        found.update(file=used[""], sha256=_sha256(templates))
    else:
        for key, text in templates.items():
            found[f"template {key}"] = f"{used[key]} sha256={_sha256(text)}"
    return Template(templates, special_tokens=special_tokens(files), name=name, origin=Origin(kind, found))  # type: ignore[arg-type]


def _flatten(named: dict[str, tuple[str, str]]) -> tuple[Templates, dict[str, str]]:
    used = {name: file for name, (file, _) in named.items()}
    if list(named) == ["default"]:
        return named["default"][1], {"": used["default"]}
    return {name: text for name, (_, text) in named.items()}, used


def _config_templates(value: Any, origin: str, files: FileSet) -> tuple[Templates, dict[str, str]]:
    """A config's `chat_template` value: a string, or a list of {"name", "template"} objects."""
    if isinstance(value, str):
        return value, {"": origin}
    if isinstance(value, list) and all(
        isinstance(item, dict) and {"name", "template"} <= item.keys() for item in value
    ):
        named = {item["name"]: item["template"] for item in value}
        return named, {name: f"{origin}#{name}" for name in named}
    raise files.error(
        f"{origin} in {files.label} has a 'chat_template' that is neither a string nor a list of "
        '{"name", "template"} objects'
    )


def _tokenizer_templates(files: FileSet) -> tuple[Templates | None, dict[str, str]]:
    config = files.json(TOKENIZER_CONFIG) or {}
    stored = config.get("chat_template")
    from_config = None if stored is None else _config_templates(stored, TOKENIZER_CONFIG, files)
    jinja = files.jinja_files()
    if jinja:
        templates, used = _flatten(jinja)
        if from_config is not None and from_config[0] != templates:
            warnings.warn(
                f"{files.label}: the chat template in {TOKENIZER_CONFIG} differs from {CHAT_TEMPLATE_FILE}/"
                f"{CHAT_TEMPLATE_DIR}; using the .jinja files, as transformers does",
                HubTemplateWarning,
                stacklevel=4,
            )
        return templates, used
    if from_config is not None:
        return from_config
    return None, {}


def _processor_templates(files: FileSet) -> tuple[Templates | None, dict[str, str]]:
    processor = files.json(PROCESSOR_CONFIG) or {}
    if processor.get("chat_template") is not None:
        return _config_templates(processor["chat_template"], PROCESSOR_CONFIG, files)
    legacy = files.json(LEGACY_PROCESSOR_FILE)
    if legacy is not None and legacy.get("chat_template") is not None:
        # (transformers' processor refuses this file beside additional_chat_templates/, but such a model's
        # tokenizer has templates, so chatfmt never gets here for it.)
        return _config_templates(legacy["chat_template"], LEGACY_PROCESSOR_FILE, files)
    return None, {}


@lru_cache(maxsize=1)
def _class_defaults() -> dict[str, dict[str, str]]:
    data = resources.files(__package__).joinpath("tokenizer_defaults.json").read_text(encoding="utf-8")
    return json.loads(data)["classes"]


def special_tokens(files: FileSet) -> dict[str, str | None]:
    """What `tokenizer.special_tokens_map` holds after transformers loads these files."""
    config = files.json(TOKENIZER_CONFIG) or {}
    tokens: dict[str, str | None] = dict(_class_defaults().get(config.get("tokenizer_class") or "", {}))
    for key, value in config.items():
        if key in STANDARD_TOKENS or (key.endswith("_token") and token_text(value) is not None):
            tokens[key] = token_text(value)
    extra = config.get("extra_special_tokens")
    if isinstance(extra, dict):
        tokens.update({key: token_text(value) for key, value in extra.items()})
    if "added_tokens_decoder" not in config:
        legacy = files.json(SPECIAL_TOKENS_MAP) or {}
        tokens.update({key: token_text(value) for key, value in legacy.items() if key in STANDARD_TOKENS})
    return tokens


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
