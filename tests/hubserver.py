"""A stand-in for the Hugging Face Hub's file API, served over real HTTP on 127.0.0.1.

Tests point `HF_ENDPOINT` at a `FakeHub` so that huggingface_hub and transformers run their real download,
cache and error-mapping code, with no network and no mocking of their functions. The server mirrors what the
Hub sends for regular (non-LFS) git files, as read by huggingface_hub 2.x:

- `HEAD|GET /{repo_id}/resolve/{revision}/{path}`: for a public namespaced repo, a 307 to the commit-pinned
  `/api/resolve-cache/models/{repo_id}/{commit}/{path}?...` (what the Hub does since 2025); for private, gated
  and canonical (namespace-less) repos, or empty files, a direct 200. `ETag` is the quoted git blob sha1,
  `X-Repo-Commit` the resolved commit; `Range` is honoured.
- `GET /api/models/{repo_id}[/revision/{revision}]`: model info (`sha`, `siblings`, `config`, ...).
- `GET /api/models/{repo_id}/tree/{revision}[/{path_in_repo}]?recursive=&expand=`: tree listing, paginated
  with a `Link: <...>; rel="next"` header like the Hub.
- `GET /api/models/{repo_id}/refs`: branches and tags.
- Errors carry `X-Error-Code` / `X-Error-Message`, which `hf_raise_for_status` maps to exception classes.

Only the standard library is used for the server; `make_tokenizer_files` imports `tokenizers` lazily.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, quote, unquote, urlencode, urlsplit

__all__ = [
    "Commit",
    "FakeHub",
    "RecordedRequest",
    "git_blob_sha1",
    "git_tree_sha1",
    "make_tokenizer_files",
]

FileContent = bytes | str

# Deterministic commit dates: a commit's sha depends on its date, and shas must depend on content only.
_EPOCH = 1_700_000_000
_AUTHOR = "Fake Hub <fake-hub@example.invalid>"

# Sub-routes that can follow a repo id in /api/models/... URLs; used to tell `name/tree/...` (a canonical repo)
# from `namespace/name/...` when the repo is unknown to the hub.
_REPO_SUBROUTES = frozenset({"tree", "revision", "refs", "resolve", "paths-info", "commits", "preupload"})

_EXPOSED_HEADERS = (
    "X-Repo-Commit,X-Request-Id,X-Error-Code,X-Error-Message,X-Total-Count,ETag,Link,Accept-Ranges,"
    "Content-Range,X-Linked-Size,X-Linked-ETag,X-Xet-Hash"
)

# Keys of tokenizer_config.json that the Hub copies into model info's `config.tokenizer_config`.
_TOKENIZER_CONFIG_INFO_KEYS = ("bos_token", "eos_token", "pad_token", "unk_token", "chat_template")


# --------------------------------------------------------------------------------------------------- git objects


def git_blob_sha1(data: bytes) -> str:
    """The git object id of a blob: what the Hub sends as `ETag` for a regular (non-LFS) file."""
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def git_tree_sha1(files: Mapping[str, bytes]) -> str:
    """The git object id of the tree holding `files` (paths with `/`); what the tree API reports for folders."""
    return _tree_oids(files)[""]


def _tree_oids(files: Mapping[str, bytes]) -> dict[str, str]:
    """Git tree ids of every folder of `files`, keyed by folder path ("" is the root)."""
    root: dict[str, Any] = {}
    for path, data in files.items():
        *folders, name = path.split("/")
        node = root
        for folder in folders:
            node = node.setdefault(folder, {})
        node[name] = data

    oids: dict[str, str] = {}

    def visit(node: dict[str, Any], prefix: str) -> str:
        entries = []
        for name, child in node.items():
            if isinstance(child, dict):
                child_oid = visit(child, f"{prefix}{name}/")
                entries.append((name + "/", b"40000 " + name.encode() + b"\0" + bytes.fromhex(child_oid)))
            else:
                blob_oid = git_blob_sha1(child)
                entries.append((name, b"100644 " + name.encode() + b"\0" + bytes.fromhex(blob_oid)))
        # Git orders tree entries by name, comparing a folder as if its name ended with "/".
        body = b"".join(entry for _, entry in sorted(entries, key=lambda item: item[0].encode()))
        oid = hashlib.sha1(b"tree %d\0" % len(body) + body).hexdigest()
        oids[prefix.rstrip("/")] = oid
        return oid

    visit(root, "")
    return oids


@dataclass(frozen=True)
class Commit:
    """One commit of a repo: a complete snapshot of its files (not a diff)."""

    sha: str
    parent: str | None
    title: str
    timestamp: int
    files: Mapping[str, bytes]
    blob_oids: Mapping[str, str]
    tree_oids: Mapping[str, str]

    @property
    def date(self) -> str:
        return datetime.fromtimestamp(self.timestamp, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000Z")

    @classmethod
    def create(cls, files: Mapping[str, bytes], parent: Commit | None, title: str) -> Commit:
        """Builds the commit with a real git commit id, so equal content and history give equal shas."""
        tree_oids = _tree_oids(files)
        timestamp = _EPOCH if parent is None else parent.timestamp + 60
        header = f"tree {tree_oids['']}\n" + (f"parent {parent.sha}\n" if parent else "")
        body = f"{header}author {_AUTHOR} {timestamp} +0000\ncommitter {_AUTHOR} {timestamp} +0000\n\n{title}\n"
        raw = body.encode()
        sha = hashlib.sha1(b"commit %d\0" % len(raw) + raw).hexdigest()
        blob_oids = {path: git_blob_sha1(data) for path, data in files.items()}
        return cls(sha, parent.sha if parent else None, title, timestamp, dict(files), blob_oids, tree_oids)


@dataclass
class _Repo:
    repo_id: str
    commits: dict[str, Commit] = field(default_factory=dict)
    branches: dict[str, str] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    gated: bool = False
    private_token: str | None = None
    access_tokens: frozenset[str] = frozenset()

    def resolve(self, revision: str) -> Commit | None:
        """Branch, then tag, then full commit sha: the order git uses for an ambiguous name."""
        sha = self.branches.get(revision) or self.tags.get(revision) or revision
        return self.commits.get(sha)

    def last_commit_touching(self, commit: Commit, path: str) -> Commit:
        """The newest ancestor of `commit` that changed `path` (a file or folder), like the Hub's `lastCommit`."""

        def oid(c: Commit) -> str | None:
            return c.blob_oids.get(path) or c.tree_oids.get(path)

        current = commit
        while current.parent is not None:
            parent = self.commits[current.parent]
            if oid(parent) != oid(current):
                return current
            current = parent
        return current


