"""`Template.render_arrow`: every row's prompt is `Template.render` of that row, on the compiled kernel and
on the per-row path, for every built-in format, whatever Arrow layout the column comes in.

The per-row path is `chatfmt.columnar.render_arrow` with no format (what runs when the kernel is not
built or the call is not compiled); the kernel path is `Template.render_arrow` on a built-in format.
"""

from __future__ import annotations

import threading
from typing import Any

import pyarrow as pa
import pytest
from conftest import extensions_required
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import chatfmt
from chatfmt import _fast, columnar
from chatfmt.formats.builtin import FORMATS

pytestmark = pytest.mark.usefixtures("builder")  # rows the kernel hands back render on both builders

NAMES = sorted(FORMATS)
FAILED = "failed"

SAMPLES = [
    [{"role": "user", "content": "Hi"}],
    [
        {"role": "system", "content": " Be brief. "},
        {"role": "user", "content": "Hi\n"},
        {"role": "assistant", "content": "Hello!"},
    ],
    [{"role": "user", "content": "  é 你好 👋🏽  "}, {"role": "assistant", "content": "<think>hmm</think> ok"}],
    [{"role": "user", "content": ""}, {"role": "assistant", "content": ""}, {"role": "user", "content": "again"}],
    [{"role": "system", "content": "sys"}],
    [{"role": "tool", "content": "42"}, {"role": "user", "content": "x"}],
    [{"role": "developer", "content": "dev"}, {"role": "user", "content": "u"}],
    [{"role": "user", "content": "a"}, {"role": "user", "content": "b"}],  # templates that check alternation raise
    [{"role": "assistant", "content": "first"}],
    [{"role": "system", "content": "s"}, {"role": "system", "content": "t"}, {"role": "user", "content": "u"}],
    [
        {"role": "user", "content": "\u2003\u3000 wide spaces \x85"},
        {"role": "assistant", "content": "a</think>b</think>c"},
    ],
]


def expected(template: chatfmt.Template, rows: list[Any], **options: Any) -> list[Any]:
    """`Template.render` of each row, where a null conversation, message or role is an InvalidConversation."""
    out = []
    for row in rows:
        if row is None or any(m is None or m.get("role", "") is None for m in row):
            out.append((FAILED, "InvalidConversation", "null"))
            continue
        try:
            out.append(template.render(row, **options))
        except Exception as exc:
            out.append((FAILED, type(exc).__name__, str(exc)))
    return out


def via_arrow(template: chatfmt.Template, column: Any, path: str, **options: Any) -> list[Any]:
    if path == "kernel":
        result = template.render_arrow(column, on_error="null", **options)
    else:
        result = columnar.render_arrow(
            column,
            render_row=lambda row: template.render(row, **options),
            fmt=None,
            special_tokens=template.special_tokens,
            add_generation_prompt=options.get("add_generation_prompt", False),
            on_error="null",
        )
    texts = result.text.to_pylist()
    for failure in result.failures:
        assert texts[failure.row] is None
        texts[failure.row] = (FAILED, failure.error, failure.reason)
    return texts


def comparable(values: list[Any]) -> list[Any]:
    """Failures compare by type only (render_arrow reports InvalidConversation's reason without location)."""
    return [(value[0], value[1]) if isinstance(value, tuple) else value for value in values]


@pytest.fixture(params=["kernel", "rows"])
def path(request: pytest.FixtureRequest) -> str:
    return request.param


def _kernel_built() -> bool:
    try:
        import chatfmt._fast._arrow_c  # noqa: F401
    except ImportError:
        return False
    return True


def test_the_kernel_is_in_use_when_built() -> None:
    kernel = columnar._kernel(FORMATS["chatml"], tuple(sorted(chatfmt.get_template("chatml").special_tokens.items())))
    if not _fast.NO_EXTENSIONS and _kernel_built():
        assert kernel is not None
    elif extensions_required():
        pytest.fail("CHATFMT_REQUIRE_EXTENSIONS is set but the compiled builders are not in use")


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("agp", [False, True])
def test_every_builtin_format_matches_render(name: str, agp: bool, path: str) -> None:
    template = chatfmt.get_template(name)
    column = pa.array(SAMPLES)
    assert comparable(via_arrow(template, column, path, add_generation_prompt=agp)) == comparable(
        expected(template, SAMPLES, add_generation_prompt=agp)
    )


