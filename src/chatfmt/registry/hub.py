"""Chat templates and special tokens from a Hugging Face Hub repo, as transformers would load them.

Fetching and caching are huggingface_hub's own (`hf_hub_download` and the repo-tree listing, the requests
transformers makes),
so HF_HOME, HF_HUB_OFFLINE, HF_ENDPOINT, tokens for gated repos and revision pinning behave as users
expect, and a repo fetched once renders offline. Which file wins and which special tokens a
template sees follow transformers exactly (SPEC §3), read by `files.py`, which local folders and GGUF
files share.
Hub templates are untrusted code: they only ever run in chatfmt's sandboxed Jinja environment.
"""

from __future__ import annotations

from pathlib import Path, PurePosixPath
from typing import Any

from ..errors import HubError, HubUnreachable
from ..template import Template
from ..tokenizer_folder import (
    CHAT_TEMPLATE_DIR,
    CHAT_TEMPLATE_FILE,
    LEGACY_PROCESSOR_FILE,
    PROCESSOR_CONFIG,
    SPECIAL_TOKENS_MAP,
    TOKENIZER_CONFIG,
)
from .files import FolderFiles, HubTemplateWarning, load_template, no_template_message
from .local import is_local_model, load_local

SINGLE_FILES = (TOKENIZER_CONFIG, CHAT_TEMPLATE_FILE, SPECIAL_TOKENS_MAP, PROCESSOR_CONFIG, LEGACY_PROCESSOR_FILE)
__all__ = ["HubTemplateWarning", "fetch", "load_from_hub"]


def load_from_hub(repo_id: str, *, revision: str | None = None, token: str | bool | None = None) -> Template:
    """The chat template(s) and special tokens of Hub repo `repo_id` at `revision` (default: main).

    A path to a local model folder or GGUF file is read from disk instead, with the same rules
    (see `chatfmt.registry.local`), as `from_pretrained` reads a local folder.

    Raises `chatfmt.HubError` naming the repo and what to do when the repo, the revision or any chat
    template cannot be had.
    """
    if is_local_model(repo_id):
        return load_local(repo_id)
    folder = fetch(repo_id, revision=revision, token=token)
    files = FolderFiles(folder, f"Hub repo {repo_id!r}", lambda message: HubError(message, repo_id=repo_id))
    details = {"repo": repo_id, "revision": revision or "main", "commit": folder.name}
    return load_template(files, repo_id, "hub", details)


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
    from huggingface_hub import constants

    from .reach import unreachable_reason

    where = f"Hub repo {repo_id!r}" + (f" at revision {revision!r}" if revision else "")
    offline = bool(constants.HF_HUB_OFFLINE)
    reason = None if offline else unreachable_reason(constants.ENDPOINT)  # instead of ~23 s of retries
    try:
        return _Fetch(huggingface_hub, repo_id, revision, token, unreachable=reason is not None).snapshot()
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
        raise HubError(
            f"{where}: the revision does not exist; use a branch, tag or commit of the repo", repo_id=repo_id
        ) from exc
    except errors.LocalEntryNotFoundError as exc:
        message = _unreachable_message(where, repo_id, reason, offline)
        raise HubUnreachable(message, repo_id=repo_id, reason=reason, offline=offline) from exc
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

    def __init__(
        self, hub: Any, repo_id: str, revision: str | None, token: str | bool | None, *, unreachable: bool
    ) -> None:
        self.hub, self.repo_id, self.revision, self.token = hub, repo_id, revision, token
        self.commit: str | None = None
        self.folder: Path | None = None
        self.asked_hub = False
        self.unreachable = unreachable

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
            path: Path | None = Path(
                self.hub.hf_hub_download(
                    self.repo_id,
                    name,
                    revision=revision,
                    token=self.token,
                    library_name="chatfmt",
                    local_files_only=self.unreachable,
                )
            )
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
        local = [
            f"{CHAT_TEMPLATE_DIR}/{path.name}" for path in sorted((self.folder / CHAT_TEMPLATE_DIR).glob("*.jinja"))
        ]
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


def _unreachable_message(where: str, repo_id: str, reason: str | None, offline: bool) -> str:
    if offline:
        return (
            f"{where} is not in the local cache, and HF_HUB_OFFLINE is set so the Hub was not asked; fetch it "
            f"once while online (`chatfmt pull {repo_id}`, with HF_HUB_OFFLINE unset), then it loads offline"
        )
    return (
        f"{where} cannot be reached ({reason or 'the Hub did not answer'}) and is not in the local cache. "
        f"To work offline, fetch it once while online (`chatfmt pull {repo_id}`); then it loads from the cache, "
        "and HF_HUB_OFFLINE=1 stops chatfmt from trying the network at all"
    )


def _no_template_message(repo_id: str) -> str:
    return no_template_message(f"Hub repo {repo_id!r}")
