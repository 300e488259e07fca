"""`import chatfmt` stays cheap for servers: heavy or optional dependencies load only when first needed.

The times themselves are reported by benchmarks/import_cost.py; these tests pin down what makes them:
which modules an import, and a first render of a built-in, load.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

import chatfmt
from chatfmt import _fast, routing
from chatfmt.formats.builtin import BUILTINS

# Never loaded by `import chatfmt`.
LAZY = [
    "jinja2",
    "huggingface_hub",
    "transformers",
    "pyarrow",
    "importlib.metadata",
    "msgspec",
    "chatfmt._fast",
    "numpy",
]
# Not loaded by a first render of a built-in either: jinja2 (built-ins are verified by the test suite, not
# by probe renders), the entry-point scan, and the standard modules that cost most of a start
# (dataclasses brings inspect, ast, dis and tokenize; typing brings re; see chatfmt/_values.py).
NOT_FOR_A_BUILTIN = [
    "jinja2",
    "huggingface_hub",
    "transformers",
    "pyarrow",
    "importlib.metadata",
    "msgspec",
    "datetime",
    "dataclasses",
    "inspect",
    "typing",
    "pathlib",
    "importlib.resources",
    "hashlib",
    "json",
    "re",
]


def loaded_after(code: str, candidates: list[str]) -> list[str]:
    script = f"{code}\nimport sys\nprint(' '.join(m for m in {candidates!r} if m in sys.modules))"  # no json here
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout
    return out.splitlines()[-1].split()


def test_import_loads_no_heavy_module():
    assert loaded_after("import chatfmt", LAZY) == []


@pytest.mark.parametrize("name", ["chatml", "llama-3", "mistral-v3"])
def test_first_render_of_a_builtin_loads_only_what_it_needs(name):
    code = f"import chatfmt\nchatfmt.get_template({name!r}).render([{{'role': 'user', 'content': 'x'}}], add_generation_prompt=True)"
    assert loaded_after(code, NOT_FOR_A_BUILTIN) == []


def test_a_builtin_paired_with_other_tokens_is_still_probed():
    code = (
        "import chatfmt\n"
        "from chatfmt.formats.builtin import BUILTINS\n"
        "b = next(b for b in BUILTINS if b.name == 'llama-3')\n"
        "t = chatfmt.Template(b.read_source(), special_tokens={'bos_token': '<B>'}, format=b.format)\n"
        "assert t.is_compiled"
    )
    assert loaded_after(code, ["jinja2"]) == ["jinja2"]


def test_every_public_name_resolves():
    for name in chatfmt.__all__:
        assert getattr(chatfmt, name) is not None
    assert set(chatfmt.__all__) <= set(dir(chatfmt))
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        _ = chatfmt.nope


@pytest.mark.usefixtures("builder")
@pytest.mark.parametrize("builtin", BUILTINS, ids=[b.name for b in BUILTINS])
def test_every_builtin_passes_the_probes_it_skips_at_run_time(builtin):
    """What the run time no longer checks for a built-in, the suite does (on both builders)."""
    tokens = dict(builtin.special_tokens)
    jinja = chatfmt.Template(builtin.read_source(), special_tokens=tokens).jinja_only()
    renderer = _fast.Renderer(builtin.format, tokens)
    assert routing.confirmed_by_probes(
        renderer, lambda chat, prompt, variables: jinja.render(chat, add_generation_prompt=prompt, **variables)
    )
