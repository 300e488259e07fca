"""function_to_schema / tools_to_schemas against transformers' get_json_schema, the oracle."""

from __future__ import annotations

import enum
import json
import sys
import types
import typing
from typing import Any, Literal, Optional, Union

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

ctu = pytest.importorskip("transformers.utils.chat_template_utils")

from chatfmt.jinja import tools as T  # noqa: E402
from chatfmt.jinja.tools import (  # noqa: E402
    DocstringParsingError,
    TypeHintParsingError,
    function_to_schema,
    tools_to_schemas,
)

EXC_MAP: dict[type, type] = {
    ctu.TypeHintParsingException: TypeHintParsingError,
    ctu.DocstringParsingException: DocstringParsingError,
}


def outcome(fn, *args):
    """("ok", json text) or ("raise", exception type), for comparing two implementations."""
    try:
        return "ok", json.dumps(fn(*args))
    except Exception as exc:  # noqa: BLE001 - the type itself is what gets compared
        return "raise", type(exc)


def assert_same(func):
    theirs = ctu.get_json_schema(func)
    ours = function_to_schema(func)
    assert ours == theirs
    assert json.dumps(ours) == json.dumps(theirs)
    return ours


def assert_same_outcome(func):
    kind_t, val_t = outcome(ctu.get_json_schema, func)
    kind_o, val_o = outcome(function_to_schema, func)
    assert kind_o == kind_t, (val_t, val_o)
    if kind_t == "ok":
        assert val_o == val_t
    else:
        assert val_o is EXC_MAP.get(val_t, val_t), (val_t, val_o)


def assert_both_raise(func, ours: type[BaseException] = TypeHintParsingError):
    theirs = {TypeHintParsingError: ctu.TypeHintParsingException, DocstringParsingError: ctu.DocstringParsingException}
    with pytest.raises(theirs.get(ours, ours)):
        ctu.get_json_schema(func)
    with pytest.raises(ours) as info:
        function_to_schema(func)
    assert str(info.value)


def tool_with(hint: Any, *, with_return: bool = False):
    """A fresh one-argument tool whose parameter `x` (and optionally return) carries `hint`."""

    def tool(x):
        """A tool.

        Args:
            x: The x value.

        Returns:
            Something useful.
        """

    tool.__annotations__ = {"x": hint, "return": hint} if with_return else {"x": hint}
    return tool


# --- example tools ---------------------------------------------------------------------------------


class Color(enum.Enum):
    RED = "red"
    GREEN = "green"


class Level(enum.IntEnum):
    LOW = 1
    HIGH = 2


class Mixed(enum.Enum):
    A = 1
    B = "b"
    C = None
    D = 1.5
    E = True


class Empty(enum.Enum):
    pass


class BadEnum(enum.Enum):
    A = (1, 2)


class Custom:
    pass


def basic(a: int, b: float, c: str, d: bool, e: None, f: Any = None):
    """Basic types.

    Args:
        a: An int.
        b: A float.
        c: A string.
        d: A bool.
        e: Nothing.
        f: Anything.
    """


def optional(a: int | None, b: int | None, c: str | None = None, d: Any | None = None):
    """Optionals in every spelling.

    Args:
        a: A
        b: B
        c: C
        d: D
    """


def unions(a: int | str, b: str | int | float, c: list | tuple, d: int | str | None, e: bool | int):
    """Unions of basic types.

    Args:
        a: A
        b: B
        c: C
        d: D
        e: E
    """


def complex_unions(
    a: list[int] | str,
    b: Literal["x", "y"] | int,
    c: Color | None,
    d: int | Any,
    e: dict[str, int] | list[str] | None,
    f: tuple[int, str] | None,
):
    """Unions with members that carry more than a type.

    Args:
        a: A
        b: B
        c: C
        d: D
        e: E
        f: F
    """


def literals(a: Literal["a", "b"], b: Literal[1, "one", 2.5, True, None], c: Literal[3], d: Literal[True, 1, "x", 2]):
    """Literal values.

    Args:
        a: A
        b: B
        c: C
        d: D
    """