# --------------------------------------------------------------------------------------------------- requests


@dataclass(frozen=True)
class RecordedRequest:
    """One request the hub received, for tests that count or inspect traffic."""

    method: str
    path: str  # percent-decoded, without the query string
    query: Mapping[str, list[str]]
    headers: Mapping[str, str]  # lower-cased names
    status: int
    routed: bool  # False when no route matched: the client asked for something this fake does not serve

    @property
    def token(self) -> str | None:
        return _bearer_token(self.headers)


@dataclass
class _Response:
    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    routed: bool = True


def _bearer_token(headers: Mapping[str, str]) -> str | None:
    value = headers.get("authorization", "")
    scheme, _, token = value.partition(" ")
    return (token.strip() or None) if scheme.lower() == "bearer" else None


def _json(status: int, payload: Any, headers: Mapping[str, str] | None = None) -> _Response:
    body = json.dumps(payload, ensure_ascii=False).encode()
    return _Response(status, {"Content-Type": "application/json; charset=utf-8", **(headers or {})}, body)


def _error(
    status: int, code: str | None, message: str, *, as_json: bool = True, headers: Mapping[str, str] | None = None
) -> _Response:
    """An error like the Hub's: `X-Error-Code`/`X-Error-Message` headers, which huggingface_hub maps to classes."""
    extra = {"X-Error-Message": message, **(headers or {})}
    if code is not None:
        extra["X-Error-Code"] = code
    if as_json:
        return _json(status, {"error": message}, extra)
    return _Response(status, {"Content-Type": "text/plain; charset=utf-8", **extra}, message.encode())


