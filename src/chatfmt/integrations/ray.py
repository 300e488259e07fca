"""Ray Data: render prompts across a cluster with `map_batches`.

    from chatfmt.integrations.ray import PromptRenderer
    ds = ray.data.read_parquet(...).map_batches(PromptRenderer("llama-3"), batch_format="pyarrow")

Each batch is a pyarrow Table rendered by `Template.render_arrow` (the compiled kernel for built-in
formats). `on_error`: "raise" names the row within its batch (`exc.row_index`); "null" leaves the
prompt null and says why in `{output}_error` ("skip" is "null" here: filter on that column, so no row
is ever dropped without a trace).
"""

from __future__ import annotations

from typing import Any

from ..batch_errors import OnError, check_on_error
from ..template import Template
from ._table import PortableTemplate, add_prompt_column

__all__ = ["PromptRenderer"]


class PromptRenderer:
    """A callable for `Dataset.map_batches(PromptRenderer(...), batch_format="pyarrow")`."""

    def __init__(
        self,
        template: str | Template,
        column: str = "messages",
        output: str = "text",
        on_error: OnError = "raise",
        **options: Any,
    ) -> None:
        check_on_error(on_error)
        self.template = PortableTemplate(template)
        self.column, self.output, self.options = column, output, options
        self.on_error: OnError = "null" if on_error == "skip" else on_error

    def __call__(self, batch: Any) -> Any:
        return add_prompt_column(batch, self.template.template, self.column, self.output, self.on_error, self.options)
