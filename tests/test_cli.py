"""The `chatfmt` command, driven through `chatfmt.cli.main` (and once as a real subprocess)."""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import chatfmt
import chatfmt.cli
import chatfmt.registry
from chatfmt import Template
from chatfmt.cli import EXIT_OK, EXIT_TEMPLATE_ERROR, EXIT_USAGE, main
from chatfmt.formats.builtin import BUILTINS
from chatfmt.registry import Registry
from chatfmt.registry.plugins import DISABLE_ENV

REPO = Path(__file__).resolve().parent.parent
EXAMPLE = REPO / "examples" / "conversation.json"
EXAMPLE_MESSAGES = json.loads(EXAMPLE.read_text(encoding="utf-8"))["messages"]

TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "get_weather",
            "description": "Current weather for a city.",
            "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
        },
    }
]


@pytest.fixture(autouse=True)
def isolated_registry(monkeypatch: pytest.MonkeyPatch) -> Registry:
    """A fresh registry with plugin autoload off, so installed plugins (or other tests) cannot change the output."""
    monkeypatch.setenv(DISABLE_ENV, "1")
    fresh = Registry()
    monkeypatch.setattr(chatfmt.registry, "REGISTRY", fresh)
    monkeypatch.setattr(chatfmt.cli, "REGISTRY", fresh)
    return fresh


def run(*argv: str, stdin: str = "") -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), stdin=io.StringIO(stdin), stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


def assert_one_line_error(err: str, *words: str) -> None:
    assert err.endswith("\n") and err.count("\n") == 1, repr(err)
    assert err.startswith("chatfmt: ")
    assert "Traceback" not in err
    for word in words:
        assert word in err, err


def write_json(path: Path, value) -> str:
    path.write_text(json.dumps(value), encoding="utf-8")
    return str(path)


# --- list ----------------------------------------------------------------------------------------------


def test_list_shows_every_builtin_with_aliases_source_and_path() -> None:
    code, out, err = run("list")
    assert (code, err) == (EXIT_OK, "")
    header, *lines = out.splitlines()
    assert header.split() == ["NAME", "ALIASES", "SOURCE", "PATH"]
    assert len(lines) == len(BUILTINS)
    source_column = header.index("SOURCE")
    path_column = header.index("PATH")
    rows = {line.split()[0]: line for line in lines}
    assert set(rows) == {b.name for b in BUILTINS}
    for builtin in BUILTINS:
        row = rows[builtin.name]
        assert ", ".join(builtin.aliases) in row
        assert row[source_column:].split()[0] == "builtin"
        expected = "compiled" if chatfmt.get_template(builtin.name).is_compiled else "jinja"
        assert row[path_column:] == expected
    assert [line.split()[0] for line in lines] == sorted(rows)


def test_list_shows_registered_templates(isolated_registry: Registry) -> None:
    isolated_registry.register("my-format", "{{ messages | length }}", aliases=("mine",))
    code, out, _ = run("list")
    assert code == EXIT_OK
    row = next(line for line in out.splitlines() if line.startswith("my-format "))
    assert "mine" in row and "registered" in row and row.endswith("jinja")


# --- show ----------------------------------------------------------------------------------------------


def test_show_chatml_prints_origin_special_tokens_and_source() -> None:
    code, out, err = run("show", "chatml")
    assert (code, err) == (EXIT_OK, "")
    template = chatfmt.get_template("chatml")
    lines = out.splitlines()
    assert lines[0] == "# name: chatml"
    assert lines[1] == "# origin: builtin"
    assert "#   model: teknium/OpenHermes-2.5-Mistral-7B" in lines
    assert "#   corpus_file: teknium--OpenHermes-2.5-Mistral-7B.jinja" in lines
    assert "# compiled: " + ("yes" if template.is_compiled else "no") in lines
    tokens_line = next(line for line in lines if line.startswith("# special tokens: "))
    assert json.loads(tokens_line.removeprefix("# special tokens: ")) == {"bos_token": "<s>", "eos_token": "<|im_end|>"}
    source = template.source
    assert out.endswith(source if source.endswith("\n") else source + "\n")
    # An alias shows the same template.
    assert run("show", "OpenHermes")[1] == out


def test_show_named_templates_labels_each(isolated_registry: Registry) -> None:
    isolated_registry.register("multi", Template({"default": "D", "tool_use": "T"}, special_tokens={"eos_token": "é"}))
    code, out, _ = run("show", "multi")
    assert code == EXIT_OK
    assert '# special tokens: {"eos_token": "é"}' in out
    assert "# --- template 'default' ---\nD\n# --- template 'tool_use' ---\nT\n" in out