def _not_routed() -> _Response:
    """What the Hub answers for a URL it has no route for; flagged so tests can spot missing endpoints."""
    return _Response(HTTPStatus.NOT_FOUND, {"Content-Type": "text/plain; charset=utf-8"}, b"Not Found", routed=False)


_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


# --------------------------------------------------------------------------------------------------- the hub


class FakeHub:
    """In-memory model repos served over HTTP, answering like the Hugging Face Hub.

    The port stays the same across `stop()`/`start()`: huggingface_hub freezes `HF_ENDPOINT` at import, so a
    restarted hub must come back where the client expects it.
    """

    default_tree_page_size = 1000  # the Hub's page size for tree listings (50 with expand=True)

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self.host = host
        self._port = port
        self._state_lock = threading.RLock()
        self._lifecycle_lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._repos: dict[str, _Repo] = {}
        self._known_tokens: set[str] = set()
        self._requests: list[RecordedRequest] = []
        self.resolve_cache_redirects = True
        self.tree_page_size = self.default_tree_page_size

    # ---- lifecycle

    @property
    def url(self) -> str:
        if self._port == 0:
            raise RuntimeError("start() the hub first: its port is chosen when it first binds")
        return f"http://{self.host}:{self._port}"

    @property
    def running(self) -> bool:
        return self._server is not None

    def start(self) -> FakeHub:
        """Binds (the same port as before, if any) and serves from a daemon thread; a no-op if running."""
        with self._lifecycle_lock:
            if self._server is not None:
                return self
            server = _HubHTTPServer((self.host, self._port), _HubRequestHandler)
            server.hub = self
            self._port = server.server_address[1]
            thread = threading.Thread(
                target=server.serve_forever, kwargs={"poll_interval": 0.05}, name=f"FakeHub:{self._port}", daemon=True
            )
            thread.start()
            self._server, self._thread = server, thread
        return self

    def stop(self) -> None:
        """Closes the listening socket: clients then get connection errors, as when the Hub is unreachable."""
        with self._lifecycle_lock:
            server, thread = self._server, self._thread
            self._server = self._thread = None
        if server is not None:
            server.shutdown()
            server.server_close()
        if thread is not None:
            thread.join()

    def __enter__(self) -> FakeHub:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def reset(self) -> None:
        """Forgets repos, tokens and recorded requests, and restores the default settings."""
        with self._state_lock:
            self._repos.clear()
            self._known_tokens.clear()
            self._requests.clear()
            self.resolve_cache_redirects = True
            self.tree_page_size = self.default_tree_page_size

    # ---- content

    def add_repo(
        self,
        repo_id: str,
        files: Mapping[str, FileContent],
        *,
        revision: str = "main",
        gated: bool = False,
        private_token: str | None = None,
        access_tokens: Iterable[str] = (),
        title: str | None = None,
    ) -> str:
        """Commits `files` (the complete tree, not a diff) on branch `revision`; returns the commit sha.

        The repo is created on first use. A new branch starts from the head of `main` (if any), so its history
        is shared like on the Hub. `gated` and `private_token` (the repo is private and only this token can read
        it) apply to the whole repo, the last call winning. `access_tokens` are users let through the gate of a
        gated repo.
        """
        if not files:
            raise ValueError("a commit needs at least one file")
        encoded = {
            path.strip("/"): data.encode() if isinstance(data, str) else bytes(data) for path, data in files.items()
        }
        with self._state_lock:
            repo = self._repos.get(repo_id) or _Repo(repo_id)
            parent_sha = repo.branches.get(revision) or repo.branches.get("main")
            parent = repo.commits[parent_sha] if parent_sha else None
            commit = Commit.create(encoded, parent, title or f"Upload {len(encoded)} files to {revision}")
            repo.commits[commit.sha] = commit
            repo.branches[revision] = commit.sha
            repo.gated = gated
            repo.private_token = private_token
            repo.access_tokens = frozenset(access_tokens)
            self._known_tokens.update(repo.access_tokens | ({private_token} if private_token else set()))
            self._repos[repo_id] = repo
            return commit.sha

    def add_tag(self, repo_id: str, tag: str, revision: str = "main") -> str:
        """Tags the commit `revision` resolves to; returns its sha."""
        with self._state_lock:
            repo = self._repos[repo_id]
            commit = repo.resolve(revision)
            if commit is None:
                raise KeyError(f"{repo_id} has no revision {revision!r}")
            repo.tags[tag] = commit.sha
            return commit.sha

    def add_token(self, token: str) -> None:
        """Registers a valid user token with no special rights (unknown tokens get 401 like on the Hub)."""
        with self._state_lock:
            self._known_tokens.add(token)

    def head(self, repo_id: str, revision: str = "main") -> str:
        """The commit sha `revision` currently points to."""
        with self._state_lock:
            commit = self._repos[repo_id].resolve(revision)
            if commit is None:
                raise KeyError(f"{repo_id} has no revision {revision!r}")
            return commit.sha

    # ---- traffic

    @property
    def requests(self) -> list[RecordedRequest]:
        with self._state_lock:
            return list(self._requests)

    def clear_requests(self) -> None:
        with self._state_lock:
            self._requests.clear()

    def count(self, method: str | None = None, path_contains: str | None = None) -> int:
        """How many requests matched; e.g. `count("GET", "/resolve")`."""
        return sum(
            1
            for r in self.requests
            if (method is None or r.method == method) and (path_contains is None or path_contains in r.path)
        )

    @property
    def unrouted(self) -> list[RecordedRequest]:
        """Requests no route matched: a sign the client needs an endpoint this fake does not implement."""
        return [r for r in self.requests if not r.routed]

    # ---- dispatch (called from server threads)

    def _handle(self, method: str, target: str, headers: Mapping[str, str]) -> _Response:
        split = urlsplit(target)
        segments = [unquote(s) for s in split.path.split("/")[1:]]
        query = parse_qs(split.query, keep_blank_values=True)
        lowered = {name.lower(): value for name, value in headers.items()}
        with self._state_lock:
            response = self._route(method, segments, split.path, query, lowered)
            response.headers.setdefault("X-Request-Id", f"Root=1-{uuid.uuid4().hex[:24]}")
            response.headers.setdefault("Access-Control-Expose-Headers", _EXPOSED_HEADERS)
            self._requests.append(
                RecordedRequest(method, unquote(split.path), query, lowered, response.status, response.routed)
            )
        return response

    def _route(
        self,
        method: str,
        segments: list[str],
        raw_path: str,
        query: Mapping[str, list[str]],
        headers: Mapping[str, str],
    ) -> _Response:
        if method not in ("GET", "HEAD"):
            return _Response(HTTPStatus.METHOD_NOT_ALLOWED, {"Allow": "GET, HEAD"}, routed=False)
        token = _bearer_token(headers)
        if token is not None and token not in self._known_tokens:
            # The Hub rejects unknown tokens before looking at the repo (no X-Error-Code).
            return _error(HTTPStatus.UNAUTHORIZED, None, "Invalid credentials in Authorization header")

        if segments[:3] == ["api", "resolve-cache", "models"] and len(segments) >= 7:
            repo_id, (sha, *path) = "/".join(segments[3:5]), segments[5:]
            return self._resolve(repo_id, sha, "/".join(path), headers, token, pinned=True)
        if segments[:2] == ["api", "models"] and len(segments) >= 3:
            repo_id, rest = self._split_repo_id(segments[2:])
            return self._api(repo_id, rest, raw_path, query, token)
        repo_id, rest = self._split_repo_id(segments)
        if len(rest) >= 3 and rest[0] == "resolve":
            return self._resolve(repo_id, rest[1], "/".join(rest[2:]), headers, token, pinned=False)
        return _not_routed()

    def _split_repo_id(self, segments: list[str]) -> tuple[str, list[str]]:
        """`namespace/name` or canonical `name`: known repos first, then the shape of the URL."""
        two, one = "/".join(segments[:2]), segments[0]
        if len(segments) >= 2 and two in self._repos:
            return two, segments[2:]
        if one in self._repos or len(segments) < 2 or segments[1] in _REPO_SUBROUTES:
            return one, segments[1:]
        return two, segments[2:]

    # ---- access control

    def _repo_or_error(self, repo_id: str, token: str | None, *, as_json: bool) -> _Repo | _Response:
        """The repo if the caller may see it; else the Hub's answer for a missing repo (401 when anonymous).

        A private repo the caller cannot read is reported exactly like a missing one, as the Hub does.
        """
        repo = self._repos.get(repo_id)
        if repo is not None and (repo.private_token is None or token == repo.private_token):
            return repo
        if token is None:
            return _error(HTTPStatus.UNAUTHORIZED, "RepoNotFound", "Invalid username or password.", as_json=as_json)
        return _error(HTTPStatus.NOT_FOUND, "RepoNotFound", "Repository not found", as_json=as_json)

    def _gate_error(self, repo: _Repo, token: str | None, *, as_json: bool) -> _Response | None:
        """Files of a gated repo need a token on its authorized list (metadata and listings stay public)."""
        allowed = repo.access_tokens | ({repo.private_token} if repo.private_token else set())
        if not repo.gated or token in allowed:
            return None
        if token is None:
            message = (
                f"Access to model {repo.repo_id} is restricted. You must have access to it and be authenticated"
                " to access it. Please log in."
            )
            return _error(HTTPStatus.UNAUTHORIZED, "GatedRepo", message, as_json=as_json)
        message = (
            f"Access to model {repo.repo_id} is restricted and you are not in the authorized list."
            f" Visit {self.url}/{repo.repo_id} to ask for access."
        )
        return _error(HTTPStatus.FORBIDDEN, "GatedRepo", message, as_json=as_json)

    @staticmethod
    def _revision_error(revision: str, *, as_json: bool) -> _Response:
        return _error(HTTPStatus.NOT_FOUND, "RevisionNotFound", f"Invalid rev id: {revision}", as_json=as_json)

    # ---- /resolve and /api/resolve-cache

    def _resolve(
        self, repo_id: str, revision: str, path: str, headers: Mapping[str, str], token: str | None, *, pinned: bool
    ) -> _Response:
        repo = self._repo_or_error(repo_id, token, as_json=False)
        if isinstance(repo, _Response):
            return repo
        if (gate := self._gate_error(repo, token, as_json=False)) is not None:
            return gate
        commit = repo.resolve(revision)
        if commit is None or (pinned and commit.sha != revision):
            return self._revision_error(revision, as_json=False)
        data = commit.files.get(path)
        if data is None:
            # X-Repo-Commit lets huggingface_hub cache the absence under `.no_exist/{commit}/`.
            return _error(
                HTTPStatus.NOT_FOUND,
                "EntryNotFound",
                "Entry not found",
                as_json=False,
                headers={"X-Repo-Commit": commit.sha},
            )

        etag = f'"{commit.blob_oids[path]}"'
        redirect = (
            not pinned
            and self.resolve_cache_redirects
            and "/" in repo_id
            and repo.private_token is None
            and not repo.gated
            and len(data) > 0
        )
        if redirect:
            origin = quote(f"/{repo_id}/resolve/{revision}/{path}", safe="")
            location = (
                f"/api/resolve-cache/models/{repo_id}/{commit.sha}/{quote(path)}?{origin}=&etag={quote(etag, safe='')}"
            )
            return _Response(
                HTTPStatus.TEMPORARY_REDIRECT,
                {"Location": location, "X-Repo-Commit": commit.sha, "Content-Type": "text/plain; charset=utf-8"},
                f"Temporary Redirect. Redirecting to {location}".encode(),
            )

        name = path.rsplit("/", 1)[-1]
        file_headers = {
            "Content-Type": _content_type(data),
            "ETag": etag,
            "X-Repo-Commit": commit.sha,
            "Accept-Ranges": "bytes",
            "Content-Disposition": f"inline; filename*=UTF-8''{quote(name)}; filename=\"{name}\";",
            "Cache-Control": "public, max-age=31536000, immutable" if pinned else "private, max-age=0",
        }
        return _ranged(data, headers.get("range"), file_headers)

    # ---- /api/models/{repo_id}/...

    def _api(
        self, repo_id: str, rest: list[str], raw_path: str, query: Mapping[str, list[str]], token: str | None
    ) -> _Response:
        repo = self._repo_or_error(repo_id, token, as_json=True)
        if isinstance(repo, _Response):
            # Checked before the route, as on the Hub: a missing repo is reported whatever was asked of it.
            return repo
        if not rest:
            return self._model_info(repo, "main", query)
        if rest[0] == "revision" and len(rest) >= 2:
            return self._model_info(repo, "/".join(rest[1:]), query)
        if rest[0] == "tree" and len(rest) >= 2:
            return self._tree(repo, rest[1], "/".join(rest[2:]).strip("/"), raw_path, query)
        if rest == ["refs"]:
            return self._refs(repo)
        return _not_routed()

    def _model_info(self, repo: _Repo, revision: str, query: Mapping[str, list[str]]) -> _Response:
        commit = repo.resolve(revision)
        if commit is None:
            return self._revision_error(revision, as_json=True)
        with_blobs = _flag(query, "blobs")
        siblings = [
            {"rfilename": path, **({"size": len(data), "blobId": commit.blob_oids[path]} if with_blobs else {})}
            for path, data in sorted(commit.files.items())
        ]
        namespace, _, _ = repo.repo_id.rpartition("/")
        info: dict[str, Any] = {
            "_id": hashlib.sha1(repo.repo_id.encode()).hexdigest()[:24],
            "id": repo.repo_id,
            "modelId": repo.repo_id,
            "author": namespace or None,
            "sha": commit.sha,
            "lastModified": commit.date,
            "createdAt": repo.commits[_root_sha(repo, commit)].date,
            "private": repo.private_token is not None,
            "gated": "auto" if repo.gated else False,
            "disabled": False,
            "downloads": 0,
            "likes": 0,
            "tags": [],
            "config": _info_config(commit.files),
            "siblings": siblings,
            "spaces": [],
            "usedStorage": sum(len(data) for data in commit.files.values()),
        }
        if expand := query.get("expand"):
            # With `expand`, the Hub returns only the requested properties (plus the ids).
            info = {key: value for key, value in info.items() if key in {"_id", "id", *expand}}
        return _json(HTTPStatus.OK, info)

    def _tree(
        self, repo: _Repo, revision: str, folder: str, raw_path: str, query: Mapping[str, list[str]]
    ) -> _Response:
        commit = repo.resolve(revision)
        if commit is None:
            return self._revision_error(revision, as_json=True)
        if folder not in commit.tree_oids:
            return _error(HTTPStatus.NOT_FOUND, "EntryNotFound", f'{folder} does not exist on "{revision}"')

        recursive, expand = _flag(query, "recursive"), _flag(query, "expand")
        prefix = f"{folder}/" if folder else ""

        def listed(path: str) -> bool:
            return path.startswith(prefix) and path != folder and (recursive or "/" not in path[len(prefix) :])

        folders = [p for p in sorted(commit.tree_oids) if p and listed(p)]
        files = [p for p in sorted(commit.files) if listed(p)]
        entries: list[dict[str, Any]] = [
            {"type": "directory", "oid": commit.tree_oids[p], "size": 0, "path": p} for p in folders
        ] + [{"type": "file", "oid": commit.blob_oids[p], "size": len(commit.files[p]), "path": p} for p in files]
        if expand:
            for entry in entries:
                last = repo.last_commit_touching(commit, entry["path"])
                entry["lastCommit"] = {"id": last.sha, "title": last.title, "date": last.date}
                if entry["type"] == "file":
                    entry["securityFileStatus"] = {
                        "status": "safe",
                        "avScan": {"virusFound": False, "virusNames": None},
                        "pickleImportScan": None,
                    }

        page_size = min(self.tree_page_size, 50) if expand else self.tree_page_size
        start = int((query.get("cursor") or ["0"])[0])
        page, headers = entries[start : start + page_size], {}
        if start + page_size < len(entries):
            params = {key: values[-1] for key, values in query.items()} | {"cursor": str(start + page_size)}
            headers["Link"] = f'<{self.url}{raw_path}?{urlencode(params)}>; rel="next"'
        return _json(HTTPStatus.OK, page, headers)

    @staticmethod
    def _refs(repo: _Repo) -> _Response:
        def refs(names: Mapping[str, str], kind: str) -> list[dict[str, str]]:
            return [{"name": n, "ref": f"refs/{kind}/{n}", "targetCommit": sha} for n, sha in sorted(names.items())]

        payload = {
            "branches": refs(repo.branches, "heads"),
            "converts": [],
            "tags": refs(repo.tags, "tags"),
            "pullRequests": [],
        }
        return _json(HTTPStatus.OK, payload)


