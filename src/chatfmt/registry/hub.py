"""Chat templates and special tokens from a Hugging Face Hub repo, as transformers would load them.

Fetching and caching are huggingface_hub's own (`hf_hub_download` and the repo-tree listing, the requests
transformers makes),
so HF_HOME, HF_HUB_OFFLINE, HF_ENDPOINT, tokens for gated repos and revision pinning behave as users
expect, and a repo fetched once renders offline. Which file wins follows transformers exactly
(SPEC §3): for the tokenizer, `chat_template.jinja` and `additional_chat_templates/*.jinja` replace the
`chat_template` of `tokenizer_config.json`; a repo whose tokenizer has no template falls back to the
processor's (`processor_config.json`, then the legacy `chat_template.json`, then the .jinja files).
Hub templates are untrusted code: they only ever run in chatfmt's sandboxed Jinja environment.
"""

from __future__ import annotations

import hashlib
import json
import warnings
from functools import lru_cache
from importlib import resources
from pathlib import Path, PurePosixPath
from typing import Any

from ..errors import HubError
from ..template import Origin, Template
from ..tokens import token_text

TOKENIZER_CONFIG = "tokenizer_config.json"
SPECIAL_TOKENS_MAP = "special_tokens_map.json"
CHAT_TEMPLATE_FILE = "chat_template.jinja"
CHAT_TEMPLATE_DIR = "additional_chat_templates"
LEGACY_PROCESSOR_FILE = "chat_template.json"
PROCESSOR_CONFIG = "processor_config.json"
SINGLE_FILES = (TOKENIZER_CONFIG, CHAT_TEMPLATE_FILE, SPECIAL_TOKENS_MAP, PROCESSOR_CONFIG, LEGACY_PROCESSOR_FILE)
STANDARD_TOKENS = ("bos_token", "eos_token", "unk_token", "sep_token", "pad_token", "cls_token", "mask_token")


class HubTemplateWarning(UserWarning):
    """A repo carries two different chat templates and one of them is ignored, as transformers ignores it."""


def load_from_hub(repo_id: str, *, revision: str | None = None, token: str | bool | None = None) -> Template:
    """The chat template(s) and special tokens of Hub repo `repo_id` at `revision` (default: main).

    Raises `chatfmt.HubError` naming the repo and what to do when the repo, the revision or any chat
    template cannot be had.
    """
    folder = fetch(repo_id, revision=revision, token=token)
    files = _RepoFiles(repo_id, folder)
    templates, used = _tokenizer_templates(files)
    if templates is None:
        templates, used = _processor_templates(files)
    if templates is None:
        raise HubError(_no_template_message(repo_id), repo_id=repo_id)
    details = {"repo": repo_id, "revision": revision or "main", "commit": folder.name}
    if isinstance(templates, str):
        details.update(file=used[""], sha256=_sha256(templates))
    else:
        for name, text in templates.items():
            details[f"template {name}"] = f"{used[name]} sha256={_sha256(text)}"
    return Template(templates, special_tokens=_special_tokens(files), name=repo_id, origin=Origin("hub", details))


def fetch(repo_id: str, *, revision: str | None = None, token: str | bool | None = None) -> Path:
    """The local snapshot folder (named by commit) holding the repo's template files; fills the cache.

    It asks what transformers asks: files with `hf_hub_download`, `additional_chat_templates/` with the
    repo-tree listing. So any server transformers can load from serves chatfmt too, and a repo fetched
    once is found in the cache offline (see `_Fetch` for how few requests that takes).
    """
    try:
        import huggingface_hub
        from huggingface_hub import errors
    except ImportError as exc:
        raise HubError(
            f"loading {repo_id!r} from the Hugging Face Hub needs huggingface_hub: pip install 'chatfmt[hub]'",
            repo_id=repo_id,
        ) from exc
    where = f"Hub repo {repo_id!r}" + (f" at revision {revision!r}" if revision else "")
    try:
        return _Fetch(huggingface_hub, repo_id, revision, token).snapshot()
    except errors.GatedRepoError as exc:
        raise HubError(
            f"{where} is gated: accept its conditions on the Hub, then pass token=... or log in (`hf auth login`, HF_TOKEN)",
            repo_id=repo_id,
        ) from exc
    except errors.RepositoryNotFoundError as exc:
        raise HubError(
            f"{where} was not found, or it is private and no valid token was given: check the id, or pass token=... "
            "(`hf auth login`, HF_TOKEN)",
            repo_id=repo_id,
        ) from exc
    except errors.RevisionNotFoundError as exc:
        raise HubError(f"{where}: the revision does not exist; use a branch, tag or commit of the repo", repo_id=repo_id) from exc
    except errors.LocalEntryNotFoundError as exc:
        raise HubError(
            f"{where} cannot be reached (offline, or the network is down) and is not in the local cache; connect and "
            f"run `chatfmt pull {repo_id}` once to use it offline",
            repo_id=repo_id,
        ) from exc
    except errors.HFValidationError as exc:
        raise HubError(f"{repo_id!r} is not a valid Hub repo id: {exc}", repo_id=repo_id) from exc
    except (errors.HfHubHTTPError, OSError) as exc:
        raise HubError(f"{where}: the Hub request failed: {exc}", repo_id=repo_id) from exc


