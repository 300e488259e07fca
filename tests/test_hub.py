"""Hub repos, served by a real HTTP server on 127.0.0.1 (hub_fixtures.FakeHub), loaded by chatfmt and by
`transformers.AutoTokenizer.from_pretrained` from the same server: the same text for every layout.
"""

from __future__ import annotations

import hashlib
import io
import json
import warnings

import pytest
import transformers
from conftest import load_context, load_template_source
from hub_fixtures import run_offline
from hubserver import make_tokenizer_files

import chatfmt
from chatfmt.cli import main
from chatfmt.registry.hub import HubTemplateWarning

CONTEXTS = ["multi_turn", "system_user", "tool_calls", "assistant_last", "reasoning", "unicode", "consecutive_user"]
CALL_KEYS = ("messages", "tools", "documents", "add_generation_prompt")


def both(repo: str, context: str, **overrides):
    """chatfmt's and transformers' outcome for one corpus context rendered from Hub repo `repo`."""
    ctx = load_context(context)
    kwargs = {key: value for key, value in ctx.items() if key not in (*CALL_KEYS, "bos_token", "eos_token")}
    kwargs.update(tools=ctx.get("tools"), add_generation_prompt=ctx.get("add_generation_prompt", False), **overrides)
    results = []
    for render in (
        lambda: chatfmt.registry.Registry().get(repo).render(ctx["messages"], **kwargs),  # fetched afresh
        lambda: transformers.AutoTokenizer.from_pretrained(repo).apply_chat_template(
            ctx["messages"], tokenize=False, **kwargs
        ),
    ):
        try:
            results.append(render())
        except Exception as exc:  # the outcome being compared
            results.append(exc)
    return results


def assert_parity(repo: str, contexts=CONTEXTS, **overrides):
    for context in contexts:
        ours, theirs = both(repo, context, **overrides)
        if isinstance(theirs, Exception):
            assert isinstance(ours, Exception) and str(ours) == str(theirs), (context, ours, theirs)
        else:
            assert ours == theirs, context


LAYOUT_TEMPLATES = [
    "Qwen--Qwen2.5-7B-Instruct",
    "meta-llama--Llama-3.1-8B-Instruct",
    "google--gemma-2-2b-it",
    "HuggingFaceTB--SmolLM3-3B",
    "mistralai--Mistral-7B-Instruct-v0.3",
]


@pytest.mark.parametrize("name", LAYOUT_TEMPLATES)
@pytest.mark.parametrize("template_file", [False, True], ids=["tokenizer_config", "chat_template.jinja"])
def test_single_template_layouts_match_transformers(fake_hub, fixed_clocks, name, template_file):
    source = load_template_source(name)
    repo = f"org/{name.replace('--', '_')}-{'file' if template_file else 'config'}"
    fake_hub.add_repo(repo, make_tokenizer_files(source, template_file=template_file))
    assert_parity(repo)


def test_jinja_file_wins_over_config_with_a_warning(fake_hub):
    files = make_tokenizer_files("CONFIG {{ messages[0].content }}")
    files["chat_template.jinja"] = b"JINJA {{ messages[0].content }}\n"
    fake_hub.add_repo("org/both", files)
    with pytest.warns(HubTemplateWarning, match="differs"):
        template = chatfmt.load_from_hub("org/both")
    assert template.render([{"role": "user", "content": "x"}]) == "JINJA x"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", HubTemplateWarning)
        assert_parity("org/both", ["system_user"])


NAMED = {
    "default": "D {{ messages | length }}",
    "tool_use": "T {{ tools | length }}",
    "rag": "R {{ documents | tojson }}",
}


def test_named_templates_in_tokenizer_config_list(fake_hub):
    config = {"chat_template": [{"name": name, "template": text} for name, text in NAMED.items()]}
    fake_hub.add_repo("org/named", make_tokenizer_files(None, extra_config=config))
    template = chatfmt.load_from_hub("org/named")
    assert dict(template.source) == NAMED
    assert_parity("org/named", ["system_user", "tools_list"])
    assert_parity("org/named", ["system_user"], chat_template="rag", documents=[{"title": "t", "text": "x"}])