def _root_sha(repo: _Repo, commit: Commit) -> str:
    while commit.parent is not None:
        commit = repo.commits[commit.parent]
    return commit.sha


def _flag(query: Mapping[str, list[str]], name: str) -> bool:
    """Query booleans as httpx sends them ("true"/"false"), or "1"/"0"."""
    return (query.get(name) or ["false"])[-1].lower() in ("true", "1")


def _content_type(data: bytes) -> str:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return "application/octet-stream"
    return "text/plain; charset=utf-8"


def _ranged(data: bytes, range_header: str | None, headers: dict[str, str]) -> _Response:
    """200 with the whole file, or 206/416 for a single `bytes=` range (huggingface_hub resumes with one)."""
    match = _RANGE.match(range_header.strip()) if range_header else None
    if match is None or match.groups() == ("", ""):
        return _Response(HTTPStatus.OK, headers, data)
    first, last = match.groups()
    size = len(data)
    if first:
        start, end = int(first), min(int(last), size - 1) if last else size - 1
    else:
        start, end = max(size - int(last), 0), size - 1
    if start >= size or start > end:
        return _Response(HTTPStatus.REQUESTED_RANGE_NOT_SATISFIABLE, {**headers, "Content-Range": f"bytes */{size}"})
    return _Response(
        HTTPStatus.PARTIAL_CONTENT, {**headers, "Content-Range": f"bytes {start}-{end}/{size}"}, data[start : end + 1]
    )