def enums(a: Color, b: Level, c: Mixed = Mixed.A):
    """Enum classes.

    Args:
        a: A
        b: B
        c: C
    """


def containers(
    a: list,
    b: list[str],
    c: list[list[int]],
    d: tuple,
    e: tuple[int, str, float],
    f: dict,
    g: dict[str, int],
    h: list[int],
    i: dict[str, list[bool]],
    j: tuple[int, int],
    k: tuple[()],
    m: list,
):
    """Containers.

    Args:
        a: A
        b: B
        c: C
        d: D
        e: E
        f: F
        g: G
        h: H
        i: I
        j: J
        k: K
        m: M
    """


def choices(drink: str, size: int, pick: Literal["a", "b"], odd: str):
    """Pick a drink.

    Args:
        drink: The drink to pick (choices: ["tea ", " coffee"])
        size: A size (CHOICES: [1, 2, 3])
        pick: Overridden enum (choices: ["c"])
        odd: Choices mid-text (choices: ["a"]) are not at the end, so they stay
    """


def multiline(first: int, second: str, third: float, fourth: bool):
    """Summary line
    continued here.

    More summary text.

    Args:
        first: The first argument, whose description
            runs over several lines
            and keeps going.
        second:
            Starts on the next line.
        third: Has a nested colon line
            note: still third.
        fourth: Last one.

    Returns:
        The result, described over
        two lines.

    Raises:
        ValueError: never.
    """


def no_returns_block(x: int) -> str:
    """Returns hint without a Returns block.

    Args:
        x: X.
    """


def with_returns(x: int) -> dict[str, int]:
    """Returns hint and block.

    Args:
        x: X.

    Returns:
        A mapping.
    """


def unconvertible_return(x: int) -> Custom:
    """Return hints that cannot be converted are dropped.

    Args:
        x: X.

    Returns:
        Something custom.
    """


def returns_none(x: int = 3) -> None:
    """Returns None.

    Args:
        x: X.
    """


def varargs(*args: int, flag: bool = False, **kwargs: str):
    """Variadic parameters.

    Args:
        args: Positional values.
        flag: A flag.
        kwargs: Extra values.
    """


def no_args() -> int:
    """Takes nothing."""


class Holder:
    def method(self, x: int, y: str = "a") -> str:
        """A method.

        Args:
            x: X.
            y: Y.
        """

    @classmethod
    def klass(cls, x: int):
        """A classmethod.

        Args:
            x: X.
        """

    @staticmethod
    def static(x: int):
        """A staticmethod.

        Args:
            x: X.
        """

    def typed_self(self: Holder, x: int):  # noqa: F821 - resolved from module globals
        """Annotated self is a real argument.

        Args:
            x: X.
        """


GOOD = [
    basic,
    optional,
    unions,
    complex_unions,
    literals,
    enums,
    containers,
    choices,
    multiline,
    no_returns_block,
    with_returns,
    unconvertible_return,
    returns_none,
    varargs,
    no_args,
    Holder.method,  # plain function: self skipped as unannotated receiver
    Holder().method,
    Holder.klass,
    Holder.static,
]


@pytest.mark.parametrize("func", GOOD, ids=lambda f: getattr(f, "__qualname__", repr(f)))
def test_matches_transformers(func):
    assert_same(func)


def test_some_expected_shapes():
    """Spot checks that the oracle comparison is not vacuous."""
    s = function_to_schema(unions)["function"]["parameters"]["properties"]
    assert s["b"]["type"] == ["integer", "number", "string"]
    assert s["c"]["type"] == "array"
    assert s["d"] == {"type": ["integer", "string"], "nullable": True, "description": "D"}
    lit = function_to_schema(literals)["function"]["parameters"]["properties"]["b"]
    assert lit["type"] == ["integer", "string", "number", "boolean", "null"]
    c = function_to_schema(choices)["function"]["parameters"]["properties"]
    assert c["drink"] == {"type": "string", "enum": ["tea", "coffee"], "description": "The drink to pick"}
    assert c["pick"] == {"type": "string", "enum": ["c"], "description": "Overridden enum"}
    assert "return" not in function_to_schema(unconvertible_return)["function"]
    assert function_to_schema(Holder().method)["function"]["parameters"]["required"] == ["x"]