class _Fetch:
    """One repo's template files, asking the Hub no more than needed.

    The first file found resolves the requested revision to a commit, and the rest are read at that
    commit. A commit never changes, so a file the cache already holds at it (or knows is absent) is not
    asked for again; when the cache answers for every file, it answers for the template folder too (a
    previous fetch filled it). Once the Hub proves unreachable, the rest comes from the cache only,
    instead of waiting out huggingface_hub's retries for every file.
    """

    def __init__(self, hub: Any, repo_id: str, revision: str | None, token: str | bool | None) -> None:
        self.hub, self.repo_id, self.revision, self.token = hub, repo_id, revision, token
        self.commit: str | None = None
        self.folder: Path | None = None
        self.asked_hub = False
        self.unreachable = False

    def snapshot(self) -> Path:
        for name in SINGLE_FILES:
            self.file(name)
        if self.folder is None:
            raise HubError(_no_template_message(self.repo_id), repo_id=self.repo_id)
        for name in self.template_folder():
            self.file(name)
        return self.folder

    def file(self, name: str) -> Path | None:
        """The cached path of one file, or None when the repo has no such file."""
        from huggingface_hub import errors

        if self.commit is not None:
            known = self._cached(name, self.commit)
            if known is not _UNKNOWN:
                return known
        self.asked_hub = self.asked_hub or self.commit is not None
        revision = self.commit or self.revision
        try:
            path: Path | None = Path(self.hub.hf_hub_download(
                self.repo_id, name, revision=revision, token=self.token, library_name="chatfmt",
                local_files_only=self.unreachable,
            ))
        except errors.RemoteEntryNotFoundError:
            path = None
        except errors.LocalEntryNotFoundError:
            self.unreachable = True
            known = self._cached(name, revision)
            if known is _UNKNOWN:
                raise
            path = known
        if path is not None and self.folder is None:
            self.folder = path.parents[len(PurePosixPath(name).parts) - 1]
            self.commit = self.folder.name
        return path

    def _cached(self, name: str, revision: str | None) -> Any:
        cached = self.hub.try_to_load_from_cache(self.repo_id, name, revision=revision)
        if isinstance(cached, str):
            return Path(cached)
        return _UNKNOWN if cached is None else None  # otherwise the cache knows the file is absent

    def template_folder(self) -> list[str]:
        """The `.jinja` files of `additional_chat_templates/`: listed by the Hub, or by the cache."""
        from huggingface_hub import errors
        from huggingface_hub.hf_api import RepoFile

        assert self.folder is not None
        local = [f"{CHAT_TEMPLATE_DIR}/{path.name}" for path in sorted((self.folder / CHAT_TEMPLATE_DIR).glob("*.jinja"))]
        if self.unreachable or not self.asked_hub:
            return local
        try:
            entries = self.hub.HfApi().list_repo_tree(
                self.repo_id, path_in_repo=CHAT_TEMPLATE_DIR, revision=self.commit, token=self.token
            )
            return [entry.path for entry in entries if isinstance(entry, RepoFile) and entry.path.endswith(".jinja")]
        except errors.RemoteEntryNotFoundError:
            return []  # the repo has no such folder
        except (errors.RepositoryNotFoundError, errors.RevisionNotFoundError):
            raise
        except Exception:  # unreachable after all: what the cache holds for this commit, as transformers does
            return local


_UNKNOWN = object()


def _no_template_message(repo_id: str) -> str:
    return (
        f"Hub repo {repo_id!r} has no chat template: none of {CHAT_TEMPLATE_FILE}, {CHAT_TEMPLATE_DIR}/*.jinja, "
        f"the 'chat_template' of {TOKENIZER_CONFIG} or {PROCESSOR_CONFIG}, or {LEGACY_PROCESSOR_FILE}. "
        "Pass the template yourself with chatfmt.Template.from_jinja(...)."
    )