def test_show_unknown_template_is_a_usage_error() -> None:
    code, out, err = run("show", "chatmll")
    assert code == EXIT_USAGE and out == ""
    assert_one_line_error(err, "'chatmll'", "Did you mean 'chatml'")


# --- render --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("generation_prompt", [True, False])
def test_render_example_matches_the_library(generation_prompt: bool) -> None:
    argv = ["render", "chatml", str(EXAMPLE)] + (["--add-generation-prompt"] if generation_prompt else [])
    code, out, err = run(*argv)
    assert (code, err) == (EXIT_OK, "")
    expected = chatfmt.get_template("chatml").render(EXAMPLE_MESSAGES, add_generation_prompt=generation_prompt)
    assert out == expected
    assert out.endswith("<|im_start|>assistant\n") == generation_prompt


@pytest.mark.parametrize("name", [b.name for b in BUILTINS])
def test_render_every_builtin_matches_the_library(name: str) -> None:
    template = chatfmt.get_template(name)
    try:
        expected = template.render(EXAMPLE_MESSAGES, add_generation_prompt=True)
    except Exception:  # noqa: BLE001 - some formats refuse a system turn; the CLI must say so with exit 1
        code, out, err = run("render", name, str(EXAMPLE), "--add-generation-prompt", "--no-validate")
        assert code == EXIT_TEMPLATE_ERROR and out == ""
        assert_one_line_error(err, "refused")
        return
    assert run("render", name, str(EXAMPLE), "--add-generation-prompt", "--no-validate") == (EXIT_OK, expected, "")
    try:  # by default the CLI validates, as render(validate=True) does
        template.check_conversation(EXAMPLE_MESSAGES)
    except chatfmt.InvalidConversation as refusal:
        code, out, err = run("render", name, str(EXAMPLE), "--add-generation-prompt")
        assert code == EXIT_USAGE and out == "" and str(refusal) in err
        return
    assert run("render", name, str(EXAMPLE), "--add-generation-prompt") == (EXIT_OK, expected, "")


@pytest.mark.parametrize("file_arg", [[], ["-"]])
def test_render_reads_stdin(file_arg: list[str]) -> None:
    code, out, err = run("render", "llama-3", *file_arg, stdin=EXAMPLE.read_text(encoding="utf-8"))
    assert (code, err) == (EXIT_OK, "")
    assert out == chatfmt.get_template("llama-3").render(EXAMPLE_MESSAGES)


def test_render_accepts_a_bare_list_of_messages() -> None:
    stdin = json.dumps(EXAMPLE_MESSAGES)
    assert run("render", "chatml", stdin=stdin)[1] == chatfmt.get_template("chatml").render(EXAMPLE_MESSAGES)


def test_render_continue_final_message(tmp_path: Path) -> None:
    conversation = [{"role": "user", "content": "Count to three."}, {"role": "assistant", "content": "One, two,"}]
    path = write_json(tmp_path / "chat.json", conversation)
    code, out, err = run("render", "chatml", path, "--continue-final-message")
    assert (code, err) == (EXIT_OK, "")
    assert out == chatfmt.get_template("chatml").render(conversation, continue_final_message=True)
    assert out.endswith("<|im_start|>assistant\nOne, two,")
    assert out != chatfmt.get_template("chatml").render(conversation)


def test_continue_final_message_and_generation_prompt_exclude_each_other(tmp_path: Path, capsys) -> None:
    path = write_json(tmp_path / "chat.json", EXAMPLE_MESSAGES)
    code, out, err = run("render", "chatml", path, "--continue-final-message", "--add-generation-prompt")
    assert code == EXIT_USAGE and out == ""
    assert "not allowed with" in err
    assert capsys.readouterr() == ("", "")  # argparse wrote to the streams main() was given


def test_render_with_tools_file(tmp_path: Path) -> None:
    tools = write_json(tmp_path / "tools.json", TOOLS)
    conversation = [{"role": "user", "content": "Weather in Paris?"}]
    chat = write_json(tmp_path / "chat.json", conversation)
    code, out, err = run("render", "qwen2.5", chat, "--tools", tools, "--add-generation-prompt")
    assert (code, err) == (EXIT_OK, "")
    template = chatfmt.get_template("qwen2.5")
    assert out == template.render(conversation, tools=TOOLS, add_generation_prompt=True)
    assert '"name": "get_weather"' in out
    assert out != template.render(conversation, add_generation_prompt=True)