def test_pil_image_maps_to_image():
    pil_image = pytest.importorskip("PIL.Image")
    tool = tool_with(pil_image.Image, with_return=True)
    assert assert_same(tool)["function"]["parameters"]["properties"]["x"]["type"] == "image"


def test_torch_tensor_maps_to_audio_only_when_loaded(monkeypatch):
    class Tensor:
        pass

    fake = types.ModuleType("torch")
    fake.Tensor = Tensor  # type: ignore[attr-defined]
    tool = tool_with(Tensor)
    with pytest.raises(TypeHintParsingError):
        function_to_schema(tool)
    monkeypatch.setitem(sys.modules, "torch", fake)
    assert function_to_schema(tool)["function"]["parameters"]["properties"]["x"] == {
        "type": "audio",
        "description": "The x value.",
    }


# --- errors ------------------------------------------------------------------------------------------


def no_doc(x: int):
    pass


def missing_description(x: int, y: int):
    """Only x is described.

    Args:
        x: X.
    """


def missing_hint(x: int, y):
    """y has no hint.

    Args:
        x: X.
        y: Y.
    """


def missing_hint_and_doc(x):
    pass


def custom_class(x: Custom):
    """Custom.

    Args:
        x: X.
    """


def typed_arg_style(x: int):
    """Types in parentheses are not understood.

    Args:
        x (int): X.
    """


@pytest.mark.parametrize(
    ("func", "exc"),
    [
        (no_doc, DocstringParsingError),
        (missing_hint_and_doc, DocstringParsingError),  # docstring is checked first
        (missing_description, DocstringParsingError),
        (typed_arg_style, DocstringParsingError),
        (missing_hint, TypeHintParsingError),
        (custom_class, TypeHintParsingError),
        (Holder().typed_self, TypeHintParsingError),
        (tool_with(Empty), TypeHintParsingError),
        (tool_with(BadEnum), TypeHintParsingError),
        (tool_with(tuple[int]), TypeHintParsingError),
        (tool_with(tuple[int, ...]), TypeHintParsingError),
        (tool_with(tuple[...]), TypeHintParsingError),
        (tool_with(Literal[b"x"]), TypeHintParsingError),
        (tool_with(Literal[Color.RED]), TypeHintParsingError),
        (tool_with(set[int]), TypeHintParsingError),
        (tool_with(typing.Sequence[int]), TypeHintParsingError),
        (tool_with(typing.Callable[[int], int]), TypeHintParsingError),
        (tool_with(Optional[tuple[int]]), TypeHintParsingError),
        (tool_with(list[Custom]), TypeHintParsingError),
        (tool_with(bytes), TypeHintParsingError),
        (tool_with(...), TypeHintParsingError),
        (tool_with([int]), TypeError),  # unhashable hint: same TypeError as transformers' dict lookup
        (tool_with("Undefined"), NameError),
    ],
)
def test_raises_like_transformers(func, exc):
    assert_both_raise(func, exc)


def test_bad_choices_json_raises_json_error():
    def tool(x: str):
        """T.

        Args:
            x: X (choices: [tea, coffee])
        """

    with pytest.raises(json.JSONDecodeError):
        ctu.get_json_schema(tool)
    with pytest.raises(json.JSONDecodeError):
        function_to_schema(tool)


def test_messages_are_helpful():
    with pytest.raises(DocstringParsingError, match="no_doc.*no docstring"):
        function_to_schema(no_doc)
    with pytest.raises(DocstringParsingError, match="argument 'y'"):
        function_to_schema(missing_description)
    with pytest.raises(TypeHintParsingError, match="Argument y is missing a type hint in function missing_hint"):
        function_to_schema(missing_hint)
    with pytest.raises(TypeHintParsingError, match="Custom"):
        function_to_schema(custom_class)
    with pytest.raises(TypeHintParsingError, match="single element"):
        function_to_schema(tool_with(tuple[int]))
    with pytest.raises(TypeHintParsingError, match=r"\.\.\."):
        function_to_schema(tool_with(tuple[int, ...]))
    with pytest.raises(TypeHintParsingError, match="Empty"):
        function_to_schema(tool_with(Empty))
    assert issubclass(TypeHintParsingError, ValueError) and issubclass(DocstringParsingError, ValueError)


