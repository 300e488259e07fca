"""Type stub for the compiled Arrow kernel (no pure-Python twin: without it, chatfmt.columnar renders per row)."""

from collections.abc import Callable
from typing import Any

from ._plan import Plan

class ArrowKernel:
    declined_keys: tuple[str, ...]
    def __init__(self, plan: Plan) -> None: ...
    @property
    def usable(self) -> bool: ...
    def render(
        self, chunk: Any, add_generation_prompt: bool, fallback: Callable[[int], bytes | None], spans: int = 0
    ) -> tuple[Any, Any, Any, int, list[int], tuple[Any, Any, Any] | None]: ...