@pytest.fixture
def echo_template(tmp_path: Path) -> str:
    path = tmp_path / "echo.jinja"
    path.write_text(
        "{{ flag is sameas true }}|{{ n + 1 }}|{{ s }}|{{ obj.a[0] }}|{{ quoted ~ '!' }}|{{ empty | length }}|{{ eq }}",
        encoding="utf-8",
    )
    return str(path)


def test_set_parses_json_values_and_keeps_other_text_as_strings(echo_template: str) -> None:
    code, out, err = run(
        "render",
        echo_template,
        "--set",
        "flag=true",
        "--set",
        "n=41",
        "--set",
        "s=hello world",
        "--set",
        'obj={"a": [7]}',
        "--set",
        'quoted="3"',
        "--set",
        "empty=",
        "--set",
        "eq=a=b",
        stdin='[{"role": "user", "content": "x"}]',
    )
    assert (code, err) == (EXIT_OK, "")
    assert out == "True|42|hello world|7|3!|0|a=b"


def test_set_overrides_special_tokens(tmp_path: Path) -> None:
    chat = write_json(tmp_path / "chat.json", [{"role": "user", "content": "hi"}])
    code, out, _ = run("render", "llama-3", chat, "--set", "bos_token=<BOS>")
    assert code == EXIT_OK
    assert out == chatfmt.get_template("llama-3").render([{"role": "user", "content": "hi"}], bos_token="<BOS>")
    assert out.startswith("<BOS>")


@pytest.mark.parametrize("assignment", ["novalue", "=3"])
def test_set_without_key_value_is_a_usage_error(echo_template: str, assignment: str) -> None:
    code, out, err = run("render", echo_template, "--set", assignment, stdin="[]")
    assert code == EXIT_USAGE and out == ""
    assert_one_line_error(err, "KEY=VALUE")


@pytest.mark.parametrize("key", ["tools", "documents", "add_generation_prompt", "continue_final_message", "messages"])
def test_set_cannot_shadow_render_arguments(key: str) -> None:
    code, out, err = run("render", "chatml", str(EXAMPLE), "--set", f"{key}=true")
    assert code == EXIT_USAGE and out == ""
    assert_one_line_error(err, repr(key))


# --- exit codes and error messages ---------------------------------------------------------------------


def test_unknown_template_exits_2() -> None:
    code, out, err = run("render", "no-such-template", str(EXAMPLE))
    assert code == EXIT_USAGE and out == ""
    assert_one_line_error(err, "'no-such-template'", "chatfmt list")


@pytest.mark.parametrize("which", ["conversation", "tools"])
def test_missing_file_exits_2(tmp_path: Path, which: str) -> None:
    missing = str(tmp_path / "missing.json")
    argv = (
        ["render", "chatml", missing]
        if which == "conversation"
        else ["render", "chatml", str(EXAMPLE), "--tools", missing]
    )
    code, out, err = run(*argv)
    assert code == EXIT_USAGE and out == ""
    assert_one_line_error(err, "cannot read", missing, "No such file")


def test_directory_instead_of_file_exits_2(tmp_path: Path) -> None:
    code, out, err = run("render", "chatml", str(tmp_path))
    assert code == EXIT_USAGE and out == ""
    assert_one_line_error(err, "cannot read")


def test_file_that_is_not_utf8_exits_2(tmp_path: Path) -> None:
    path = tmp_path / "latin1.json"
    path.write_bytes('[{"role": "user", "content": "café"}]'.encode("latin-1"))
    code, out, err = run("render", "chatml", str(path))
    assert code == EXIT_USAGE and out == ""
    assert_one_line_error(err, "cannot read", "UTF-8")


@pytest.mark.parametrize("text", ["", "[", "{'role': 'user'}", '[{"role": "user"}] extra'])
def test_invalid_json_exits_2(text: str) -> None:
    code, out, err = run("render", "chatml", stdin=text)
    assert code == EXIT_USAGE and out == ""
    assert_one_line_error(err, "stdin is not valid JSON")


def test_invalid_json_tools_file_exits_2(tmp_path: Path) -> None:
    tools = tmp_path / "tools.json"
    tools.write_text("[{", encoding="utf-8")
    code, out, err = run("render", "chatml", str(EXAMPLE), "--tools", str(tools))
    assert code == EXIT_USAGE and out == ""
    assert_one_line_error(err, str(tools), "not valid JSON")


