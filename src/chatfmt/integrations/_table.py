"""What both integrations do to one Arrow batch: add the prompt column, with `on_error` per row.

Their batches travel between processes (datasets' num_proc, Ray's workers), so the template travels
as `PortableTemplate`: a name, or the source and special tokens to rebuild it from.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..batch_errors import OnError, check_on_error
from ..registry import get_template
from ..template import Template

__all__ = ["PortableTemplate", "add_prompt_column"]


class PortableTemplate:
    """A Template that pickles: by its registry name when it was given one, else by source and tokens."""

    def __init__(self, template: str | Template) -> None:
        self._spec: Any = (
            template if isinstance(template, str) else (template.source, dict(template.special_tokens), template.name)
        )
        self._template: Template | None = template if isinstance(template, Template) else None

    @property
    def template(self) -> Template:
        if self._template is None:
            if isinstance(self._spec, str):
                self._template = get_template(self._spec)
            else:
                source, tokens, name = self._spec
                self._template = Template(
                    dict(source) if isinstance(source, Mapping) else source, special_tokens=tokens, name=name
                )
        return self._template

    def __getstate__(self) -> Any:
        spec = self._spec
        if not isinstance(spec, str) and isinstance(spec[0], Mapping):
            spec = (dict(spec[0]), spec[1], spec[2])
        return spec

    def __setstate__(self, spec: Any) -> None:
        self._spec, self._template = spec, None


def add_prompt_column(
    table: Any,
    template: Template,
    column: str,
    output: str,
    on_error: OnError,
    options: Mapping[str, Any],
    first_row: int = 0,
) -> Any:
    """`table` plus the prompt column `output` (large_string); with "null" or "skip" also `{output}_error`,
    the reason a row failed (null where it rendered), naming the row by `first_row` + its index."""
    import pyarrow as pa

    check_on_error(on_error)
    if output in table.column_names:
        raise ValueError(f"the batch already has a column {output!r}; pass another output name")
    try:
        rendered = template.render_arrow(table[column], on_error="raise" if on_error == "raise" else "null", **options)
    except Exception as exc:
        row = getattr(exc, "row_index", None)
        if row is not None:
            exc.row_index = first_row + row  # type: ignore[attr-defined]
        raise
    if on_error == "raise":
        return table.append_column(output, rendered)
    reasons: list[str | None] = [None] * table.num_rows
    for failure in rendered.failures:
        reasons[failure.row] = f"row {first_row + failure.row}: {failure.describe()}"
    table = table.append_column(output, rendered.text)
    return table.append_column(f"{output}_error", pa.array(reasons, type=pa.string()))
