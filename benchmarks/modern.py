"""Today's templates: chatfmt's compiled path against transformers, per call, in one process.

    python benchmarks/modern.py [--rounds N]

For each corpus template of issue 8's list (Qwen3, QwQ, Llama 3.2, Gemma 3, SmolLM3, Mistral Small,
Granite, DeepSeek-R1 ...), renders one conversation (a system prompt, then three user/assistant turns
of about 60 words each, and the generation prompt) with `chatfmt.Template.from_jinja(source).render`
and with transformers' `render_jinja_template` on the same source, checks the two strings are equal
(with both clocks fixed), and prints the path chatfmt took and its speed-up per call. Timing is
benchmarks/timing.py's: interleaved rounds of thread CPU time, best round kept.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path

from transformers.utils import chat_template_utils
from transformers.utils.chat_template_utils import render_jinja_template

import chatfmt
from chatfmt.formats.builtin import BUILTINS

sys.path.insert(0, str(Path(__file__).resolve().parent))
from timing import best_seconds, hold_freed_memory  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
CORPUS = REPO / "tests" / "data" / "corpus" / "templates"
MODERN = [
    "Qwen--Qwen3-0.6B",
    "Qwen--Qwen3-4B-Instruct-2507",
    "Qwen--QwQ-32B",
    "meta-llama--Llama-3.2-3B-Instruct",
    "google--gemma-3-4b-it",
    "HuggingFaceTB--SmolLM3-3B",
    "mistralai--Mistral-Small-24B-Instruct-2501",
    "mistralai--Mistral-Small-3.2-24B-Instruct-2506",
    "ibm-granite--granite-3.0-8b-instruct",
    "ibm-granite--granite-3.3-2b-instruct",
    "deepseek-ai--DeepSeek-R1",
    "deepseek-ai--DeepSeek-R1-Distill-Qwen-32B",
    "meta-llama--Llama-3.1-8B-Instruct",  # an older compiled format, for comparison
]
MOMENT = dt.datetime(2026, 12, 2, 9, 30)

_WORDS = "the model reads every message and answers with care about data speed tests and prompts".split()


def sixty_words(seed: int) -> str:
    return " ".join(_WORDS[(seed * 7 + i * 3) % len(_WORDS)] for i in range(60)) + "."


CONVERSATION = [{"role": "system", "content": "You are a helpful assistant. Answer briefly."}]
for turn in range(3):
    CONVERSATION.append({"role": "user", "content": sixty_words(2 * turn)})
    CONVERSATION.append({"role": "assistant", "content": sixty_words(2 * turn + 1)})
CONVERSATION.append({"role": "user", "content": "And finally, summarise all of that in one line?"})


class _Fixed(dt.datetime):
    @classmethod
    def now(cls, tz=None):  # noqa: ARG003 - templates read naive local time
        return MOMENT


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    hold_freed_memory()
    chat_template_utils.datetime = _Fixed  # transformers' strftime_now reads this module's datetime
    tokens = {b.corpus_file: b.special_tokens for b in BUILTINS}
    print(f"{'template':48} {'path':9} {'chatfmt µs':>10} {'transformers µs':>15} {'speed-up':>8}")
    failed = False
    with chatfmt.fixed_clock(MOMENT):
        for name in MODERN:
            source = (CORPUS / f"{name}.jinja").read_text(encoding="utf-8")
            special = tokens.get(f"{name}.jinja", {})
            template = chatfmt.Template.from_jinja(source, special_tokens=special)

            def ours(template: chatfmt.Template = template) -> str:
                return template.render(CONVERSATION, add_generation_prompt=True)

            def theirs(source: str = source, special: dict = special) -> str:
                rendered, _ = render_jinja_template(
                    conversations=[CONVERSATION], chat_template=source, add_generation_prompt=True, **special
                )
                return rendered[0]

            if ours() != theirs():
                print(f"{name}: chatfmt and transformers differ")
                failed = True
                continue
            path = template.path_for(CONVERSATION, add_generation_prompt=True)
            best = best_seconds({"ours": ours, "theirs": theirs}, rounds=args.rounds)
            speed = best["theirs"] / best["ours"]
            print(f"{name:48} {path:9} {best['ours'] * 1e6:10.2f} {best['theirs'] * 1e6:15.1f} {speed:7.1f}x")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