ODD_ROWS: list[Any] = [
    None,  # a null conversation
    [],  # empty: Template.render raises
    [None],  # a null message
    [{"role": None, "content": "x"}],  # a null role
    [{"role": "user", "content": None}],  # a null content renders as transformers renders None
    [{"role": "user", "content": "ok", "name": "alice"}],
    [
        {
            "role": "user",
            "content": "ok",
            "tool_calls": [{"type": "function", "function": {"name": "f", "arguments": "{}"}}],
        }
    ],
    [{"role": "assistant", "content": "x", "tool_calls": None}],
    [{"role": "ünknown", "content": "zz"}, {"role": "", "content": ""}],
]


@pytest.mark.parametrize(
    "name", ["chatml", "llama-3", "qwen2.5", "gemma", "mistral-v3", "deepseek-v3", "llama-2", "hermes-2-pro"]
)
def test_odd_rows(name: str, path: str) -> None:
    template = chatfmt.get_template(name)
    rows = ODD_ROWS + SAMPLES
    got = via_arrow(template, pa.array(rows), path, add_generation_prompt=True)
    assert comparable(got) == comparable(expected(template, rows, add_generation_prompt=True))
    reasons = {index: value[2] for index, value in enumerate(got) if isinstance(value, tuple)}
    assert reasons[0] == "the conversation is null"
    assert reasons[2] == "the message is null"
    assert reasons[3] == "'role' is null"


def test_non_string_contents_render_per_row(path: str) -> None:
    template = chatfmt.get_template("qwen2.5")
    blocks = [
        [{"role": "user", "content": [{"type": "text", "text": "Hi"}]}],
        [{"role": "user", "content": [{"type": "text", "text": "b"}]}],
    ]
    numbers = [[{"role": "user", "content": 7}], [{"role": "user", "content": None}]]
    for rows in (blocks, numbers):
        assert via_arrow(template, pa.array(rows), path) == expected(template, rows)


def as_list_view(rows: list[Any]) -> Any:
    """The rows as a list_view whose views run backwards over the values (legal, and unlike a list)."""
    values = [message for row in reversed(rows) for message in (row or [])]
    offsets, end = [], len(values)
    for row in rows:
        end -= len(row or [])
        offsets.append(end)
    sizes = [len(row or []) for row in rows]
    mask = pa.array([row is None for row in rows])
    return pa.ListViewArray.from_arrays(
        pa.array(offsets, pa.int32()), pa.array(sizes, pa.int32()), pa.array(values), mask=mask
    )


LAYOUTS = {
    "list<struct<string>>": lambda rows: pa.array(rows),
    "large_list": lambda rows: pa.array(
        rows, type=pa.large_list(pa.struct([("role", pa.string()), ("content", pa.string())]))
    ),
    "large_string": lambda rows: pa.array(
        rows, type=pa.list_(pa.struct([("role", pa.large_string()), ("content", pa.large_string())]))
    ),
    "string_view": lambda rows: pa.array(
        rows, type=pa.list_(pa.struct([("role", pa.string_view()), ("content", pa.string_view())]))
    ),
    "list_view": lambda rows: as_list_view(rows),
    "dictionary roles": lambda rows: pa.array(
        rows, type=pa.list_(pa.struct([("role", pa.dictionary(pa.int32(), pa.string())), ("content", pa.string())]))
    ),
    "content first": lambda rows: pa.array(
        [None if r is None else [{"content": m["content"], "role": m["role"]} for m in r] for r in rows]
    ),
}


