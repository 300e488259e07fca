"""`chatfmt check TEMPLATE`: features, engine, portability and budget risks, as text or JSON, exit codes."""

from __future__ import annotations

import io
import json

import pytest
from conftest import TEMPLATE_FILES
from hubserver import make_tokenizer_files

import chatfmt
from chatfmt.cli import EXIT_OK, EXIT_TEMPLATE_ERROR, EXIT_USAGE, main
from chatfmt.formats.builtin import BUILTINS
from chatfmt.registry import load_file
from chatfmt.template_check import check_template

# A bare .jinja file reads special tokens it does not carry; chatfmt warns, and the check goes on without them.
pytestmark = pytest.mark.filterwarnings("ignore::chatfmt.registry.local.MissingSpecialTokenWarning")


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    return main(list(argv), stdout=out, stderr=err), out.getvalue(), err.getvalue()


def report_of(name: str) -> dict:
    code, out, err = run("check", name, "--json")
    assert "error" not in err
    report = json.loads(out)
    assert code == (EXIT_TEMPLATE_ERROR if report["errors"] else EXIT_OK)
    return report


@pytest.mark.parametrize("name", [builtin.name for builtin in BUILTINS])
def test_every_builtin_checks_clean_and_compiled(name):
    report = report_of(name)
    (part,) = report["templates"].values()
    assert report["errors"] == 0 and part["compiled"] == {"path": "compiled", "format": name, "reason": None}


def test_features_roles_and_variables():
    mistral = report_of("mistral-v3")["templates"][""]
    assert mistral["supports"]["tools"] and mistral["supports"]["tool_calls"] and not mistral["supports"]["system_role"]
    assert mistral["roles"] == ["assistant", "tool", "user"] and mistral["variables"] == ["bos_token", "eos_token"]
    chatml = report_of("chatml")["templates"][""]
    assert chatml["roles"] is None and chatml["supports"]["system_role"] and not chatml["supports"]["tools"]
    qwen3 = report_of(str(next(p for p in TEMPLATE_FILES if p.stem == "Qwen--Qwen3-0.6B")))["templates"][""]
    assert qwen3["supports"]["reasoning"] and "enable_thinking" in qwen3["variables"]
    assert qwen3["compiled"] == {"path": "compiled", "format": "qwen3", "reason": None}  # a file of a known format
    command_a = report_of(str(next(p for p in TEMPLATE_FILES if p.stem == "CohereLabs--c4ai-command-a-03-2025")))
    compiled = command_a["templates"][""]["compiled"]
    assert compiled["path"] == "jinja" and "not a known format" in compiled["reason"]
    smol = report_of(str(next(p for p in TEMPLATE_FILES if p.stem == "HuggingFaceTB--SmolLM3-3B")))["templates"][""]
    assert smol["supports"]["generation_tags"]
    assert any(item["construct"] == "{% generation %}" for item in smol["portability"])


def test_a_known_source_with_other_tokens_says_why_it_is_not_compiled():
    builtin = next(b for b in BUILTINS if b.name == "llama-2")
    template = chatfmt.Template(builtin.read_source(), special_tokens={"eos_token": "</s>"}, name="mine")
    compiled = check_template(template)["templates"][""]["compiled"]
    assert (
        compiled["path"] == "jinja"
        and "'llama-2'" in compiled["reason"]
        and "probe renders differ" in compiled["reason"]
    )


PORTABILITY = {
    "tojson": "{{ messages | tojson }}",
    "tojson arguments": "{{ messages | tojson(indent=2) }}",
    "float literals": "{{ 1e-7 }}",
    "'%' string formatting": "{{ '%s!' % messages[0].content }}",
    "wordcount": "{{ messages[0].content | wordcount }}",
    "{% generation %}": "{% generation %}{{ messages[0].content }}{% endgeneration %}",
    ".format()": "{{ '{}'.format(messages[0].content) }}",
    "strftime_now": "{{ strftime_now('%Y') }}",
}


@pytest.mark.parametrize("construct", PORTABILITY)
def test_portability_warnings(construct, tmp_path):
    path = tmp_path / "t.jinja"
    path.write_bytes(PORTABILITY[construct].encode())
    part = report_of(str(path))["templates"][""]
    assert construct in [item["construct"] for item in part["portability"]]
    assert any(warning.startswith(construct) for warning in part["warnings"])


def test_crlf_in_a_source_is_flagged():
    # (a .jinja file is read with universal newlines, as transformers reads it; a config string keeps them)
    part = check_template(chatfmt.Template("{{ 'a' }}\r\n{{ 'b' }}"))["templates"][""]
    assert [item["construct"] for item in part["portability"]] == ["CRLF newlines"]


def test_budget_risks_and_the_human_report(tmp_path):
    path = tmp_path / "hostile.jinja"
    path.write_text(
        "{% set ns = namespace(s='') %}{% macro m(x) %}{{ m(x) }}{% endmacro %}"
        "{% for i in range(messages | length * 1000) %}{% set ns.s = ns.s ~ i %}{{ 'ab' * i }}{{ ns.s | indent(i) }}"
        "{% for j in messages %}{% for k in messages %}{{ k.content }}{% endfor %}{% endfor %}{% endfor %}"
    )
    risks = report_of(str(path))["templates"][""]["budget_risks"]
    for expected in (
        "macro 'm' calls itself",
        "range() of a computed length",
        "ns.s grows inside a loop",
        "string repetition",
        "'indent' by a computed width",
        "loops nested 3 deep",
    ):
        assert any(expected in risk for risk in risks), expected
    code, out, _ = run("check", str(path))
    assert "warning:  macro 'm' calls itself" in out
    # the work budget stops its smoke render: on one short message, that is an error
    assert code == EXIT_TEMPLATE_ERROR and "TemplateLimitExceeded" in out and out.endswith("1 error(s)\n")


def test_errors_exit_non_zero(tmp_path):
    broken = tmp_path / "broken.jinja"
    broken.write_text("{% if %}")
    code, out, _ = run("check", str(broken))
    assert code == EXIT_TEMPLATE_ERROR and "does not parse" in out and out.endswith("1 error(s)\n")
    raising = tmp_path / "raising.jinja"
    raising.write_text("{{ raise_exception('never') }}")
    assert "cannot render one user message" in report_of(str(raising))["templates"][""]["errors"][0]
    code, _, err = run("check", "no-such-template")
    assert code == EXIT_USAGE and "no chat template called" in err


@pytest.mark.parametrize("path", TEMPLATE_FILES, ids=[p.stem for p in TEMPLATE_FILES])
def test_corpus_templates_check_without_errors(path):
    assert check_template(load_file(path))["errors"] == 0


def test_a_hub_repo_with_named_templates(fake_hub):
    files = make_tokenizer_files(
        "{{ messages[0].content }}", template_file=True, additional_templates={"tool_use": "{{ tools | tojson }}"}
    )
    fake_hub.add_repo("org/named", files)
    report = report_of("org/named")
    assert report["origin"] == "hub" and set(report["templates"]) == {"default", "tool_use"}
    assert (
        report["templates"]["tool_use"]["supports"]["tools"] and not report["templates"]["default"]["supports"]["tools"]
    )