@pytest.mark.parametrize(
    ("conversation", "words"),
    [
        ([{"role": "user", "content": "a"}, {"content": "b"}], ["message 1", "field 'role'", "no 'role'"]),
        ([{"role": "user", "content": "a"}, {"role": 3, "content": "b"}], ["message 1", "field 'role'", "got number"]),
        ([{"role": "user", "content": 5}], ["message 0", "field 'content'", "got number"]),
        ([{"role": "user", "content": True}], ["message 0", "field 'content'", "got boolean"]),
        (
            [{"role": "system", "content": "s"}, {"role": "user", "content": {"text": "x"}}],
            ["message 1", "field 'content'", "got object"],
        ),
        ([{"role": "user", "content": ["x"]}], ["message 0", "field 'content'", "content block 0"]),
        ([{"role": "user", "content": "a"}, "b"], ["message 1", "must be an object"]),
        ({"role": "user", "content": "a"}, ["must be a list"]),
        ({"messages": "nope"}, ["must be a list", "got string"]),
    ],
)
def test_invalid_conversation_exits_2_naming_message_and_field(conversation, words: list[str]) -> None:
    code, out, err = run("render", "chatml", stdin=json.dumps(conversation))
    assert code == EXIT_USAGE and out == ""
    assert_one_line_error(err, "chatfmt: error:", *words)


def test_template_that_raises_exits_1() -> None:
    conversation = [{"role": "user", "content": "one"}, {"role": "user", "content": "two"}]
    code, out, err = run("render", "gemma", stdin=json.dumps(conversation))
    assert code == EXIT_TEMPLATE_ERROR and out == ""
    assert_one_line_error(err, "refused", "Conversation roles must alternate")
    # The same conversation with alternating roles renders.
    ok = [{"role": "user", "content": "one"}, {"role": "assistant", "content": "two"}]
    assert run("render", "gemma", stdin=json.dumps(ok)) == (EXIT_OK, chatfmt.get_template("gemma").render(ok), "")


def test_bad_flags_return_2_instead_of_exiting(capsys) -> None:
    assert run()[0] == EXIT_USAGE
    code, out, err = run("render", "chatml", "--no-such-flag")
    assert code == EXIT_USAGE and "unrecognized arguments" in err
    code, out, err = run("--help")
    assert code == EXIT_OK and out.startswith("usage: chatfmt") and err == ""
    assert capsys.readouterr() == ("", "")


# --- as a real program ---------------------------------------------------------------------------------


def _subprocess_env() -> dict[str, str]:
    return {**os.environ, "PYTHONIOENCODING": "utf-8", DISABLE_ENV: "1"}


def test_python_dash_m_chatfmt_render() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "chatfmt", "render", "chatml", "examples/conversation.json"],
        cwd=REPO,
        capture_output=True,
        env=_subprocess_env(),
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr.decode("utf-8", "replace")
    assert result.stderr == b""
    assert result.stdout.decode("utf-8") == chatfmt.get_template("chatml").render(EXAMPLE_MESSAGES)


def test_python_dash_m_chatfmt_error_exit_code() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "chatfmt", "render", "no-such-template", "examples/conversation.json"],
        cwd=REPO,
        capture_output=True,
        text=True,
        env=_subprocess_env(),
        timeout=120,
        check=False,
    )
    assert result.returncode == EXIT_USAGE and result.stdout == ""
    assert_one_line_error(result.stderr, "'no-such-template'")


def test_installed_console_script() -> None:
    script = shutil.which("chatfmt", path=str(Path(sys.executable).parent)) or shutil.which("chatfmt")
    if script is None:
        pytest.skip("the chatfmt console script is not installed")
    result = subprocess.run(
        [script, "render", "chatml", str(EXAMPLE), "--add-generation-prompt"],
        capture_output=True,
        env=_subprocess_env(),
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr.decode("utf-8", "replace")
    assert result.stdout.decode("utf-8") == chatfmt.get_template("chatml").render(
        EXAMPLE_MESSAGES, add_generation_prompt=True
    )


def test_chat_template_flag_picks_a_named_template(tmp_path, isolated_registry: Registry) -> None:
    named = chatfmt.Template.from_jinja({"default": "D", "rag": "R {{ documents | length }}"})
    isolated_registry.register("test-named-cli", named)
    docs = tmp_path / "docs.json"
    docs.write_text('[{"title": "t", "text": "x"}]')
    chat = '[{"role": "user", "content": "hi"}]'
    assert run("render", "test-named-cli", stdin=chat)[:2] == (0, "D")
    assert run("render", "test-named-cli", "--chat-template", "rag", "--documents", str(docs), stdin=chat)[:2] == (
        0,
        "R 1",
    )