def test_additional_chat_templates_directory(fake_hub):
    files = make_tokenizer_files(
        NAMED["default"], template_file=True, additional_templates={"tool_use": NAMED["tool_use"]}
    )
    fake_hub.add_repo("org/dir", files)
    assert dict(chatfmt.load_from_hub("org/dir").source) == {"default": NAMED["default"], "tool_use": NAMED["tool_use"]}
    assert_parity("org/dir", ["system_user", "tools_list"])


def test_additional_templates_without_main_file_drop_the_config_template(fake_hub):
    files = make_tokenizer_files("CONFIG", additional_templates={"tool_use": NAMED["tool_use"]})
    fake_hub.add_repo("org/tool-only", files)
    with pytest.warns(HubTemplateWarning, match="differs"):  # the config's template is silently dropped by transformers
        assert dict(chatfmt.load_from_hub("org/tool-only").source) == {"tool_use": NAMED["tool_use"]}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", HubTemplateWarning)
        assert_parity("org/tool-only", ["system_user", "tools_list"])  # without tools both raise: no default


SPECIAL_SOURCE = (
    "{{ bos_token }}|{{ eos_token }}|{{ pad_token }}|{{ unk_token }}|{{ image_token }}|{{ boi_token }}|"
    "{{ bos_token is defined }}{% for m in messages %}{{ m.content }}{% endfor %}"
)


@pytest.mark.parametrize(
    ("case", "config", "extra_files"),
    [
        (
            "added-token-dicts",
            {
                "bos_token": {
                    "__type": "AddedToken",
                    "content": "<s>",
                    "lstrip": False,
                    "normalized": False,
                    "rstrip": False,
                    "single_word": False,
                    "special": True,
                }
            },
            {},
        ),
        ("null-bos", {"bos_token": None}, {}),
        ("empty-eos", {"eos_token": ""}, {}),
        ("model-specific", {"image_token": "<img>", "extra_special_tokens": {"boi_token": "<boi>"}}, {}),
        (
            "qwen-class-defaults",
            {"tokenizer_class": "Qwen2Tokenizer", "bos_token": None, "eos_token": "<|im_end|>"},
            {},
        ),
        (
            "legacy-map",
            {},
            {"special_tokens_map.json": json.dumps({"eos_token": {"content": "</s>"}, "pad_token": "<unk>"})},
        ),
    ],
)
def test_special_tokens_match_transformers(fake_hub, case, config, extra_files):
    files = make_tokenizer_files(SPECIAL_SOURCE, extra_config=config)
    files.update({name: text.encode() for name, text in extra_files.items()})
    fake_hub.add_repo(f"org/{case}", files)
    assert_parity(f"org/{case}", ["system_user"])


def test_processor_templates_when_the_tokenizer_has_none(fake_hub):
    fake_hub.add_repo(
        "org/proc",
        {
            **make_tokenizer_files(None),
            "processor_config.json": json.dumps({"chat_template": "P"}),
            "chat_template.json": json.dumps({"chat_template": "LEGACY"}),
        },
    )
    assert chatfmt.load_from_hub("org/proc").source == "P"
    fake_hub.add_repo(
        "org/legacy", {**make_tokenizer_files(None), "chat_template.json": json.dumps({"chat_template": "LEGACY"})}
    )
    assert chatfmt.load_from_hub("org/legacy").source == "LEGACY"
    conflicting = {**make_tokenizer_files(None), "chat_template.json": json.dumps({"chat_template": "L"})}
    fake_hub.add_repo(
        "org/conflict", {**conflicting, "processor_config.json": "{}", "additional_chat_templates/x.jinja": "X"}
    )
    # the tokenizer has a template here (the .jinja directory), so the processor rules never run
    assert dict(chatfmt.load_from_hub("org/conflict").source) == {"x": "X"}