# --- tools_to_schemas ---------------------------------------------------------------------------------


def test_tools_to_schemas():
    assert tools_to_schemas(None) is None
    assert tools_to_schemas([]) == []
    raw = {"type": "function", "function": {"name": "raw"}}
    out = tools_to_schemas([raw, basic, Holder().method])
    assert out is not None and out[0] is raw
    assert out[1] == ctu.get_json_schema(basic)
    assert out[2] == ctu.get_json_schema(Holder().method)


@pytest.mark.parametrize("bad", [len, Holder, "name", 3, object(), [1]])
def test_tools_to_schemas_rejects_non_tools(bad):
    with pytest.raises(ValueError, match="^Tools should either be a JSON schema, or a callable function") as info:
        tools_to_schemas([bad])
    assert type(info.value) is ValueError


def test_tools_to_schemas_matches_render():
    """The tools a template receives through transformers' render_jinja_template."""
    template = "{{ tools | tojson }}"
    raw = {"type": "function", "function": {"name": "raw", "parameters": {}}}
    tools = [raw, multiline, Holder().method, lambda: None]
    with pytest.raises(ctu.DocstringParsingException):
        ctu.render_jinja_template([[]], tools=tools, chat_template=template)
    with pytest.raises(DocstringParsingError):
        tools_to_schemas(tools)
    tools = tools[:3]
    rendered, _ = ctu.render_jinja_template([[]], tools=tools, chat_template=template)
    assert json.loads(rendered[0]) == tools_to_schemas(tools)


