"""Export for transformers: a base model's tokenizer folder gets a chat template that transformers renders identically."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
import transformers
from hubserver import make_tokenizer_files
from test_local_sources import CHAT, write_folder

import chatfmt
from chatfmt.cli import main

PATTERNS = {
    "system": "<|system|>{content}\n",
    "user": "<|user|>{content}\n",
    "assistant": "<|assistant|>{content}{eos_token}\n",
}
CONVERSATIONS = [
    CHAT,
    CHAT[1:2],
    [{"role": "user", "content": "  spaced  \n"}, {"role": "assistant", "content": "é 日本 👋🏽"}],
]


def base_model(folder: Path) -> Path:
    """A base model's tokenizer: real files, no chat template, a key chatfmt must keep."""
    files = make_tokenizer_files(None, extra_config={"model_max_length": 2048, "padding_side": "left"})
    return write_folder(folder, files)


def assert_transformers_renders_like(folder: Path, template: chatfmt.Template) -> None:
    tokenizer = transformers.AutoTokenizer.from_pretrained(str(folder))
    for messages in CONVERSATIONS:
        for add_generation_prompt in (False, True):
            expected = template.render(messages, add_generation_prompt=add_generation_prompt)
            assert (
                tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=add_generation_prompt)
                == expected
            )


def test_a_base_model_becomes_a_chat_model(tmp_path):
    folder = base_model(tmp_path / "base")
    before = json.loads((folder / "tokenizer_config.json").read_text())
    template = chatfmt.Template.from_patterns(PATTERNS, special_tokens={"bos_token": "<s>", "eos_token": "</s>"})
    assert template.save(folder) == folder
    config = json.loads((folder / "tokenizer_config.json").read_text())
    assert {key: value for key, value in config.items() if key not in ("bos_token", "eos_token")} == {
        key: value for key, value in before.items() if key not in ("bos_token", "eos_token", "chat_template")
    }
    assert (folder / "chat_template.jinja").read_text(encoding="utf-8") == template.source
    assert_transformers_renders_like(folder, template)
    assert chatfmt.get_template(str(folder)).render(CHAT) == template.render(CHAT)  # and chatfmt reads it back


def test_builtins_and_named_templates_export(tmp_path):
    folder = base_model(tmp_path / "named")
    (folder / "chat_template.json").write_text(json.dumps({"chat_template": "STALE"}))  # the processor would prefer it
    (folder / "additional_chat_templates").mkdir()
    (folder / "additional_chat_templates" / "old.jinja").write_text("OLD")
    named = chatfmt.Template(
        {"default": chatfmt.get_template("zephyr").source, "tool_use": "TOOLS {{ tools|length }}"},
        special_tokens=chatfmt.get_template("zephyr").special_tokens,
    )
    named.save(folder)
    assert sorted(path.name for path in (folder / "additional_chat_templates").iterdir()) == ["tool_use.jinja"]
    assert not (folder / "chat_template.json").exists()
    assert_transformers_renders_like(folder, named)
    tokenizer = transformers.AutoTokenizer.from_pretrained(str(folder))
    assert tokenizer.apply_chat_template(CHAT, tools=[], tokenize=False) == named.render(CHAT, tools=[]) == "TOOLS 0"
    llama = chatfmt.get_template("llama-3")
    llama.save(tmp_path / "fresh")  # a folder that did not exist: the template files and a config
    assert json.loads((tmp_path / "fresh" / "tokenizer_config.json").read_text()) == dict(llama.special_tokens)


def test_chatfmt_export_command(tmp_path):
    folder = base_model(tmp_path / "cli")
    toml = tmp_path / "course.toml"
    toml.write_text(
        '[patterns]\nuser = "<|user|>{content}\\n"\nassistant = "<|assistant|>{content}{eos_token}\\n"\n',
        encoding="utf-8",
    )
    out, err = io.StringIO(), io.StringIO()
    assert main(["export", str(toml), str(folder), "--eos", "</s>"], stdout=out, stderr=err) == 0, err.getvalue()
    assert "wrote chat_template.jinja" in out.getvalue()
    template = chatfmt.get_template(str(toml), special_tokens={"eos_token": "</s>"})
    tokenizer = transformers.AutoTokenizer.from_pretrained(str(folder))
    assert (
        tokenizer.apply_chat_template(CHAT[1:], tokenize=False)
        == template.render(CHAT[1:])
        == "<|user|>Hi\n<|assistant|>Yo</s>\n"
    )
    (folder / "tokenizer_config.json").write_text("{broken")
    assert main(["export", "chatml", str(folder)], stdout=io.StringIO(), stderr=err) == 2
    assert "is not valid JSON, so it cannot be updated" in err.getvalue()


def test_named_templates_need_plain_file_names(tmp_path):
    with pytest.raises(ValueError, match="plain file name"):
        chatfmt.Template({"default": "x", "../escape": "y"}).save(tmp_path)
