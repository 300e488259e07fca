"""Hugging Face `datasets`: add a prompt column to a Dataset or DatasetDict with one batched map.

    from chatfmt.integrations.datasets import add_prompts
    dataset = add_prompts(dataset, "llama-3", add_generation_prompt=False, num_proc=4)

The map runs in Arrow format, so each batch goes through `Template.render_arrow` (the compiled kernel
for built-in formats) without a Python object per row. Bad rows follow `on_error`: "raise" (the error
names the row: `exc.row_index`), "null" (the prompt is None and `{output}_error` says why), or "skip"
(returns `(kept, rejected)`: the rows that rendered, and the others with `{output}_error`).
"""

from __future__ import annotations

from typing import Any

from ..batch_errors import OnError, check_on_error
from ..template import Template
from ._table import PortableTemplate, add_prompt_column

__all__ = ["add_prompts"]


class _MapBatch:
    """The batched map function; picklable for num_proc."""

    def __init__(
        self, template: PortableTemplate, column: str, output: str, on_error: OnError, options: dict[str, Any]
    ) -> None:
        self.template, self.column, self.output, self.on_error, self.options = (
            template,
            column,
            output,
            on_error,
            options,
        )

    def __call__(self, table: Any, indices: list[int]) -> Any:
        first = indices[0] if indices else 0
        return add_prompt_column(
            table, self.template.template, self.column, self.output, self.on_error, self.options, first
        )


def _add(dataset: Any, function: _MapBatch, num_proc: int | None, batch_size: int) -> Any:
    previous = dataset.format
    mapped = dataset.with_format("arrow").map(
        function, batched=True, batch_size=batch_size, with_indices=True, num_proc=num_proc, desc="chatfmt prompts"
    )
    return mapped.with_format(
        previous["type"], columns=None, output_all_columns=previous.get("output_all_columns", False)
    )


def add_prompts(
    dataset: Any,
    template: str | Template,
    column: str = "messages",
    output: str = "text",
    num_proc: int | None = None,
    on_error: OnError = "raise",
    batch_size: int = 1000,
    **options: Any,
) -> Any:
    """The dataset (or each split of a DatasetDict) with a prompt column `output` rendered from `column`.

    `options` are `Template.render`'s (add_generation_prompt, chat_template, template variables...).
    """
    import datasets

    check_on_error(on_error)
    function = _MapBatch(PortableTemplate(template), column, output, on_error, dict(options))
    if isinstance(dataset, datasets.DatasetDict):
        results = {name: _add(split, function, num_proc, batch_size) for name, split in dataset.items()}
        mapped = datasets.DatasetDict(results)
    else:
        mapped = _add(dataset, function, num_proc, batch_size)
    if on_error != "skip":
        return mapped
    error = f"{output}_error"
    kept = mapped.filter(lambda reason: reason is None, input_columns=error, num_proc=num_proc).remove_columns(error)
    rejected = mapped.filter(lambda reason: reason is not None, input_columns=error, num_proc=num_proc).remove_columns(
        output
    )
    return kept, rejected