def test_import_is_cheap():
    import subprocess

    code = (
        "import sys; import chatfmt.jinja.tools; "
        "bad = [m for m in ('transformers', 'torch', 'PIL', 'numpy') if m in sys.modules]; print(bad)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


# --- generated inputs -------------------------------------------------------------------------------

_DOC_TOKENS = [
    "Args:",
    "Args:\n",
    "Returns:",
    "Returns:\n",
    "Raises:",
    "Raises:\n",
    "\n",
    "\n",
    "\n",
    " ",
    "    ",
    "        ",
    "\t",
    "a",
    "b",
    "a:",
    "b:",
    "arg_1:",
    "x (int):",
    ":",
    "text",
    " more words",
    '(choices: ["p", " q "])',
    "(CHOICES: [1, 2])",
    "(choices: )",
    "(",
    ")",
    "\u00a0",
    "\x85",
    "\u2028",
    "\r",
    "\x0c",
    "é",
    "-",
]
_noise = st.lists(
    st.one_of(st.sampled_from(_DOC_TOKENS), st.text(alphabet=" \t\n:ab()_Args", max_size=4)), max_size=40
).map("".join)
_indent = st.sampled_from(["", " ", "  ", "    ", "\t", "     ", "        "])
_words = st.lists(st.sampled_from(_DOC_TOKENS[12:] + ["word", "x", "note:"]), max_size=6).map("".join)
_arg_line = st.tuples(
    _indent,
    st.sampled_from(["a", "b", "a", "b", "c", "arg_1", "a (int)"]),
    _words,
    st.lists(st.tuples(_indent, _words)),
).map(lambda t: f"{t[0]}{t[1]}:{t[2]}" + "".join(f"\n{ind}{w}" for ind, w in t[3]))
_section = st.tuples(
    _indent,
    st.sampled_from(["Args:", "Returns:", "Raises:", "Args:", "Args: "]),
    st.sampled_from(["\n", "\n\n", " \n"]),
    st.lists(_arg_line, max_size=4).map("\n".join),
).map("".join)
_structured = st.tuples(
    _words, st.lists(st.tuples(st.sampled_from(["\n", "\n\n", "\n \n"]), _section), max_size=4)
).map(lambda t: t[0] + "".join(sep + sec for sep, sec in t[1]))
docstrings = st.one_of(_noise, _structured, _structured)


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(docstrings)
def test_docstring_parser_matches(doc):
    assert T._parse_docstring(doc) == ctu.parse_google_format_docstring(doc)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(docstrings)
def test_generated_docstrings_match(doc):
    def tool(a: int, b: Literal["p", "q"] = "p") -> str:
        pass

    tool.__doc__ = doc
    assert_same_outcome(tool)


_scalar_hints = st.sampled_from([int, float, str, bool, type(None), Any, list, tuple, dict, Color, Level, Mixed])
_bad_hints = st.sampled_from([Custom, Empty, bytes, set[int], tuple[int], tuple[int, ...]])
_literal_values = st.one_of(
    st.integers(-2, 2), st.booleans(), st.none(), st.sampled_from(["a", "b", ""]), st.sampled_from([0.5, -1.0])
)


def _extend(children):
    return st.one_of(
        children.map(lambda h: list[h]),
        st.lists(children, min_size=2, max_size=3).map(lambda hs: tuple[tuple(hs)]),
        children.map(lambda h: dict[str, h]),
        st.lists(children, min_size=1, max_size=4).map(lambda hs: Union[tuple(hs)]),
        children.map(lambda h: Optional[h]),
    )


hints = st.recursive(
    st.one_of(
        _scalar_hints,
        _scalar_hints,
        _bad_hints,
        st.lists(_literal_values, min_size=1, max_size=4).map(lambda vs: Literal[tuple(vs)]),
    ),
    _extend,
    max_leaves=6,
)


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(hints, st.booleans())
def test_generated_hints_match(hint, with_return):
    assert_same_outcome(tool_with(hint, with_return=with_return))


@pytest.mark.parametrize(
    "desc",
    [
        "X (choices: [1] )",
        "X (choices:\u00a0[1])",
        "X (choices: [1]\u00a0)",  # json.loads refuses the trailing NBSP: both raise
        'X (choices: "ab")',  # a JSON string is iterated character by character
        'X (choices: {"k": 1})',
        "X (choices: 5)",  # not iterable: TypeError in both
        "X (choices: [1]) (choices: [2])",  # the leftmost marker wins
        "X (Choices: [1, 2.5, null, true, [3]])",
        "X (choices: [1]) trailing",
        "(choices: [1])",
    ],
)
def test_choices_edge_cases(desc):
    def tool(x: str):
        pass

    tool.__doc__ = f"T.\n\nArgs:\n    x: {desc}\n"
    assert_same_outcome(tool)


def _deco(f):
    import functools

    @functools.wraps(f)
    def wrapper(*args, **kwargs):
        return f(*args, **kwargs)

    return wrapper


@_deco
def wrapped(x: int, y: str = "a"):
    """Signature follows __wrapped__, hints come from the copied __annotations__.

    Args:
        x: X
        y: Y
    """


class CallableTool:
    """A callable instance: transformers reads the class docstring and annotations.

    Args:
        x: X
    """

    x: int

    def __call__(self, x: int):
        pass


class ClassTool:
    """A class passed as the tool.

    Args:
        a: A
    """

    a: int

    def __init__(self, a: int):
        pass


def _numpy_default(size: int):
    np = pytest.importorskip("numpy")

    def tool(x: list = np.zeros(size)):
        pass

    tool.__doc__ = "T.\n\nArgs:\n    x: X\n"
    return tool


@pytest.mark.parametrize(
    "make",
    [
        lambda: wrapped,
        lambda: CallableTool(),
        lambda: ClassTool,
        lambda: Holder,
        lambda: __import__("functools").partial(basic, 1),  # TypeError from get_type_hints in both
        lambda: len,
        lambda: _numpy_default(1),
        lambda: _numpy_default(2),  # `default == empty` on an array raises ValueError in both
    ],
)
def test_unusual_callables(make):
    assert_same_outcome(make())