def test_provenance_and_revision_pinning(fake_hub):
    first = fake_hub.add_repo("org/pinned", make_tokenizer_files("v1 {{ messages[0].content }}", template_file=True))
    fake_hub.add_tag("org/pinned", "v1")
    second = fake_hub.add_repo("org/pinned", make_tokenizer_files("v2 {{ messages[0].content }}", template_file=True))
    chat = [{"role": "user", "content": "x"}]
    latest = chatfmt.load_from_hub("org/pinned")
    assert latest.render(chat) == "v2 x"
    details = latest.origin.details
    assert latest.origin.kind == "hub" and details["commit"] == second and details["file"] == "chat_template.jinja"
    assert details["sha256"] == hashlib.sha256(latest.source.encode()).hexdigest()
    for revision in ("v1", first):
        pinned = chatfmt.load_from_hub("org/pinned", revision=revision)
        assert pinned.render(chat) == "v1 x" and pinned.origin.details["commit"] == first
        assert pinned.origin.details["revision"] == revision


def test_a_repo_fetched_once_renders_offline(fake_hub):
    fake_hub.add_repo(
        "org/cached", make_tokenizer_files(load_template_source("Qwen--Qwen2.5-7B-Instruct"), template_file=True)
    )
    online = chatfmt.load_from_hub("org/cached").render(load_context("multi_turn")["messages"])
    fake_hub.stop()
    offline = chatfmt.load_from_hub("org/cached")
    assert offline.render(load_context("multi_turn")["messages"]) == online
    with pytest.raises(chatfmt.HubError, match="not in the local cache.*chatfmt pull"):
        chatfmt.load_from_hub("org/never-fetched")


def test_hf_hub_offline_mode_renders_from_the_cache(fake_hub):
    fake_hub.add_repo(
        "org/offline", make_tokenizer_files(load_template_source("google--gemma-2-2b-it"), template_file=True)
    )
    chat = [{"role": "user", "content": "hi"}]
    expected = chatfmt.load_from_hub("org/offline").render(chat, add_generation_prompt=True)
    fake_hub.stop()
    fake_hub.clear_requests()
    # HF_HUB_OFFLINE is read when huggingface_hub is imported, so offline mode needs a process of its own.
    script = (
        "import sys, chatfmt\n"
        f"sys.stdout.write(chatfmt.get_template('org/offline').render({chat!r}, add_generation_prompt=True))\n"
    )
    result = run_offline(script)
    assert result.returncode == 0, result.stderr
    assert result.stdout == expected
    assert fake_hub.requests == []
    script = "import chatfmt\nchatfmt.get_template('org/uncached')\n"
    result = run_offline(script)
    assert result.returncode != 0 and "HubUnreachable" in result.stderr and "chatfmt pull org/uncached" in result.stderr


def test_error_messages_name_the_repo_and_what_to_do(fake_hub):
    with pytest.raises(chatfmt.HubError, match="'org/missing' was not found") as excinfo:
        chatfmt.load_from_hub("org/missing")
    assert excinfo.value.repo_id == "org/missing"
    fake_hub.add_repo("org/gated", make_tokenizer_files("G"), gated=True, access_tokens=["hf_ok"])
    with pytest.raises(chatfmt.HubError, match="gated.*token"):
        chatfmt.load_from_hub("org/gated")
    assert chatfmt.load_from_hub("org/gated", token="hf_ok").source == "G"
    fake_hub.add_repo("org/plain", make_tokenizer_files("P"))
    with pytest.raises(chatfmt.HubError, match="revision does not exist"):
        chatfmt.load_from_hub("org/plain", revision="nope")
    fake_hub.add_repo("org/no-template", make_tokenizer_files(None))
    with pytest.raises(chatfmt.HubError, match="has no chat template"):
        chatfmt.load_from_hub("org/no-template")
    fake_hub.add_repo("org/bad-json", {"tokenizer_config.json": "{not json"})
    with pytest.raises(chatfmt.HubError, match="tokenizer_config.json in Hub repo 'org/bad-json' is not valid JSON"):
        chatfmt.load_from_hub("org/bad-json")


