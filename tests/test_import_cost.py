"""`import chatfmt` stays cheap for servers: heavy or optional dependencies load only when first needed."""

from __future__ import annotations

import json
import subprocess
import sys

LAZY = ["jinja2", "huggingface_hub", "transformers", "importlib.metadata", "msgspec", "chatfmt._fast", "numpy"]


def test_import_loads_no_heavy_module():
    script = f"import chatfmt, sys, json; print(json.dumps([m for m in {LAZY!r} if m in sys.modules]))"
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout
    assert json.loads(out) == []


def test_first_render_of_a_builtin_does_not_import_the_hub_client():
    script = (
        "import chatfmt, sys, json\n"
        "chatfmt.get_template('chatml').render([{'role': 'user', 'content': 'x'}])\n"
        "print(json.dumps([m for m in ('huggingface_hub', 'transformers') if m in sys.modules]))\n"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout
    assert json.loads(out) == []