def _info_config(files: Mapping[str, bytes]) -> dict[str, Any]:
    """The subset of config.json and tokenizer_config.json that the Hub exposes in model info."""
    config: dict[str, Any] = {}
    try:
        model_config = json.loads(files["config.json"])
        config.update({k: model_config[k] for k in ("architectures", "model_type") if k in model_config})
    except (KeyError, ValueError):
        pass
    try:
        tokenizer_config = json.loads(files["tokenizer_config.json"])
        config["tokenizer_config"] = {
            key: tokenizer_config[key] for key in _TOKENIZER_CONFIG_INFO_KEYS if key in tokenizer_config
        }
    except (KeyError, ValueError):
        pass
    return config


# --------------------------------------------------------------------------------------------------- HTTP plumbing


class _HubHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    hub: FakeHub


class _HubRequestHandler(BaseHTTPRequestHandler):
    """Answers each request from `FakeHub._handle`, then closes the connection.

    Closing after every response means `FakeHub.stop()` really cuts clients off: a kept-alive connection would
    otherwise outlive the listening socket, and a stopped hub would keep answering.
    """

    protocol_version = "HTTP/1.1"
    server_version = "FakeHub/1.0"
    server: _HubHTTPServer

    def do_GET(self) -> None:
        self._answer(send_body=True)

    def do_HEAD(self) -> None:
        self._answer(send_body=False)

    def do_POST(self) -> None:
        self._answer(send_body=True)

    do_PUT = do_PATCH = do_DELETE = do_POST

    def _answer(self, *, send_body: bool) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)  # drain the body so the client sees our answer, not a reset
        response = self.server.hub._handle(self.command, self.path, dict(self.headers.items()))
        self.send_response(response.status)
        for name, value in response.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(response.body)))
        self.send_header("Connection", "close")
        self.end_headers()
        if send_body:
            self.wfile.write(response.body)
        self.close_connection = True

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - signature of the base class
        """Silent: requests are recorded on the hub instead of printed to stderr."""


