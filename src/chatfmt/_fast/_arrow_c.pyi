"""Type stub for the compiled Arrow kernel (no pure-Python twin: without it, chatfmt.columnar renders per row)."""

from collections.abc import Callable
from typing import Any

from ._plan import Plan

OK: int
FALLBACK: int
NULL_CONVERSATION: int
NULL_MESSAGE: int
NULL_ROLE: int

class ArrowKernel:
    declined_keys: tuple[str, ...]
    def __init__(self, plan: Plan) -> None: ...
    @property
    def usable(self) -> bool: ...
    def render(
        self, chunk: Any, add_generation_prompt: bool, fallback: Callable[[int, int], bytes | None]
    ) -> tuple[Any, Any, Any, int]: ...