class _RepoFiles:
    """The fetched files of one snapshot, read as transformers reads them (UTF-8, as stored)."""

    def __init__(self, repo_id: str, folder: Path) -> None:
        self.repo_id = repo_id
        self.folder = folder
        self._parsed: dict[str, dict[str, Any] | None] = {}  # tokenizer_config.json is read for templates and tokens

    def text(self, name: str) -> str | None:
        path = self.folder / name
        return path.read_text(encoding="utf-8") if path.is_file() else None

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
            raise HubError(f"{name} in Hub repo {self.repo_id!r} is not valid JSON: {exc}", repo_id=self.repo_id) from exc
        if not isinstance(value, dict):
            raise HubError(f"{name} in Hub repo {self.repo_id!r} is not a JSON object", repo_id=self.repo_id)
        return value

    def jinja_files(self) -> dict[str, tuple[str, str]]:
        """`chat_template.jinja` as "default" plus `additional_chat_templates/<name>.jinja`: name → (file, text)."""
        found = {}
        main = self.text(CHAT_TEMPLATE_FILE)
        if main is not None:
            found["default"] = (CHAT_TEMPLATE_FILE, main)
        extra_dir = self.folder / CHAT_TEMPLATE_DIR
        if extra_dir.is_dir():
            for path in sorted(extra_dir.glob("*.jinja")):
                found[path.stem] = (f"{CHAT_TEMPLATE_DIR}/{path.name}", path.read_text(encoding="utf-8"))
        return found


Templates = str | dict[str, str]


def _flatten(named: dict[str, tuple[str, str]]) -> tuple[Templates, dict[str, str]]:
    used = {name: file for name, (file, _) in named.items()}
    if list(named) == ["default"]:
        return named["default"][1], {"": used["default"]}
    return {name: text for name, (_, text) in named.items()}, used


def _config_templates(value: Any, origin: str, repo_id: str) -> tuple[Templates, dict[str, str]]:
    """A config's `chat_template` value: a string, or a list of {"name", "template"} objects."""
    if isinstance(value, str):
        return value, {"": origin}
    if isinstance(value, list) and all(isinstance(item, dict) and {"name", "template"} <= item.keys() for item in value):
        named = {item["name"]: item["template"] for item in value}
        return named, {name: f"{origin}#{name}" for name in named}
    raise HubError(f"{origin} in Hub repo {repo_id!r} has a 'chat_template' that is neither a string nor a list of "
                   "{\"name\", \"template\"} objects", repo_id=repo_id)


def _tokenizer_templates(files: _RepoFiles) -> tuple[Templates | None, dict[str, str]]:
    config = files.json(TOKENIZER_CONFIG) or {}
    stored = config.get("chat_template")
    from_config = None if stored is None else _config_templates(stored, TOKENIZER_CONFIG, files.repo_id)
    jinja = files.jinja_files()
    if jinja:
        templates, used = _flatten(jinja)
        if from_config is not None and from_config[0] != templates:
            warnings.warn(
                f"Hub repo {files.repo_id!r}: the chat template in {TOKENIZER_CONFIG} differs from {CHAT_TEMPLATE_FILE}/"
                f"{CHAT_TEMPLATE_DIR}; using the .jinja files, as transformers does",
                HubTemplateWarning,
                stacklevel=3,
            )
        return templates, used
    if from_config is not None:
        return from_config
    return None, {}


def _processor_templates(files: _RepoFiles) -> tuple[Templates | None, dict[str, str]]:
    processor = files.json(PROCESSOR_CONFIG) or {}
    if processor.get("chat_template") is not None:
        return _config_templates(processor["chat_template"], PROCESSOR_CONFIG, files.repo_id)
    legacy = files.json(LEGACY_PROCESSOR_FILE)
    if legacy is not None and legacy.get("chat_template") is not None:
        # (transformers' processor refuses this file beside additional_chat_templates/, but such a repo's
        # tokenizer has templates, so chatfmt never gets here for it.)
        return _config_templates(legacy["chat_template"], LEGACY_PROCESSOR_FILE, files.repo_id)
    return None, {}


@lru_cache(maxsize=1)
def _class_defaults() -> dict[str, dict[str, str]]:
    data = resources.files(__package__).joinpath("tokenizer_defaults.json").read_text(encoding="utf-8")
    return json.loads(data)["classes"]


def _special_tokens(files: _RepoFiles) -> dict[str, str | None]:
    """What `tokenizer.special_tokens_map` holds after transformers loads this repo."""
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