def test_loads_ask_what_transformers_asks_and_reuse_the_cache_for_a_known_commit(fake_hub):
    files = make_tokenizer_files("X", template_file=True, additional_templates={"tool_use": "T"})
    commit = fake_hub.add_repo("org/requests", files)
    chatfmt.load_from_hub("org/requests")
    paths = [request.path for request in fake_hub.requests]
    assert not any("/api/models/org/requests/revision" in path for path in paths)  # no model-info call needed
    assert any(path.endswith("/tree/" + commit + "/additional_chat_templates") for path in paths)
    fake_hub.clear_requests()
    assert dict(chatfmt.load_from_hub("org/requests").source) == {"default": "X", "tool_use": "T"}
    # The branch is resolved again (it may have moved); everything at that commit comes from the cache.
    assert fake_hub.count("GET") == 0 and all("tokenizer_config.json" in r.path for r in fake_hub.requests)
    changed = fake_hub.add_repo("org/requests", make_tokenizer_files("Y", template_file=True))
    reloaded = chatfmt.load_from_hub("org/requests")
    assert reloaded.source == "Y" and reloaded.origin.details["commit"] == changed


def test_get_template_fetches_a_hub_repo_once_per_registry(fake_hub):
    fake_hub.add_repo("org/once", make_tokenizer_files("ONCE"))
    registry = chatfmt.registry.Registry()
    first = registry.get("org/once")
    fake_hub.clear_requests()
    assert registry.get("org/once") is first
    assert fake_hub.requests == []
    assert chatfmt.registry.Registry().get("org/once").source == "ONCE"  # a new registry asks again


def test_registered_names_win_over_hub_ids(fake_hub):
    fake_hub.add_repo("my/format", make_tokenizer_files("HUB"))
    assert chatfmt.get_template("my/format").source == "HUB"
    registry = chatfmt.registry.Registry()
    registry.register("my/format", chatfmt.Template.from_jinja("LOCAL"))
    assert registry.get("my/format").source == "LOCAL"


def test_cli_pull_show_and_render_a_hub_repo(fake_hub, tmp_path):
    fake_hub.add_repo(
        "org/cli", make_tokenizer_files(load_template_source("teknium--OpenHermes-2.5-Mistral-7B"), template_file=True)
    )
    out, err = io.StringIO(), io.StringIO()
    assert main(["pull", "org/cli"], stdout=out, stderr=err) == 0
    assert "org/cli" in out.getvalue() and fake_hub.head("org/cli") in out.getvalue()
    assert main(["pull", "org/absent"], stdout=out, stderr=err) == 2
    assert err.getvalue().count("\n") == 1 and "org/absent" in err.getvalue() and "not found" in err.getvalue()
    fake_hub.stop()  # everything below runs from the cache
    out = io.StringIO()
    assert main(["show", "org/cli"], stdout=out, stderr=err) == 0
    assert "origin: hub" in out.getvalue() and "sha256" in out.getvalue() and "<|im_start|>" in out.getvalue()
    chat = tmp_path / "chat.json"
    chat.write_text(json.dumps([{"role": "user", "content": "hi"}]))
    out = io.StringIO()
    assert main(["render", "org/cli", str(chat), "--add-generation-prompt"], stdout=out, stderr=err) == 0
    assert out.getvalue() == "<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n"


def test_a_hub_copy_of_a_known_format_gets_the_compiled_path(fake_hub):
    fake_hub.add_repo(
        "org/chatml-copy",
        make_tokenizer_files(
            chatfmt.get_template("chatml").source + "\n", template_file=True, extra_config={"eos_token": "<|im_end|>"}
        ),
    )
    template = chatfmt.load_from_hub("org/chatml-copy")
    chat = [{"role": "user", "content": "hi"}]
    assert template.is_compiled and template.path_for(chat) == "compiled"
    tok = transformers.AutoTokenizer.from_pretrained("org/chatml-copy")
    assert template.render(chat, add_generation_prompt=True) == tok.apply_chat_template(
        chat, tokenize=False, add_generation_prompt=True
    )
    fake_hub.add_repo(
        "org/near-miss",
        make_tokenizer_files(chatfmt.get_template("chatml").source.replace("'<|im_end|>'", "'<|im_end|> '", 1)),
    )
    assert not chatfmt.load_from_hub("org/near-miss").is_compiled