@pytest.mark.parametrize("layout", list(LAYOUTS))
def test_arrow_layouts(layout: str) -> None:
    template = chatfmt.get_template("llama-3")
    rows = SAMPLES + [None] + SAMPLES
    column = LAYOUTS[layout](rows)
    assert comparable(via_arrow(template, column, "kernel")) == comparable(expected(template, rows))


def test_sliced_and_chunked_input_keeps_row_numbers() -> None:
    template = chatfmt.get_template("chatml")
    rows = SAMPLES * 3 + [None]
    array = pa.array(rows)
    sliced = array.slice(5, 20)
    assert via_arrow(template, sliced, "kernel") == via_arrow(template, pa.array(rows[5:25]), "kernel")
    chunked = pa.chunked_array([array.slice(0, 7), array.slice(7, 0), array.slice(7)])
    result = template.render_arrow(chunked, on_error="null")
    assert isinstance(result.text, pa.ChunkedArray)
    assert result.text.to_pylist()[:-1] == [template.render(r) for r in rows[:-1]]
    assert [f.row for f in result.failures] == [len(rows) - 1]


def test_output_type_and_plain_return() -> None:
    template = chatfmt.get_template("chatml")
    out = template.render_arrow(pa.array(SAMPLES[:3]), add_generation_prompt=True)
    assert out.type == pa.large_string()
    assert out.to_pylist() == [template.render(r, add_generation_prompt=True) for r in SAMPLES[:3]]


def test_pycapsule_objects_from_polars() -> None:
    polars = pytest.importorskip("polars")
    template = chatfmt.get_template("qwen2.5")
    rows = SAMPLES[:4]
    series = polars.Series("messages", rows)
    assert template.render_arrow(series).to_pylist() == [template.render(r) for r in rows]

    class OnlyArrayCapsule:  # the array protocol alone, as some libraries offer
        def __arrow_c_array__(self, requested_schema: Any = None) -> Any:
            return pa.array(rows).__arrow_c_array__(requested_schema)

    assert template.render_arrow(OnlyArrayCapsule()).to_pylist() == [template.render(r) for r in rows]


def test_not_arrow_is_a_type_error() -> None:
    with pytest.raises(TypeError, match="Arrow"):
        chatfmt.get_template("chatml").render_arrow(SAMPLES)


def test_on_error_modes() -> None:
    template = chatfmt.get_template("gemma")  # raises on non-alternating roles
    rows = [SAMPLES[0], SAMPLES[7], None, SAMPLES[0]]
    with pytest.raises(Exception) as raised:
        template.render_arrow(pa.array(rows))
    assert raised.value.row_index == 1
    import jinja2

    assert isinstance(raised.value, jinja2.TemplateError)  # the type transformers raises
    skipped = template.render_arrow(pa.array(rows), on_error="skip")
    assert skipped.text.to_pylist() == [template.render(SAMPLES[0])] * 2
    assert skipped.rows.to_pylist() == [0, 3]
    assert [(f.row, f.error) for f in skipped.failures] == [(1, "TemplateError"), (2, "InvalidConversation")]
    nulled = template.render_arrow(pa.array(rows), on_error="null")
    assert nulled.text.null_count == 2 and nulled.rows is None
    with pytest.raises(ValueError, match="on_error"):
        template.render_arrow(pa.array(rows), on_error="ignore")


