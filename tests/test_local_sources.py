"""Local model folders, GGUF files and `.jinja` files with special tokens: the Hub's rules, read from disk.

Each folder is a small but real tokenizer written by the test (tests/hubserver.py's `make_tokenizer_files`),
so transformers' `AutoTokenizer.from_pretrained(folder)` is the reference, with no network.
"""

from __future__ import annotations

import io
import json
import warnings
from pathlib import Path

import gguf
import pytest
import transformers
from hubserver import make_tokenizer_files

import chatfmt
from chatfmt.cli import main
from chatfmt.registry.hub import HubTemplateWarning
from chatfmt.registry.local import MissingSpecialTokenWarning

CHAT = [
    {"role": "system", "content": "Be kind."},
    {"role": "user", "content": "Hi"},
    {"role": "assistant", "content": "Yo"},
]
SOURCE = "{{ bos_token }}{% for m in messages %}[{{ m['role'] }}] {{ m['content'] }}{{ eos_token }}\n{% endfor %}"
SPECIAL_SOURCE = (
    "{{ bos_token }}|{{ eos_token }}|{{ pad_token }}|{{ unk_token }}|{{ image_token }}|"
    "{% for m in messages %}{{ m.content }}{% endfor %}"
)


def write_folder(folder: Path, files: dict[str, bytes]) -> Path:
    for name, data in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return folder


def transformers_render(folder: Path, messages, **kwargs):
    tokenizer = transformers.AutoTokenizer.from_pretrained(str(folder))
    try:
        return tokenizer.apply_chat_template(messages, tokenize=False, **kwargs)
    except Exception as exc:  # the outcome being compared
        return exc


@pytest.mark.parametrize(
    ("layout", "files"),
    [
        ("config", make_tokenizer_files(SOURCE)),
        ("jinja-file", make_tokenizer_files(SOURCE, template_file=True)),
        (
            "named",
            make_tokenizer_files(
                SOURCE, template_file=True, additional_templates={"tool_use": "T{{ messages|length }}"}
            ),
        ),
        (
            "special-tokens",
            make_tokenizer_files(SPECIAL_SOURCE, extra_config={"image_token": "<img>", "pad_token": None}),
        ),
        (
            "legacy-map",
            {
                **make_tokenizer_files(SPECIAL_SOURCE),
                "special_tokens_map.json": json.dumps({"pad_token": {"content": "<pad>"}}).encode(),
            },
        ),
    ],
)
def test_a_local_folder_renders_as_transformers_loads_it(tmp_path, layout, files):
    folder = write_folder(tmp_path / layout, files)
    template = chatfmt.get_template(str(folder))
    assert template.origin.kind == "file" and template.origin.details["path"] == str(folder.resolve())
    for kwargs in ({}, {"add_generation_prompt": True}, {"tools": []}):
        assert template.render(CHAT, **kwargs) == transformers_render(folder, CHAT, **kwargs)
    assert chatfmt.load_from_hub(str(folder)).source == template.source  # load_from_hub reads local folders too


def test_a_folder_without_a_template_or_with_two_follows_transformers(tmp_path):
    base = write_folder(tmp_path / "base", make_tokenizer_files(None))
    with pytest.raises(
        chatfmt.TemplateNotFound, match=r"folder .*base.* has no chat template: none of chat_template.jinja"
    ):
        chatfmt.get_template(str(base))
    both = write_folder(tmp_path / "both", {**make_tokenizer_files("CONFIG"), "chat_template.jinja": b"FILE"})
    with pytest.warns(HubTemplateWarning, match="differs"):
        assert chatfmt.get_template(str(both)).source == "FILE"
    broken = write_folder(tmp_path / "broken", {"tokenizer_config.json": b"{not json"})
    with pytest.raises(chatfmt.TemplateNotFound, match="tokenizer_config.json in folder .* is not valid JSON"):
        chatfmt.get_template(str(broken))


