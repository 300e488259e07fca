"""Hostile templates that ask for a gigabyte in one operation are refused before Python allocates it.

Each would take about 1 GB (or exhaust memory) if the operation ran: the refusal must come quickly and
without the process growing by anything near that.
"""

from __future__ import annotations

import resource
import time

import pytest

import chatfmt
from chatfmt.jinja.limits import TemplateLimitExceeded

CHAT = [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}]
MAX_GROWTH_MB = 200

ONE_STEP_BLOWUPS = {
    "str.format width": "{{ '{:>1000000000}'.format('x') }}",
    "str.format nested width": "{{ '{:>{w}}'.format('x', w=10 ** 9) }}",
    "str.format precision": "{{ '{:.1000000000f}'.format(1.5) }}",
    "format_map": "{{ '{a:>1000000000}'.format_map({'a': 'x'}) }}",
    "percent width": "{{ '%1000000000s' % 'x' }}",
    "percent star width": "{{ '%*s' % (10 ** 9, 'x') }}",
    "center": "{{ 'x'.center(10 ** 9) }}",
    "zfill": "{{ '1'.zfill(10 ** 9) }}",
    "expandtabs": "{{ ('\\t' * 1000).expandtabs(10 ** 6) }}",
    "indent over many lines": "{{ ('x\\n' * 100000) | indent(100000) }}",
    "tojson indent": "{{ messages | tojson(indent=10 ** 9) }}",
    "tojson separators": "{{ range(100000) | list | tojson(separators=(',' * 100000, ':')) }}",
    "join separator": "{{ range(100000) | join('x' * 1000000) }}",
    "replace": "{{ ('a' * 100000).replace('a', 'b' * 100000) }}",
}


def _max_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


@pytest.mark.parametrize("source", list(ONE_STEP_BLOWUPS.values()), ids=list(ONE_STEP_BLOWUPS))
def test_one_step_blowups_are_refused_before_they_allocate(source: str) -> None:
    template = chatfmt.Template.from_jinja(source)
    before, started = _max_rss_mb(), time.monotonic()
    with pytest.raises(TemplateLimitExceeded, match="would exceed"):
        template.render(CHAT)
    assert time.monotonic() - started < 1
    assert _max_rss_mb() - before < MAX_GROWTH_MB
