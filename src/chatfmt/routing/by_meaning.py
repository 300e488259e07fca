"""Recognise a built-in format by the meaning of a template's source: its canonical form (`canonical.py`).

The canonical form of every built-in's reference template is computed on first use and kept. A source
whose form, with `{% generation %}` markers inlined, is a built-in's is the same program as that
built-in's reference; markers then still have to cover the format's generated spans
(`generation.spans_agree`) before its compiled route may serve span requests.
"""

from __future__ import annotations

from functools import lru_cache

from ..formats.builtin import BUILTINS
from ..formats.spec import Format
from .canonical import canonical_form


@lru_cache(maxsize=1)
def _known_forms() -> dict[str, Format]:
    """Canonical form → format, for every built-in that has a declarative format (first one wins)."""
    from ..formats.definitions import FORMATS

    known: dict[str, Format] = {}
    for builtin in BUILTINS:
        if builtin.name in FORMATS:
            # The references compile (every one is rendered by the parity tests): no need to compile here.
            form = canonical_form(builtin.read_source(), check_compiles=False)
            known.setdefault(form, FORMATS[builtin.name])
    return known


@lru_cache(maxsize=256)
def recognise_by_meaning(source: str) -> Format | None:
    """The built-in format whose reference template is the same program as `source` (markers aside)."""
    try:
        form = canonical_form(source, strip_generation=True)
    except Exception:  # a source that does not compile is no known format; rendering it reports why
        return None
    return _known_forms().get(form)