@pytest.mark.parametrize("name", NAMES)
def test_spans_in_chars_and_bytes(name: str, path: str) -> None:
    template = chatfmt.get_template(name)
    rows = SAMPLES + ODD_ROWS
    if path == "kernel":
        chars = template.render_arrow(pa.array(rows), spans=True, on_error="null", add_generation_prompt=True)
        raw = template.render_arrow(pa.array(rows), spans="bytes", on_error="null", add_generation_prompt=True)
    else:
        chars, raw = (
            columnar.render_arrow(
                pa.array(rows),
                render_row=lambda row: template.render(row, add_generation_prompt=True),
                fmt=None,
                special_tokens=template.special_tokens,
                add_generation_prompt=True,
                spans=lambda row: template.render_spans(row, add_generation_prompt=True),
                span_unit=unit,
                on_error="null",
            )
            for unit in ("chars", "bytes")
        )
    assert chars.spans.type == pa.list_(pa.struct([("start", pa.int64()), ("end", pa.int64())]))
    for index in range(len(rows)):
        text = chars.text[index].as_py()
        if text is None:
            assert chars.spans[index].as_py() is None and raw.spans[index].as_py() is None
            continue
        # The row as Arrow gives it back (absent struct fields are None), as render_arrow renders it.
        reference = template.render_spans(pa.array(rows)[index].as_py(), add_generation_prompt=True)
        assert [(s["start"], s["end"]) for s in chars.spans[index].as_py()] == list(reference.generation), index
        data = text.encode()
        in_bytes = [(s["start"], s["end"]) for s in raw.spans[index].as_py()]
        assert [data[a:b].decode() for a, b in in_bytes] == [text[a:b] for a, b in reference.generation], index


def test_calls_the_format_does_not_cover_render_per_row() -> None:
    template = chatfmt.get_template("llama-3")
    rows = SAMPLES[:3]
    options = {"add_generation_prompt": True, "bos_token": "<B>"}
    assert template.render_arrow(pa.array(rows), **options).to_pylist() == [template.render(r, **options) for r in rows]
    jinja_only = chatfmt.Template("{% for m in messages %}[{{ m.role }}]{{ m.content }}{% endfor %}")
    assert jinja_only.render_arrow(pa.array(rows)).to_pylist() == [jinja_only.render(r) for r in rows]


def test_kernel_releases_the_gil_and_is_thread_safe() -> None:
    template = chatfmt.get_template("chatml")
    column = pa.array(SAMPLES * 200)
    reference = template.render_arrow(column)
    results: list[Any] = []
    threads = [threading.Thread(target=lambda: results.append(template.render_arrow(column))) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(result.equals(reference) for result in results)


utf8_text = st.one_of(
    st.text(st.characters(codec="utf-8"), max_size=30),
    st.sampled_from(["", " ", "\n", " pad ", "\u2003x\u3000", "\x85", "<think>a</think>b", "</think>", "é👋🏽"]),
)
arrow_roles = st.sampled_from(["system", "user", "assistant", "tool", "developer", "", "User", "ipython"])
arrow_message = st.one_of(
    st.fixed_dictionaries({"role": arrow_roles, "content": utf8_text}),
    st.fixed_dictionaries({"role": arrow_roles, "content": st.none()}),
)
arrow_rows = st.lists(st.one_of(st.none(), st.lists(arrow_message, max_size=6)), min_size=1, max_size=8)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=arrow_rows, name=st.sampled_from(NAMES), agp=st.booleans())
def test_generated_rows_match_render(rows: list[Any], name: str, agp: bool) -> None:
    template = chatfmt.get_template(name)
    column = pa.array(rows, type=pa.list_(pa.struct([("role", pa.string()), ("content", pa.string())])))
    assert comparable(via_arrow(template, column, "kernel", add_generation_prompt=agp)) == comparable(
        expected(template, rows, add_generation_prompt=agp)
    )


def test_a_none_valued_declined_key_is_rendered_as_if_absent(builder: Any) -> None:
    """transformers drops None-valued keys, so both builders cover `tool_calls: None` (as the kernel does)."""
    from oracle import hf_render

    template = chatfmt.get_template("llama-3.1")
    renderer = builder.Renderer(FORMATS["llama-3.1"], template.special_tokens)
    plain = [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello"}]
    with_none = [plain[0], {**plain[1], "tool_calls": None}]
    assert renderer.render(with_none, True) == renderer.render(plain, True) is not None
    assert renderer.render_spans(with_none, True) == renderer.render_spans(plain, True)
    assert template.render(with_none, add_generation_prompt=True) == hf_render(
        template.source, with_none, dict(template.special_tokens), add_generation_prompt=True
    )
