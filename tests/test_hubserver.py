"""The fake Hub is faithful enough: huggingface_hub and transformers, unpatched, download, cache, list and fail
against it as they do against huggingface.co."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from hub_fixtures import run_offline
from hubserver import FakeHub, git_blob_sha1, git_tree_sha1, make_tokenizer_files
from huggingface_hub import (
    get_hf_file_metadata,
    hf_hub_download,
    hf_hub_url,
    list_repo_refs,
    list_repo_tree,
    model_info,
)
from huggingface_hub.errors import (
    EntryNotFoundError,
    GatedRepoError,
    HfHubHTTPError,
    LocalEntryNotFoundError,
    RemoteEntryNotFoundError,
    RepositoryNotFoundError,
    RevisionNotFoundError,
)

CHATML = (
    "{{ bos_token }}"
    "{% for message in messages %}<|im_start|>{{ message['role'] }}\n{{ message['content'] }}<|im_end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)
CONVERSATION = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hello"}]
CHATML_RENDERED = (
    "<s><|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHello<|im_end|>\n<|im_start|>assistant\n"
)


def read(path: str | Path) -> str:
    return Path(path).read_text(encoding="utf-8")


def calls(hub: FakeHub) -> list[tuple[str, str, int]]:
    return [(r.method, r.path, r.status) for r in hub.requests]


# ------------------------------------------------------------------------------------------------- git ids


def test_object_ids_are_git_ids() -> None:
    assert git_blob_sha1(b"") == "e69de29bb2d1d6434b8b29ae775ad8c2e48c5391"
    assert git_blob_sha1(b"hello\n") == "ce013625030ba8dba906f756967f9e9ca394464a"
    assert git_tree_sha1({}) == "4b825dc642cb6eb9a060e54bf8d69288fbee4904"


@pytest.mark.skipif(shutil.which("git") is None, reason="needs the git executable")
def test_commit_and_tree_ids_match_git(fake_hub: FakeHub, tmp_path: Path) -> None:
    files = {"b.txt": "b\n", "a/x.json": "{}", "a-b.txt": "dash sorts before the folder a/", "a/y/z": "deep"}
    sha = fake_hub.add_repo("org/git", files, title="first")

    def git(*args: str, **env: str) -> str:
        run_env = {**os.environ, "GIT_CONFIG_NOSYSTEM": "1", "HOME": str(tmp_path), **env}
        result = subprocess.run(
            ["git", *args], cwd=tmp_path / "repo", env=run_env, check=True, capture_output=True, text=True
        )
        return result.stdout.strip()

    for path, text in files.items():
        (tmp_path / "repo" / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / "repo" / path).write_text(text)
    git("init", "-q")
    git("add", "-A")
    tree = git("write-tree")
    stamp = "1700000000 +0000"
    identity = {
        "GIT_AUTHOR_NAME": "Fake Hub",
        "GIT_AUTHOR_EMAIL": "fake-hub@example.invalid",
        "GIT_COMMITTER_NAME": "Fake Hub",
        "GIT_COMMITTER_EMAIL": "fake-hub@example.invalid",
        "GIT_AUTHOR_DATE": stamp,
        "GIT_COMMITTER_DATE": stamp,
    }
    assert git_tree_sha1({p: t.encode() for p, t in files.items()}) == tree
    assert git("commit-tree", tree, "-m", "first", **identity) == sha


# ------------------------------------------------------------------------------------------------- downloads


def test_download_follows_the_redirect_to_resolve_cache_like_the_hub(fake_hub: FakeHub, hub_cache: Path) -> None:
    sha = fake_hub.add_repo("org/model", {"config.json": '{"model_type": "llama"}'})

    path = hf_hub_download("org/model", "config.json")

    assert read(path) == '{"model_type": "llama"}'
    assert Path(path) == hub_cache / "models--org--model" / "snapshots" / sha / "config.json"
    blob = Path(path).resolve()
    assert blob.parent.name == "blobs" and blob.name == git_blob_sha1(b'{"model_type": "llama"}')
    assert (hub_cache / "models--org--model" / "refs" / "main").read_text() == sha
    pinned = f"/api/resolve-cache/models/org/model/{sha}/config.json"
    assert calls(fake_hub) == [
        ("HEAD", "/org/model/resolve/main/config.json", 307),
        ("HEAD", pinned, 200),
        ("GET", pinned, 200),  # the download goes straight to the commit-pinned URL
    ]


def test_file_metadata_is_what_the_hub_sends_for_git_files(fake_hub: FakeHub) -> None:
    sha = fake_hub.add_repo("org/model", {"dir/notes.txt": "hello\n"})

    meta = get_hf_file_metadata(hf_hub_url("org/model", "dir/notes.txt"))

    assert meta.commit_hash == sha
    assert meta.etag == "ce013625030ba8dba906f756967f9e9ca394464a"  # git blob sha1, quotes stripped
    assert meta.size == 6
    assert meta.location.startswith(f"{fake_hub.url}/api/resolve-cache/models/org/model/{sha}/dir/notes.txt?")


@pytest.mark.parametrize(
    ("repo_id", "files", "options", "token"),
    [
        pytest.param("canonical", {"f.txt": "x"}, {}, None, id="canonical-repo"),
        pytest.param("org/empty-file", {"f.txt": ""}, {}, None, id="empty-file"),
        pytest.param("org/private", {"f.txt": "x"}, {"private_token": "hf_owner"}, "hf_owner", id="private"),
        pytest.param("org/gated", {"f.txt": "x"}, {"gated": True, "access_tokens": ["hf_ok"]}, "hf_ok", id="gated"),
    ],
)
def test_some_repos_are_served_without_redirect(fake_hub, repo_id, files, options, token) -> None:
    sha = fake_hub.add_repo(repo_id, files, **options)

    path = hf_hub_download(repo_id, "f.txt", token=token)

    assert read(path) == files["f.txt"]
    expected = [("HEAD", f"/{repo_id}/resolve/main/f.txt", 200), ("GET", f"/{repo_id}/resolve/main/f.txt", 200)]
    if not files["f.txt"]:
        expected.pop()  # huggingface_hub skips the GET when the HEAD announced 0 bytes
    assert calls(fake_hub) == expected
    assert all(r.token == token for r in fake_hub.requests)
    assert sha in path


def test_range_requests_are_honoured(fake_hub: FakeHub) -> None:
    fake_hub.add_repo("canonical", {"f.bin": b"0123456789"})
    url = f"{fake_hub.url}/canonical/resolve/main/f.bin"

    def get(range_header: str) -> tuple[int, bytes, str | None]:
        request = urllib.request.Request(url, headers={"Range": range_header})
        try:
            with urllib.request.urlopen(request) as response:
                return response.status, response.read(), response.headers["Content-Range"]
        except urllib.error.HTTPError as error:
            with error:
                return error.code, error.read(), error.headers["Content-Range"]

    assert get("bytes=2-4") == (206, b"234", "bytes 2-4/10")
    assert get("bytes=7-") == (206, b"789", "bytes 7-9/10")
    assert get("bytes=-2") == (206, b"89", "bytes 8-9/10")
    assert get("bytes=10-") == (416, b"", "bytes */10")


def test_cached_files_are_reused_when_the_hub_is_down(fake_hub: FakeHub) -> None:
    fake_hub.add_repo("org/model", {"a.txt": "A", "b.txt": "B"})
    first = hf_hub_download("org/model", "a.txt")

    fake_hub.stop()

    assert hf_hub_download("org/model", "a.txt") == first  # HEAD fails to connect => falls back to refs/main
    assert hf_hub_download("org/model", "a.txt", local_files_only=True) == first
    with pytest.raises(LocalEntryNotFoundError):
        # never downloaded (without local_files_only, huggingface_hub would first retry for ~23 s)
        hf_hub_download("org/model", "b.txt", local_files_only=True)


def test_missing_files_are_remembered_per_commit(fake_hub: FakeHub, hub_cache: Path) -> None:
    sha = fake_hub.add_repo("org/model", {"a.txt": "A"})

    with pytest.raises(RemoteEntryNotFoundError):
        hf_hub_download("org/model", "missing.json")

    # The 404 carries X-Repo-Commit, which huggingface_hub (and transformers after it) uses to skip the HEAD.
    assert (hub_cache / "models--org--model" / ".no_exist" / sha / "missing.json").is_file()


# ------------------------------------------------------------------------------------------------- revisions


def test_revisions_pin_branches_tags_and_commits(fake_hub: FakeHub) -> None:
    v1 = fake_hub.add_repo("org/model", {"version.txt": "1"})
    dev = fake_hub.add_repo("org/model", {"version.txt": "dev"}, revision="dev")
    v2 = fake_hub.add_repo("org/model", {"version.txt": "2"})
    pr = fake_hub.add_repo("org/model", {"version.txt": "pr"}, revision="refs/pr/1")
    fake_hub.add_tag("org/model", "v1.0", v1)

    def version(revision: str | None) -> str:
        return read(hf_hub_download("org/model", "version.txt", revision=revision))

    assert len({v1, dev, v2, pr}) == 4
    assert [version(r) for r in (None, "main", "dev", "refs/pr/1", "v1.0", v1, v2, dev)] == [
        "2",
        "2",
        "dev",
        "pr",
        "1",
        "1",
        "2",
        "dev",
    ]
    assert model_info("org/model").sha == v2
    assert model_info("org/model", revision="dev").sha == dev
    assert model_info("org/model", revision=v1).sha == v1
    refs = list_repo_refs("org/model")
    assert {(b.name, b.target_commit) for b in refs.branches} == {("main", v2), ("dev", dev), ("refs/pr/1", pr)}
    assert [(t.name, t.target_commit) for t in refs.tags] == [("v1.0", v1)]


def test_a_commit_sha_download_is_served_from_cache_without_requests(fake_hub: FakeHub) -> None:
    sha = fake_hub.add_repo("org/model", {"a.txt": "A"})
    hf_hub_download("org/model", "a.txt", revision=sha)
    fake_hub.clear_requests()

    hf_hub_download("org/model", "a.txt", revision=sha)

    assert fake_hub.requests == []


# ------------------------------------------------------------------------------------------------- tree and info


def test_list_repo_tree_of_additional_chat_templates(fake_hub: FakeHub) -> None:
    files = make_tokenizer_files(CHATML, additional_templates={"tool_use": "T", "rag": "R"})
    fake_hub.add_repo("org/chat", {**files, "additional_chat_templates/nested/deep.jinja": "D"})

    entries = list(list_repo_tree("org/chat", path_in_repo="additional_chat_templates"))

    assert [(type(e).__name__, e.path) for e in entries] == [
        ("RepoFolder", "additional_chat_templates/nested"),
        ("RepoFile", "additional_chat_templates/rag.jinja"),
        ("RepoFile", "additional_chat_templates/tool_use.jinja"),
    ]
    assert entries[1].size == 1 and entries[1].blob_id == git_blob_sha1(b"R")
    # The client quotes the folder as one path segment (`additional_chat_templates%2Fnested`).
    assert [e.path for e in list_repo_tree("org/chat", "additional_chat_templates/nested")] == [
        "additional_chat_templates/nested/deep.jinja"
    ]


def test_list_repo_tree_recursive_and_not(fake_hub: FakeHub) -> None:
    fake_hub.add_repo("org/model", {"a.txt": "a", "d/b.txt": "b", "d/e/c.txt": "c"})

    top = {e.path for e in list_repo_tree("org/model")}
    everything = {e.path for e in list_repo_tree("org/model", recursive=True)}
    below_d = {e.path for e in list_repo_tree("org/model", "d", recursive=True)}

    assert top == {"a.txt", "d"}
    assert everything == {"a.txt", "d", "d/b.txt", "d/e", "d/e/c.txt"}
    assert below_d == {"d/b.txt", "d/e", "d/e/c.txt"}


def test_list_repo_tree_follows_pagination(fake_hub: FakeHub) -> None:
    fake_hub.tree_page_size = 2
    fake_hub.add_repo("org/model", {f"f{i}.txt": str(i) for i in range(5)})

    paths = [e.path for e in list_repo_tree("org/model", recursive=True)]

    assert paths == [f"f{i}.txt" for i in range(5)]
    assert fake_hub.count("GET", "/tree/") == 3


def test_list_repo_tree_expand_reports_the_last_commit_per_path(fake_hub: FakeHub) -> None:
    first = fake_hub.add_repo("org/model", {"stable.txt": "s", "moving.txt": "1"}, title="first")
    second = fake_hub.add_repo("org/model", {"stable.txt": "s", "moving.txt": "2"}, title="second")

    entries = {e.path: e for e in list_repo_tree("org/model", expand=True)}

    assert entries["stable.txt"].last_commit.oid == first
    assert entries["moving.txt"].last_commit.oid == second
    assert entries["moving.txt"].last_commit.title == "second"
    assert entries["moving.txt"].security.safe


def test_model_info(fake_hub: FakeHub) -> None:
    sha = fake_hub.add_repo("org/chat", {**make_tokenizer_files(CHATML), "config.json": '{"model_type": "llama"}'})

    info = model_info("org/chat", files_metadata=True)

    assert (info.id, info.author, info.sha, info.private, info.gated) == ("org/chat", "org", sha, False, False)
    assert sorted(s.rfilename for s in info.siblings) == ["config.json", "tokenizer.json", "tokenizer_config.json"]
    assert all(s.size and s.blob_id for s in info.siblings)
    assert info.config == {
        "model_type": "llama",
        "tokenizer_config": {"bos_token": "<s>", "eos_token": "</s>", "unk_token": "<unk>", "chat_template": CHATML},
    }
    assert model_info("org/chat", expand=["sha"]).siblings is None


# ------------------------------------------------------------------------------------------------- errors


def test_unknown_repo(fake_hub: FakeHub) -> None:
    fake_hub.add_token("hf_someone")

    for call in (
        lambda **kw: hf_hub_download("org/nope", "a.txt", **kw),
        lambda **kw: model_info("org/nope", **kw),
        lambda **kw: list(list_repo_tree("org/nope", **kw)),
        lambda **kw: hf_hub_download("nope", "a.txt", **kw),
    ):
        with pytest.raises(RepositoryNotFoundError) as anonymous:
            call()
        with pytest.raises(RepositoryNotFoundError) as authenticated:
            call(token="hf_someone")
        # Anonymous callers get 401 (a private repo must look missing), authenticated ones 404.
        assert type(anonymous.value) is RepositoryNotFoundError and anonymous.value.response.status_code == 401
        assert type(authenticated.value) is RepositoryNotFoundError and authenticated.value.response.status_code == 404


def test_private_repo_looks_missing_without_its_token(fake_hub: FakeHub) -> None:
    fake_hub.add_repo("org/private", {"a.txt": "A"}, private_token="hf_owner")
    fake_hub.add_token("hf_someone")

    with pytest.raises(RepositoryNotFoundError):
        hf_hub_download("org/private", "a.txt")
    with pytest.raises(RepositoryNotFoundError):
        model_info("org/private", token="hf_someone")
    assert read(hf_hub_download("org/private", "a.txt", token="hf_owner")) == "A"
    assert model_info("org/private", token="hf_owner").private is True


def test_unknown_revision(fake_hub: FakeHub) -> None:
    fake_hub.add_repo("org/model", {"a.txt": "A"})

    with pytest.raises(RevisionNotFoundError) as error:
        hf_hub_download("org/model", "a.txt", revision="nope")
    assert error.value.response.status_code == 404
    with pytest.raises(RevisionNotFoundError):
        hf_hub_download("org/model", "a.txt", revision="0" * 40)
    with pytest.raises(RevisionNotFoundError):
        model_info("org/model", revision="nope")
    with pytest.raises(RevisionNotFoundError):
        list(list_repo_tree("org/model", revision="nope"))


def test_missing_entry(fake_hub: FakeHub) -> None:
    fake_hub.add_repo("org/model", {"a.txt": "A", "d/b.txt": "B"})

    with pytest.raises(EntryNotFoundError) as error:
        hf_hub_download("org/model", "nope.txt")
    assert isinstance(error.value, RemoteEntryNotFoundError) and error.value.response.status_code == 404
    with pytest.raises(RemoteEntryNotFoundError):
        list(list_repo_tree("org/model", "additional_chat_templates"))
    with pytest.raises(RemoteEntryNotFoundError):
        list(list_repo_tree("org/model", "a.txt"))  # a file is not a folder


def test_gated_repo(fake_hub: FakeHub) -> None:
    fake_hub.add_repo("org/gated", {"a.txt": "A"}, gated=True, access_tokens=["hf_granted"])
    fake_hub.add_token("hf_waiting")

    with pytest.raises(GatedRepoError) as anonymous:
        hf_hub_download("org/gated", "a.txt")
    with pytest.raises(GatedRepoError) as not_granted:
        hf_hub_download("org/gated", "a.txt", token="hf_waiting")

    assert anonymous.value.response.status_code == 401
    assert not_granted.value.response.status_code == 403
    assert "not in the authorized list" in str(not_granted.value)
    assert read(hf_hub_download("org/gated", "a.txt", token="hf_granted")) == "A"
    # As on the Hub, what a gated repo holds is public; only its files are behind the gate.
    assert model_info("org/gated").gated == "auto"
    assert [e.path for e in list_repo_tree("org/gated")] == ["a.txt"]


def test_unknown_token_is_rejected_as_bad_credentials(fake_hub: FakeHub) -> None:
    fake_hub.add_repo("org/model", {"a.txt": "A"})

    with pytest.raises(HfHubHTTPError) as error:
        model_info("org/model", token="hf_forged")

    assert not isinstance(error.value, RepositoryNotFoundError)
    assert error.value.response.status_code == 401
    assert error.value.server_message == "Invalid credentials in Authorization header"


# ------------------------------------------------------------------------------------------------- transformers


def test_auto_tokenizer_loads_and_applies_the_chat_template(fake_hub: FakeHub) -> None:
    from transformers import AutoTokenizer

    sha = fake_hub.add_repo("org/chat", make_tokenizer_files(CHATML))

    tok = AutoTokenizer.from_pretrained("org/chat")

    assert tok.apply_chat_template(CONVERSATION, tokenize=False, add_generation_prompt=True) == CHATML_RENDERED
    assert (tok.bos_token, tok.eos_token) == ("<s>", "</s>")
    ids = tok("<|im_start|>user Hello<|im_end|>", add_special_tokens=False)["input_ids"]
    assert tok.convert_ids_to_tokens(ids) == ["<|im_start|>", "user", "Hello", "<|im_end|>"]
    assert fake_hub.unrouted == []
    # transformers pins the load to one commit, then probes its optional files by HEAD at that commit.
    assert fake_hub.requests[0].path == "/api/models/org/chat"
    assert f"/org/chat/resolve/{sha}/chat_template.jinja" in {r.path for r in fake_hub.requests}


def test_auto_tokenizer_reads_chat_template_jinja_and_additional_templates(fake_hub: FakeHub) -> None:
    from transformers import AutoTokenizer

    files = make_tokenizer_files(
        CHATML, template_file=True, additional_templates={"shout": "{{ messages[0]['content'] | upper }}"}
    )
    assert "chat_template" not in json.loads(files["tokenizer_config.json"])
    fake_hub.add_repo("org/chat", files)

    tok = AutoTokenizer.from_pretrained("org/chat")

    assert tok.apply_chat_template(CONVERSATION, tokenize=False, add_generation_prompt=True) == CHATML_RENDERED
    assert tok.apply_chat_template(CONVERSATION, tokenize=False, chat_template="shout") == "BE BRIEF."


def test_auto_tokenizer_honours_revision(fake_hub: FakeHub) -> None:
    from transformers import AutoTokenizer

    fake_hub.add_repo("org/chat", make_tokenizer_files(CHATML))
    fake_hub.add_repo("org/chat", make_tokenizer_files("{{ 'dev template' }}"), revision="dev")

    assert (
        AutoTokenizer.from_pretrained("org/chat", revision="dev").apply_chat_template(CONVERSATION, tokenize=False)
        == "dev template"
    )


def test_auto_tokenizer_second_load_downloads_nothing(fake_hub: FakeHub) -> None:
    from transformers import AutoTokenizer

    fake_hub.add_repo("org/chat", make_tokenizer_files(CHATML))
    AutoTokenizer.from_pretrained("org/chat")
    fake_hub.clear_requests()

    AutoTokenizer.from_pretrained("org/chat")

    # Still online: the revision is resolved again and the folders listed, but every file (and every known
    # absence) comes from the cache.
    assert fake_hub.count("GET", "/resolve") == 0
    assert fake_hub.count("HEAD") == 0


def test_auto_tokenizer_offline_mode_uses_the_cache(fake_hub: FakeHub) -> None:
    from transformers import AutoTokenizer

    fake_hub.add_repo("org/chat", make_tokenizer_files(CHATML))
    AutoTokenizer.from_pretrained("org/chat")
    fake_hub.stop()

    # In-process, only local_files_only avoids the Hub: with it merely down, transformers' tree listings are retried
    # with backoff (~23 s each).
    tok = AutoTokenizer.from_pretrained("org/chat", local_files_only=True)
    assert tok.apply_chat_template(CONVERSATION, tokenize=False, add_generation_prompt=True) == CHATML_RENDERED

    # HF_HUB_OFFLINE is read at import, so offline mode gets a process of its own; same HF_HOME, hub down.
    script = (
        "import sys\n"
        "from transformers import AutoTokenizer\n"
        "tok = AutoTokenizer.from_pretrained('org/chat')\n"
        f"sys.stdout.write(tok.apply_chat_template({CONVERSATION!r}, tokenize=False, add_generation_prompt=True))\n"
    )
    result = run_offline(script)

    assert result.returncode == 0, result.stderr
    assert result.stdout == CHATML_RENDERED
