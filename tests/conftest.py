"""Shared fixtures: the corpus, a fixed clock on both sides, and the transformers oracle."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # helper modules (oracle, hubserver) live beside the tests

# Must come before anything imports huggingface_hub or transformers: it starts the local fake Hub and
# points HF_ENDPOINT / HF_HOME at it, which huggingface_hub reads once at import.
import hub_fixtures  # noqa: E402, F401

import chatfmt  # noqa: E402
from oracle import FIXED_NOW, hf_fixed_clock  # noqa: E402

pytest_plugins = ["hub_fixtures"]

CORPUS = Path(__file__).parent / "data" / "corpus"
TEMPLATE_FILES = sorted((CORPUS / "templates").glob("*.jinja"))
CONTEXT_FILES = sorted((CORPUS / "contexts").glob("*.json"))


def load_context(name: str) -> dict:
    return json.loads((CORPUS / "contexts" / f"{name}.json").read_text(encoding="utf-8"))


def load_template_source(name: str) -> str:
    return (CORPUS / "templates" / f"{name}.jinja").read_text(encoding="utf-8")


@pytest.fixture
def fixed_clocks():
    """Both renderers read the same fixed time for `strftime_now`."""
    with hf_fixed_clock(), chatfmt.fixed_clock(FIXED_NOW):
        yield FIXED_NOW