# --------------------------------------------------------------------------------------------------- tokenizers

DEFAULT_SPECIAL_TOKENS = ("<s>", "</s>", "<|im_start|>", "<|im_end|>")
DEFAULT_WORDS = ("system", "user", "assistant", "Hello", "Hi", "there", "!", "?", ".", ",", "How", "are", "you")


def make_tokenizer_files(
    chat_template: str | None = None,
    *,
    special_tokens: Sequence[str] = DEFAULT_SPECIAL_TOKENS,
    bos_token: str | None = "<s>",
    eos_token: str | None = "</s>",
    unk_token: str = "<unk>",
    words: Sequence[str] = DEFAULT_WORDS,
    template_file: bool = False,
    additional_templates: Mapping[str, str] | None = None,
    extra_config: Mapping[str, Any] | None = None,
) -> dict[str, bytes]:
    """The files of a small but real tokenizer repo, loadable with `AutoTokenizer.from_pretrained`.

    `tokenizer.json` is built with the `tokenizers` library: a WordLevel model over `words`, split on whitespace
    and punctuation, with `unk_token` and `special_tokens` as special added tokens. `tokenizer_config.json` names
    `PreTrainedTokenizerFast` so transformers needs no config.json. The chat template goes in
    `tokenizer_config.json` (`chat_template`), or in `chat_template.jinja` with `template_file=True`;
    `additional_templates` become `additional_chat_templates/{name}.jinja`. `extra_config` is merged last into
    `tokenizer_config.json`, so it can override anything.
    """
    from tokenizers import AddedToken, Tokenizer
    from tokenizers.models import WordLevel
    from tokenizers.pre_tokenizers import Whitespace

    specials = list(dict.fromkeys([unk_token, *special_tokens]))
    for token in (bos_token, eos_token):
        if token is not None and token not in specials:
            specials.append(token)
    vocab = {token: index for index, token in enumerate(dict.fromkeys([*specials, *words]))}
    tokenizer = Tokenizer(WordLevel(vocab, unk_token=unk_token))
    tokenizer.pre_tokenizer = Whitespace()
    tokenizer.add_special_tokens([AddedToken(token, special=True, normalized=False) for token in specials])

    config: dict[str, Any] = {
        "tokenizer_class": "PreTrainedTokenizerFast",
        "bos_token": bos_token,
        "eos_token": eos_token,
        "unk_token": unk_token,
        "clean_up_tokenization_spaces": False,
        "model_max_length": 4096,
    }
    if chat_template is not None and not template_file:
        config["chat_template"] = chat_template
    config.update(extra_config or {})

    files = {
        "tokenizer.json": tokenizer.to_str(pretty=True).encode(),
        "tokenizer_config.json": json.dumps(config, ensure_ascii=False, indent=2).encode(),
    }
    if chat_template is not None and template_file:
        files["chat_template.jinja"] = chat_template.encode()
    for name, template in (additional_templates or {}).items():
        files[f"additional_chat_templates/{name}.jinja"] = template.encode()
    return files