def write_gguf(path: Path, chat_template, tokens=("<unk>", "<s>", "</s>", "hi"), bos=1, eos=2) -> Path:
    writer = gguf.GGUFWriter(str(path), "llama")
    if chat_template is not None:
        writer.add_chat_template(chat_template)
    writer.add_token_list(list(tokens))
    if bos is not None:
        writer.add_bos_token_id(bos)
    if eos is not None:
        writer.add_eos_token_id(eos)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path


def test_a_gguf_file_gives_its_template_and_tokens(tmp_path):
    path = write_gguf(tmp_path / "model.gguf", SOURCE)
    template = chatfmt.get_template(str(path))
    assert template.source == SOURCE and template.name == "model"
    assert dict(template.special_tokens) == {"bos_token": "<s>", "eos_token": "</s>"}
    assert template.render(CHAT[1:]) == "<s>[user] Hi</s>\n[assistant] Yo</s>\n"
    assert template.origin.details["container"] == "gguf"
    assert chatfmt.load_from_hub(str(path)).render(CHAT[1:]) == template.render(CHAT[1:])


def test_a_gguf_file_with_named_templates_and_no_bos(tmp_path):
    path = write_gguf(
        tmp_path / "named.gguf", [{"name": "default", "template": "D"}, {"name": "tool_use", "template": "T"}], bos=None
    )
    template = chatfmt.get_template(str(path))
    assert dict(template.source) == {"default": "D", "tool_use": "T"}
    assert template.render(CHAT) == "D" and template.render(CHAT, tools=[]) == "T"
    assert "bos_token" not in template.special_tokens


def test_unreadable_gguf_and_gguf_without_template(tmp_path):
    bad = tmp_path / "bad.gguf"
    bad.write_bytes(b"not a gguf file at all")
    with pytest.raises(chatfmt.TemplateNotFound, match="cannot be read"):
        chatfmt.get_template(str(bad))
    with pytest.raises(chatfmt.TemplateNotFound, match="has no chat template"):
        chatfmt.get_template(str(write_gguf(tmp_path / "none.gguf", None)))


def test_a_jinja_file_takes_special_tokens_and_says_when_one_is_missing(tmp_path):
    path = tmp_path / "mine.jinja"
    path.write_text(SOURCE, encoding="utf-8")
    with pytest.warns(MissingSpecialTokenWarning, match="reads bos_token, eos_token, which were not given"):
        silent = chatfmt.get_template(str(path))
    assert silent.render(CHAT[1:2]) == "[user] Hi\n"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        given = chatfmt.get_template(str(path), special_tokens={"bos_token": "<s>", "eos_token": "</s>"})
    assert given.render(CHAT[1:2]) == "<s>[user] Hi</s>\n"
    out, err = io.StringIO(), io.StringIO()
    conversation = io.StringIO(json.dumps(CHAT[1:2]))
    assert main(["render", str(path), "--bos", "<s>", "--eos", "</s>"], stdin=conversation, stdout=out, stderr=err) == 0
    assert out.getvalue() == "<s>[user] Hi</s>\n" and err.getvalue() == ""
    with warnings.catch_warnings():
        warnings.simplefilter("always", MissingSpecialTokenWarning)  # the command line's own reporting
        assert (
            main(
                ["render", str(path), "--bos", "<s>"], stdin=io.StringIO(json.dumps(CHAT[1:2])), stdout=out, stderr=err
            )
            == 0
        )
    assert (
        err.getvalue().startswith("chatfmt: warning: the chat template")
        and "reads eos_token, which was not given" in err.getvalue()
    )
    assert err.getvalue().count("\n") == 1


def test_special_tokens_add_to_any_template():
    template = chatfmt.get_template("chatml", special_tokens={"eos_token": "<|im_end|>"})
    assert template.special_tokens["eos_token"] == "<|im_end|>"
    assert template.render(CHAT[1:2]) == chatfmt.get_template("chatml").render(CHAT[1:2])
